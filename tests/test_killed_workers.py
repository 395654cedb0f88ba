"""A worker process killed mid-run (kill -9, the OOM killer) during `dltui sweep` and `dltui check`:
a clear message naming the run it had, that run marked killed (as the runs overview shows it), the
finished runs kept, exit 1 (not 130, which is Ctrl-C), and a rerun that reuses the finished runs
and trains the killed one again. Real worker processes, really killed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from dltui.core.runs.store.scan import scan_runs

LONG = 8000  # epochs: seconds of training, long enough to be killed mid-run, short enough to redo


def _start(args: list[str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "dltui.tui.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def _status(d: Path) -> dict:
    try:
        return json.loads((d / "status.json").read_text() or "{}")
    except (OSError, ValueError):
        return {}


def _training(root: Path, n: int, proc: subprocess.Popen, past: int = 1) -> list[Path]:
    """Wait until ``n`` runs under ``root`` train (``past`` epochs done); their folders."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        dirs = sorted(root.iterdir()) if root.exists() else []
        busy = [d for d in dirs if d.is_dir() and _status(d).get("state") == "running"
                and _status(d).get("epoch", 0) >= past]
        if len(busy) >= n:
            return busy
        time.sleep(0.05)
    proc.kill()
    raise AssertionError(f"no {n} runs training in {root}: {proc.communicate()}")


def _kill_one(busy: list[Path], proc: subprocess.Popen) -> tuple[Path, str]:
    victim = busy[0]
    os.kill(_status(victim)["pid"], signal.SIGKILL)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 1, stderr
    assert "Traceback" not in stderr, stderr
    return victim, stderr


def test_sweep_with_a_killed_worker_marks_its_run_killed_exits_1_and_reruns_it(tmp_path):
    out = tmp_path / "sw"
    argv = ["sweep", "piecewise-relu", "--grid", f"training.epochs=3,{LONG}", "--seeds", "2", "--jobs", "2",
            "--set", "training.patience=0", "--out", str(out)]
    proc = _start(argv)
    busy = _training(out, 2, proc, past=4)  # the two long runs (row 1): the short ones (row 0) end at 3
    assert {d.name for d in busy} == {"r1-s1", "r1-s2"}
    victim, stderr = _kill_one(busy, proc)
    other = ({"r1-s1", "r1-s2"} - {victim.name}).pop()
    assert f"the run it was training, {victim.name}, is marked killed" in stderr
    assert f"stopped with it (the pool cannot go on): {other}" in stderr
    assert "2/4 runs finished and are kept" in stderr and "rerun the same command" in stderr
    assert _status(victim)["state"] == "finished" and _status(victim)["end"]["reason"] == "killed"
    assert _status(out / other)["end"]["reason"] == "stopped"
    states = {Path(r.name).name: r.state for r in scan_runs(out)}
    assert states == {"r0-s1": "completed", "r0-s2": "completed", victim.name: "killed", other: "stopped"}
    saved = json.loads((out / "sweep.json").read_text())
    assert [r["reason"] for r in saved["runs"]][:2] == ["completed", "completed"]

    again = subprocess.run([sys.executable, "-m", "dltui.tui.cli", *argv], capture_output=True, text=True,
                           timeout=600)
    assert again.returncode == 0, again.stderr
    assert again.stderr.count(": reused") == 2  # row 0; row 1 trained again
    assert _status(victim)["end"]["reason"] == "completed" and _status(victim)["end"]["epochs_run"] == LONG


CLAIM = f"""
[about]
title = "long"
[data]
kind = "piecewise"
kinks = 3
n_samples = 64
[model]
hidden = [8]
[optimizer]
lr = 0.01
[training]
epochs = {LONG}
batch_size = 16
[claim]
relation = "below"
than_set = ["training.epochs=3"]
seeds = 2
"""


def test_check_with_a_killed_worker_exits_1_not_130_and_names_the_run(tmp_path):
    preset = tmp_path / "long.toml"
    preset.write_text(CLAIM)
    cache = tmp_path / "cache"
    argv = ["check", str(preset), "--jobs", "2", "--out", str(cache)]
    proc = _start(argv)
    victim, stderr = _kill_one(_training(cache, 2, proc, past=4), proc)  # long runs: the 3-epoch ones end
    assert f"{victim.name}, is marked killed" in stderr and "kept in the cache" in stderr
    assert _status(victim)["end"]["reason"] == "killed"
    assert not any(_status(d).get("state") == "running" for d in cache.iterdir())

    again = subprocess.run([sys.executable, "-m", "dltui.tui.cli", *argv], capture_output=True, text=True,
                           timeout=600)
    assert again.returncode == 0 and "1/1 claims hold" in again.stdout, again.stderr
    assert _status(victim)["end"]["reason"] == "completed"

"""Core tidy-ups from review: gradients of a run's final weights recomputed only when someone asks;
pacing and the layer log use the trainer's public surface; resume reads the last checkpoint once;
the last checkpoint's metrics are the last epoch row; continue_run is on the RunControl protocol;
`dltui predict --out` refuses to replace a file without --overwrite."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
from dltui.core import Trainer, load_preset
from dltui.core.runs.store import checkpoint as ck
from dltui.core.runs.store.layerlog import LayerLog, read_layer_stats
from dltui.tui.cli import main

ROOT = Path(__file__).resolve().parents[1]


def _counting_refresh(t):
    calls = []
    orig = t.backend.refresh_grads

    def refresh():
        calls.append(t.step)
        orig()
    t.backend.refresh_grads = refresh
    return calls


def test_a_headless_run_nobody_looks_at_skips_the_full_set_pass():
    t = Trainer(load_preset("xor", {"training.epochs": 3}))
    calls = _counting_refresh(t)
    t.fit()
    assert calls == [] and t.grads_stale
    seen = []
    t._callbacks = [seen.append]
    t.emit_stats()  # a view asks: the gradients of the weights it ended with, once
    t.emit_stats()
    assert calls == [t.step] and not t.grads_stale and len(seen) == 2
    g = t.backend.get_grads()
    t.backend.refresh_grads()
    assert all(np.array_equal(a, b) for a, b in zip(g, t.backend.get_grads()))  # the whole-set gradients


def test_the_layer_logs_last_record_has_the_final_weights_gradients(tmp_path):
    t = Trainer(load_preset("xor", {"training.epochs": 3}), out_dir=tmp_path)
    calls = _counting_refresh(t)
    t.fit(callbacks=[LayerLog(t, tmp_path, every=1e9)])
    last = read_layer_stats(tmp_path)[-1]
    assert calls == [t.step] and last.step == t.step
    assert [s.g_norm for s in last.layers] == pytest.approx([float(np.linalg.norm(g)) for g in t.backend.get_grads()])


def test_a_live_run_refreshes_before_the_view_learns_of_the_end():
    from dltui.core.runs import LiveRun

    live = LiveRun(load_preset("xor", {"training.epochs": 2}), start=True)
    calls = _counting_refresh(live.trainer)
    live._fit()  # on this thread: the trainer's events reach the run's queue
    assert calls == [live.trainer.step] and not live.trainer.grads_stale


def _private_uses(path: Path, names: tuple[str, ...]) -> list[str]:
    """Attributes starting with '_' read off ``names`` (``tr``, ``self.trainer``) in a module."""
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            owner = ast.unparse(node.value)
            if owner in names:
                out.append(f"{owner}.{node.attr}")
    return out


def test_pacing_and_the_layer_log_use_the_trainers_public_surface():
    assert _private_uses(ROOT / "core" / "training" / "pacing.py", ("tr",)) == []
    assert _private_uses(ROOT / "core" / "runs" / "store" / "layerlog.py", ("self.trainer", "trainer")) == []


def test_pacing_sleeps_and_wakes_through_wait_for_control():
    import threading
    import time

    t = Trainer(load_preset("xor", {"training.epochs": 1000}), pace=0.001)  # one step each 1000 s
    th = threading.Thread(target=t.fit, daemon=True)
    th.start()
    deadline = time.monotonic() + 60
    while t.step < 1 and time.monotonic() < deadline:  # the first step, then the long paced sleep
        time.sleep(0.01)
    t.stop()  # wakes the paced sleep: without it the thread would sleep for 1000 s
    th.join(60)
    assert t.step >= 1 and not th.is_alive() and t.step <= 2


def test_resume_reads_the_last_checkpoint_once_and_its_metrics_are_the_last_row(tmp_path, monkeypatch):
    from dltui.core.training.resume import resume_trainer

    t = Trainer(load_preset("xor", {"training.epochs": 3}), out_dir=tmp_path)
    t.fit()
    _, info = ck.load_checkpoint(tmp_path / "last.safetensors")
    h = t.history[-1]
    assert info["metrics"] == {"train_loss": h.train_loss, "val_loss": h.val_loss, "val_metric": h.val_metric,
                               "step": t.step, "partial_epoch": False}
    reads = []
    orig = ck.read_safetensors
    monkeypatch.setattr(ck, "read_safetensors", lambda p: (reads.append(Path(p).name), orig(p))[1])
    r = resume_trainer(tmp_path, {"training.epochs": 4})
    assert reads.count("last.safetensors") == 1 and r.step == t.step
    assert not hasattr(ck, "loads_safetensors")


def test_continue_run_is_on_the_control_protocol_and_folders_have_no_control(tmp_path):
    from dltui.core.runs import FinishedRun, LiveRun, Run, WatchedRun
    from dltui.core.runs.base import RunControl

    assert "continue_run" in RunControl.__dict__ and "continue_run" not in Run.__dict__  # the narrow Run
    Trainer(load_preset("xor", {"training.epochs": 2}), out_dir=tmp_path).fit()
    for r in (WatchedRun(tmp_path), FinishedRun(tmp_path)):
        r.poll()
        assert isinstance(r, Run) and r.control is None and not hasattr(r, "continue_run")  # no stubs
    live = LiveRun(load_preset("xor", {"training.epochs": 2}))
    assert isinstance(live.control, RunControl)
    live.close()


def test_predict_refuses_to_replace_a_file_without_overwrite(tmp_path, capsys):
    rows = "".join(f"{i},{i % 7},{i * 0.5},{i % 3}\n" for i in range(60))
    (tmp_path / "d.csv").write_text("id,a,b,y\n" + rows)
    (tmp_path / "p.toml").write_text('[data]\nkind = "csv"\n[training]\nepochs = 2\nbatch_size = 16\n')
    run = tmp_path / "run"
    assert main(["train", str(tmp_path / "p.toml"), "--data", str(tmp_path / "d.csv"), "--out", str(run),
                 "--quiet"]) == 0
    out = tmp_path / "pred.csv"
    out.write_text("my earlier predictions\n")
    capsys.readouterr()
    args = ["predict", str(run), "--data", str(tmp_path / "d.csv"), "--out", str(out)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "exists" in err and "--overwrite" in err and "Traceback" not in err
    assert out.read_text() == "my earlier predictions\n"
    assert main([*args, "--overwrite"]) == 0
    assert out.read_text().startswith("id,y\n") and out.read_text().count("\n") == 61

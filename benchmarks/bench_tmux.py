"""The real app in a real terminal (tmux), where Textual's headless test mode cannot see a GIL-starved UI.

    python benchmarks/bench_tmux.py stalls [--runs 10] [--seconds 8] [--preset piecewise-sigmoid]
    python benchmarks/bench_tmux.py rss [--epochs 200000]
    python benchmarks/bench_tmux.py keys [--runs 20]
    python benchmarks/bench_tmux.py screen [--seconds 12]
    python benchmarks/bench_tmux.py watch [--epochs 200000] [--runs 5]
    python benchmarks/bench_tmux.py speed [--epochs 6000] [--runs 10]
    (stalls and speed: --keys w opens the network view first, as a person would, before training runs)

``stalls``: starts `dltui PRESET --start --pace max` at 100x30, reads the status line every ~20 ms while
it trains and records how long it stood still (the app redraws it every 0.2 s while running, so a gap
over 0.5 s - a redraw late by more than 0.3 s - is a stall: the UI thread did not get to run). Reports
per run the worst gap and the share of time in stalls; then the median and range over runs.
``DLTUI_YIELD_MS=0`` in the environment turns the training thread's GIL yields off, for comparison.
``rss``: one long run at max pace; the app's resident memory read (psutil) against the epoch on screen,
from epoch 10k to the end: flat memory means bounded history.
``keys``: key-to-screen while it trains at max: `-` and `=` in turn (pace 10k/s and back to max), the
time until the status line shows the new pace (polled every ~5 ms); median and range.
``screen``: the default (preset) pace: the screen still changes after 10 s and the run is not over.
``watch``: `dltui watch RUN` on a finished run folder whose metrics log has ``--epochs`` rows (a real
3-epoch run's folder, its log rewritten to that length): seconds from starting the process to a status
line that shows the last epoch (Python's start and imports included); median and range.
``speed``: in-app throughput at max pace against headless `dltui train` of the same preset and epochs,
both in tmux at 100x30, alternating (the app opened paused, its screen drawn, then space, as a person
starts it); each side's steps/s is the trainer's own clock from its run folder (the last metrics row:
steps over seconds of training), so start-up and the key press are not counted. Prints the pairs'
ratios (app / headless) with their median and range, and the UI thread's CPU share while it trained.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

SOCKET = f"dltui-bench-{os.getpid()}"
WORKDIR = tempfile.mkdtemp(prefix="dltui-bench-")  # the app's run folders go there
REDRAW = 0.2  # the status line's redraw interval while running
STALL = REDRAW + 0.3  # a redraw late by more than 0.3 s


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", "-L", SOCKET, *args], capture_output=True, text=True, timeout=10).stdout


def start(args: str, width: int = 100, height: int = 30) -> None:
    cmd = f"OPENBLAS_NUM_THREADS=1 {sys.executable} -m dltui.tui.cli {args}"
    env = {**os.environ, "TERM": "xterm-256color"}
    for _attempt in range(5):  # the previous server may still be going away
        r = subprocess.run(["tmux", "-L", SOCKET, "new-session", "-d", "-s", "b", "-x", str(width), "-y",
                            str(height), "-c", WORKDIR, cmd], env=env, timeout=10, capture_output=True)
        if r.returncode == 0:
            return
        time.sleep(0.5)
    raise SystemExit(f"tmux could not start: {r.stderr.decode().strip()}")


def stop() -> None:
    tmux("kill-server")
    time.sleep(0.3)


def status_line() -> str:
    return tmux("capture-pane", "-p", "-t", "b", "-S", "0", "-E", "0").strip()


def epoch_of(s: str) -> int:
    m = re.search(r"epoch (\d+)/\d+", s)
    return int(m.group(1)) if m else -1


def wait_running(timeout: float = 30.0) -> None:
    t0 = time.monotonic()
    while "RUNNING" not in status_line():
        if time.monotonic() - t0 > timeout:
            raise SystemExit("the app did not start running; screen:\n" + tmux("capture-pane", "-p", "-t", "b"))
        time.sleep(0.05)


def send_keys(keys: str) -> None:
    """Keys a person presses before looking (--keys: e.g. w, the network view), one by one."""
    for k in keys:
        tmux("send-keys", "-t", "b", k)
        time.sleep(0.3)


def one_stall_run(preset: str, seconds: float, keys: str = "") -> tuple[float, float, int]:
    """(worst gap s, share of time in gaps > STALL, epochs reached) of one run."""
    start(f"{preset} --start --pace max --epochs 10000000 --set training.patience=0")
    try:
        wait_running()
        send_keys(keys)
        last, changed_at, t0 = status_line(), time.monotonic(), time.monotonic()
        gaps = []
        while time.monotonic() - t0 < seconds:
            s = status_line()
            now = time.monotonic()
            if s != last:
                gaps.append(now - changed_at)
                last, changed_at = s, now
            time.sleep(0.02)
        gaps.append(time.monotonic() - changed_at)
        stalled = sum(g for g in gaps if g > STALL)
        return max(gaps), stalled / (time.monotonic() - t0), epoch_of(last)
    finally:
        stop()


def cmd_stalls(a) -> None:
    worst, shares = [], []
    for i in range(a.runs):
        w, share, ep = one_stall_run(a.preset, a.seconds, a.keys)
        worst.append(w)
        shares.append(share)
        print(f"run {i + 1}: worst status-line gap {w:.2f} s, {share:.1%} of the time in gaps > {STALL} s, "
              f"epoch {ep}", flush=True)
    print(f"worst gap: median {statistics.median(worst):.2f} s (range {min(worst):.2f}-{max(worst):.2f}); "
          f"runs with a stall > {STALL} s: {sum(w > STALL for w in worst)}/{a.runs}; "
          f"time stalled: median {statistics.median(shares):.1%} (range {min(shares):.1%}-{max(shares):.1%})")


def app_pid() -> int:
    import psutil

    pane = int(tmux("display-message", "-p", "-t", "b", "#{pane_pid}").strip())
    procs = [psutil.Process(pane)] + psutil.Process(pane).children(recursive=True)
    return max(procs, key=lambda p: p.memory_info().rss).pid


def cmd_rss(a) -> None:
    import psutil

    start(f"{a.preset} --start --pace max --epochs {a.epochs} --set training.patience=0")
    try:
        wait_running()
        proc = psutil.Process(app_pid())
        samples = []
        t0 = time.monotonic()
        while True:
            s = status_line()
            ep = epoch_of(s)
            rss = proc.memory_info().rss / 2**20
            if ep >= 10_000 and (not samples or ep - samples[-1][0] >= a.epochs // 20):
                samples.append((ep, rss))
                print(f"epoch {ep:>7}: RSS {rss:6.1f} MiB  ({time.monotonic() - t0:5.0f} s)", flush=True)
            if "ENDED" in s or ep >= a.epochs or time.monotonic() - t0 > a.timeout:
                break
            time.sleep(0.5)
        if len(samples) >= 2:
            (e0, r0), (e1, r1) = samples[0], samples[-1]
            print(f"RSS from epoch {e0} to {e1}: {r0:.1f} -> {r1:.1f} MiB ({r1 - r0:+.1f} MiB; "
                  f"{(r1 - r0) * 2**20 / max(e1 - e0, 1):.1f} B/epoch); peak {max(r for _, r in samples):.1f} MiB")
    finally:
        stop()


def cmd_keys(a) -> None:
    start(f"{a.preset} --start --pace max --epochs 10000000 --set training.patience=0")
    try:
        wait_running()
        time.sleep(2.0)
        times = []
        for i in range(a.runs):
            key, want = ("minus", "pace 10k/s") if i % 2 == 0 else ("equals_sign", "pace max")
            t0 = time.monotonic()
            tmux("send-keys", "-t", "b", "-" if key == "minus" else "=")
            while want not in status_line():
                if time.monotonic() - t0 > 10:
                    raise SystemExit(f"the screen never showed {want!r}")
                time.sleep(0.005)
            times.append((time.monotonic() - t0) * 1000)
            time.sleep(0.3)
        print(f"key-to-screen: median {statistics.median(times):.0f} ms (range {min(times):.0f}-{max(times):.0f}, "
              f"{len(times)} presses, tmux capture included)")
    finally:
        stop()


def cmd_screen(a) -> None:
    start(a.preset + " --start")
    try:
        wait_running()
        time.sleep(a.seconds)
        first = tmux("capture-pane", "-p", "-t", "b")
        time.sleep(1.0)
        second = tmux("capture-pane", "-p", "-t", "b")
        st = second.splitlines()[0]
        print(f"after {a.seconds:.0f} s: screen changing: {first != second}; run over: {'ENDED' in st}; {st.strip()}")
    finally:
        stop()


def long_run_folder(epochs: int) -> str:
    """A finished run folder (preset, checkpoints, status) whose metrics log has ``epochs`` rows."""
    import json
    import math
    import random

    run = os.path.join(WORKDIR, f"long-{epochs}")
    subprocess.run([sys.executable, "-m", "dltui.tui.cli", "train", "piecewise-sigmoid", "--epochs", "3",
                    "--out", run], check=True, capture_output=True, env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})
    with open(os.path.join(run, "metrics.jsonl")) as fh:
        row = json.loads(fh.readline())
    rnd = random.Random(0)
    with open(os.path.join(run, "metrics.jsonl"), "w") as fh:
        for i in range(1, epochs + 1):
            loss = 0.003 + 1.0 / math.sqrt(i) * (1 + 0.1 * rnd.random())
            fh.write(json.dumps({**row, "epoch": i, "step": 7 * i, "train_loss": loss, "val_loss": loss * 1.1,
                                 "best_epoch": i, "best_val_loss": loss * 1.1, "elapsed": i / 1000}) + "\n")
    with open(os.path.join(run, "status.json")) as fh:
        status = json.load(fh)
    status["started"]["epochs"] = epochs
    status["end"].update(epochs_run=epochs, steps=7 * epochs, best_epoch=epochs)
    with open(os.path.join(run, "status.json"), "w") as fh:
        json.dump(status, fh)
    return run


def time_watch(run: str, epochs: int) -> float:
    t0 = time.monotonic()
    start(f"watch {run}")
    try:
        while f"epoch {epochs}/" not in status_line():
            if time.monotonic() - t0 > 30:
                raise SystemExit("the watch never showed the last epoch:\n" + tmux("capture-pane", "-p", "-t", "b"))
            time.sleep(0.01)
        return time.monotonic() - t0
    finally:
        stop()


def cmd_watch(a) -> None:
    """The long log against a 100-epoch one, alternating: the difference is what the log's length costs."""
    long, short = long_run_folder(a.epochs), long_run_folder(100)
    size = os.path.getsize(os.path.join(long, "metrics.jsonl")) / 2**20
    times: dict[int, list[float]] = {a.epochs: [], 100: []}
    for _ in range(a.runs):
        for run, n in ((long, a.epochs), (short, 100)):
            times[n].append(time_watch(run, n))
    for n, ts in times.items():
        print(f"dltui watch of a {n}-epoch run{f' ({size:.0f} MB log)' if n == a.epochs else ''}: last epoch on "
              f"screen after median {statistics.median(ts):.2f} s (range {min(ts):.2f}-{max(ts):.2f}, {a.runs} runs, "
              f"from process start, tmux included)")
    print(f"load average {os.getloadavg()[0]:.2f} (2 cores here)")


def run_speed(folder: str) -> float:
    """Steps per second of a finished run folder, by the trainer's clock (its last metrics row)."""
    import json

    with open(os.path.join(folder, "metrics.jsonl"), "rb") as fh:
        last = json.loads(fh.read().splitlines()[-1])
    return last["step"] / last["elapsed"]


def wait_gone(timeout: float) -> None:
    t0 = time.monotonic()
    while subprocess.run(["tmux", "-L", SOCKET, "has-session", "-t", "b"], capture_output=True).returncode == 0:
        if time.monotonic() - t0 > timeout:
            raise SystemExit("the command did not end; screen:\n" + tmux("capture-pane", "-p", "-t", "b"))
        time.sleep(0.1)


def speed_headless(a, i: int) -> float:
    out = os.path.join(WORKDIR, f"headless-{i}")
    start(f"train {a.preset} --epochs {a.epochs} --set training.patience=0 --out {out}")
    try:
        wait_gone(a.timeout)
    finally:
        stop()
    return run_speed(out)


def ui_cpu(pid: int) -> float:
    """CPU seconds of a process's main thread (the UI thread: Textual's event loop)."""
    with open(f"/proc/{pid}/task/{pid}/stat") as fh:
        f = fh.read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def speed_app(a) -> tuple[float, float]:
    """(steps/s, the UI thread's share of the wall clock while it trained)."""
    runs = os.path.join(WORKDIR, "runs")
    before = set(os.listdir(runs)) if os.path.isdir(runs) else set()
    start(f"{a.preset} --pace max --epochs {a.epochs} --set training.patience=0")
    try:  # as a person starts it: the screen drawn, then space
        t0 = time.monotonic()
        while "PAUSED" not in status_line():
            if time.monotonic() - t0 > 30:
                raise SystemExit("the app did not open paused; screen:\n" + tmux("capture-pane", "-p", "-t", "b"))
            time.sleep(0.05)
        time.sleep(1.0)
        send_keys(a.keys)
        tmux("send-keys", "-t", "b", "space")
        wait_running()
        pid = app_pid()
        t0, c0 = time.monotonic(), ui_cpu(pid)
        while "ENDED" not in status_line():
            if time.monotonic() - t0 > a.timeout:
                raise SystemExit("the run did not end; screen:\n" + tmux("capture-pane", "-p", "-t", "b"))
            time.sleep(0.2)
        share = (ui_cpu(pid) - c0) / (time.monotonic() - t0)
        new = sorted(set(os.listdir(runs)) - before)
        if len(new) != 1:
            raise SystemExit(f"expected one new run folder in {runs}, found {new}")
        folder = os.path.join(runs, new[0])
        t1 = time.monotonic()
        while True:  # its log is complete once status.json says finished
            with open(os.path.join(folder, "status.json")) as fh:
                if '"finished"' in fh.read():
                    break
            if time.monotonic() - t1 > 30:
                raise SystemExit(f"{folder}: status.json never said finished")
            time.sleep(0.05)
        return run_speed(folder), share
    finally:
        stop()


def cmd_speed(a) -> None:
    ratios, shares = [], []
    for i in range(a.runs):  # which side goes first alternates, so an order effect falls on both
        if i % 2:
            app, share = speed_app(a)
            h = speed_headless(a, i)
        else:
            h = speed_headless(a, i)
            app, share = speed_app(a)
        ratios.append(app / h)
        shares.append(share)
        print(f"pair {i + 1}: dltui train {h:,.0f} steps/s, the app at max {app:,.0f} steps/s, ratio {app / h:.3f}; "
              f"UI thread {share:.1%} of the time", flush=True)
    med = statistics.median
    print(f"in-app / headless throughput ({a.preset}, {a.epochs} epochs, {a.runs} pairs): median "
          f"{med(ratios):.3f} (range {min(ratios):.3f}-{max(ratios):.3f}; {sum(r >= 0.9 for r in ratios)}/{a.runs} "
          f"pairs >= 0.9); the UI thread's CPU while training: median {med(shares):.1%} of the wall clock "
          f"(range {min(shares):.1%}-{max(shares):.1%}), the training speed it takes (the GIL is shared)")
    print(f"load average {os.getloadavg()[0]:.2f} (2 cores here)")


def main() -> None:
    if shutil.which("tmux") is None:
        raise SystemExit("tmux is not installed")
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", choices=["stalls", "rss", "keys", "screen", "watch", "speed"])
    p.add_argument("--preset", default="piecewise-sigmoid")
    p.add_argument("--keys", default="", help="keys sent once the app is up, before measuring (w: network view)")
    p.add_argument("--runs", type=int, default=10)
    p.add_argument("--seconds", type=float, default=8.0)
    p.add_argument("--epochs", type=int, default=None, help="default 200000 (rss, watch), 6000 (speed)")
    p.add_argument("--timeout", type=float, default=900.0)
    a = p.parse_args()
    if a.epochs is None:
        a.epochs = 6000 if a.what == "speed" else 200_000
    {"stalls": cmd_stalls, "rss": cmd_rss, "keys": cmd_keys, "screen": cmd_screen, "watch": cmd_watch,
     "speed": cmd_speed}[a.what](a)


if __name__ == "__main__":
    main()

"""What pace, yields and bounded history cost, measured with medians and ranges over alternating runs.

    python benchmarks/bench_pace.py [--epochs 3000] [--repeats 5]

- GIL yields: Trainer.fit throughput with the app's yields (a sleep(0) every YIELD_EVERY, 50 ms) vs none, runs
  alternating so a busy machine hits both alike; steps/s from the trainer's own clock.
- Pace accuracy: the measured update rate of a run paced at 30, 300 and 3000 updates/s.
- Watch: the time `dltui watch` takes to open a 200k-epoch metrics log (WatchedRun's first poll).
- History: memory of a view that folded 200k epochs (tracemalloc), at 10k and at 200k.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import tracemalloc
from dataclasses import asdict
from pathlib import Path

from dltui.core.training.pacing import YIELD_EVERY


def spec(epochs: int, preset: str = "piecewise-sigmoid"):
    from dltui.core.config.spec import load_preset

    return load_preset(preset, {"training.epochs": epochs, "training.patience": 0})


def rate(epochs: int, yield_every: float = 0.0, pace: float = 0.0) -> float:
    from dltui.core.training.trainer import Trainer

    tr = Trainer(spec(epochs), yield_every=yield_every, pace=pace)
    res = tr.fit()
    return res.steps / tr.history[-1].elapsed


def summary(xs: list[float], unit: str = "") -> str:
    return f"median {statistics.median(xs):,.0f}{unit} (range {min(xs):,.0f}-{max(xs):,.0f})"


def bench_yields(epochs: int, repeats: int) -> None:
    plain, yielding = [], []
    for _ in range(repeats):
        plain.append(rate(epochs, 0))
        yielding.append(rate(epochs, YIELD_EVERY))
    ratios = [y / p for y, p in zip(yielding, plain)]
    print(f"no yields:          {summary(plain, ' steps/s')}")
    print(f"yield every {YIELD_EVERY * 1000:.0f} ms:  {summary(yielding, ' steps/s')}")
    print(f"ratio (yield/none): median {statistics.median(ratios):.3f} (range {min(ratios):.3f}-{max(ratios):.3f})")


def bench_pace() -> None:
    for pace in (30.0, 300.0, 3000.0):
        steps = int(pace * 2)
        epochs = max(1, steps // 7)
        got = [rate(epochs, pace=pace) for _ in range(3)]
        print(f"pace {pace:>6.0f}/s: measured {summary(got, '/s')}")


def bench_watch() -> None:
    from dltui.core import events as ev
    from dltui.core.runs import WatchedRun

    row = asdict(ev.EpochEnded(1, 8, 1.0, 1.1, None, None, 1, 1.1, None, 0.1, 1.0, 100.0))
    with tempfile.TemporaryDirectory() as d:
        run = Path(d) / "long"
        run.mkdir()
        with (run / "metrics.jsonl").open("w") as fh:
            for i in range(1, 200_001):
                fh.write(json.dumps({**row, "epoch": i, "step": 8 * i, "train_loss": 1.0 / i}) + "\n")
        size = (run / "metrics.jsonl").stat().st_size / 2**20
        times = []
        for _ in range(3):
            w = WatchedRun(run)
            t0 = time.perf_counter()
            w.poll()
            times.append(time.perf_counter() - t0)
        ms = [t * 1000 for t in times]
        print(f"watch opens a 200k-epoch log ({size:.0f} MB): {summary(ms, ' ms')}, "
              f"{len(w.view.history)} rows kept")


def bench_history() -> None:
    from dltui.core import events as ev
    from dltui.core.runs import RunView
    from dltui.core.runs.fold import fold_event

    v = RunView()
    tracemalloc.start()
    marks = {}
    for i in range(1, 200_001):
        fold_event(v, ev.EpochEnded(i, i, 1.0, 1.0, None, None, i, 1.0, None, 0.1, 1.0, 1.0), set())
        if i in (10_000, 200_000):
            marks[i] = tracemalloc.get_traced_memory()[0] / 2**20
    tracemalloc.stop()
    print(f"view history memory: {marks[10_000]:.2f} MiB at 10k epochs, {marks[200_000]:.2f} MiB at 200k")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=3000)
    p.add_argument("--repeats", type=int, default=5)
    a = p.parse_args()
    bench_yields(a.epochs, a.repeats)
    bench_pace()
    bench_watch()
    bench_history()


if __name__ == "__main__":
    main()

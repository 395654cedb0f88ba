"""The cost of `dltui train --tensorboard DIR` to a fast NumPy run (spiral, 13 steps an epoch, so
the per-epoch scalar event is as large a share of the time as it gets). Alternating runs, medians.

    python benchmarks/bench_tboard.py --repeats 7
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import dltui.tui.cli  # noqa: F401 - one BLAS thread, as dltui runs
from dltui.core import Trainer, load_preset
from dltui.core.tboard import TensorBoardLog


def run(tb: bool, epochs: int) -> float:
    t = Trainer(load_preset("spiral", {"training.epochs": epochs}))
    with tempfile.TemporaryDirectory() as d:
        cbs = [TensorBoardLog(t, d)] if tb else []
        t0 = time.perf_counter()
        t.fit(callbacks=cbs)
        return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--epochs", type=int, default=300)
    a = ap.parse_args()
    bare, tb = [], []
    for _ in range(a.repeats):
        bare.append(run(False, a.epochs))
        tb.append(run(True, a.epochs))
    b, t = statistics.median(bare), statistics.median(tb)
    print(f"spiral, {a.epochs} epochs: bare {b:.3f} s, with --tensorboard {t:.3f} s: {b / t:.3f}x the speed "
          f"({(t - b) / a.epochs * 1e6:.0f} us an epoch; median of {a.repeats})")


if __name__ == "__main__":
    main()

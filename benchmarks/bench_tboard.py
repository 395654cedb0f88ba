"""The cost of `dltui train --tensorboard DIR` to a fast NumPy run (spiral, 13 steps an epoch, so
the per-epoch scalar event is as large a share of the time as it gets). Alternating runs, medians.

Then the app's ``T`` export (core.tboard_export) from a run folder: the first export of ``--rows``
epoch rows and their layer records (how long a person waits before the files are complete; on the
follower's thread, never the UI's), and one follow poll that finds nothing new (what following a
run costs every 2 s while it goes on).

    python benchmarks/bench_tboard.py --repeats 7
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import dltui.tui.cli  # noqa: F401 - one BLAS thread, as dltui runs
from dltui.core import Trainer, load_preset
from dltui.core.integrations.tensorboard_live import TensorBoardLog


def run(tb: bool, epochs: int) -> float:
    t = Trainer(load_preset("spiral", {"training.epochs": epochs}))
    with tempfile.TemporaryDirectory() as d:
        cbs = [TensorBoardLog(t, d)] if tb else []
        t0 = time.perf_counter()
        t.fit(callbacks=cbs)
        return time.perf_counter() - t0


def export_costs(rows: int, repeats: int) -> tuple[float, float, int]:
    """(seconds for the first export of a folder with ``rows`` epochs, µs for an empty poll, records)."""
    import json
    import os

    from dltui.core import events as ev
    from dltui.core.integrations.tensorboard_folder import TensorBoardExport
    from dltui.core.runs.store.layerlog import encode

    with tempfile.TemporaryDirectory() as d:
        t = Trainer(load_preset("spiral", {"training.epochs": 1}))
        t.fit()
        stats = ev.LayerStatsReady(1, 1, tuple(t.backend.layer_stats()))
        with open(os.path.join(d, "metrics.jsonl"), "w") as fh:
            for i in range(1, rows + 1):
                fh.write(json.dumps({"epoch": i, "step": 13 * i, "train_loss": 1 / i, "val_loss": 1.1 / i,
                                     "train_metric": 0.5, "val_metric": 0.5, "best_epoch": i, "best_val_loss": 1 / i,
                                     "patience_left": 100, "lr": 1e-3, "elapsed": i * 0.01,
                                     "steps_per_second": 1000.0}) + "\n")
        records = rows // 100  # a record every 2 s at 50 epochs a second
        with open(os.path.join(d, "layers.jsonl"), "w") as fh:
            for i in range(records):
                fh.write(encode(ev.LayerStatsReady(100 * i + 1, 1300 * i + 13, stats.layers)) + "\n")
        first, empty = [], []
        for _ in range(repeats):
            t0 = time.perf_counter()
            exp = TensorBoardExport(d, os.path.join(d, "tb"))
            exp.poll()
            first.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            for _ in range(100):
                exp.poll()
            empty.append((time.perf_counter() - t0) / 100 * 1e6)
            exp.close()
    return statistics.median(first), statistics.median(empty), records


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--epochs", type=int, default=300)
    ap.add_argument("--rows", type=int, default=10000, help="epoch rows in the folder the T export reads")
    a = ap.parse_args()
    bare, tb = [], []
    for _ in range(a.repeats):
        bare.append(run(False, a.epochs))
        tb.append(run(True, a.epochs))
    b, t = statistics.median(bare), statistics.median(tb)
    print(f"spiral, {a.epochs} epochs: bare {b:.3f} s, with --tensorboard {t:.3f} s: {b / t:.3f}x the speed "
          f"({(t - b) / a.epochs * 1e6:.0f} us an epoch; median of {a.repeats})")
    first, empty, records = export_costs(a.rows, max(3, a.repeats // 2))
    print(f"T export: {a.rows} epoch rows + {records} layer records in {first:.2f} s "
          f"({first / a.rows * 1e6:.0f} us a row); a follow poll with nothing new {empty:.0f} us")


if __name__ == "__main__":
    main()

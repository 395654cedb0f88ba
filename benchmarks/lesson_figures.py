"""The figures the lesson notes quote, measured across seeds (NumPy backend, float32, as shipped).

Each group trains a set of presets (or one preset with overrides) on seeds 0..N-1 (``data.seed``
and ``training.seed`` both set to the seed, so each seed is a new series/data set and a new
initialisation) and prints, per preset, the mean and range of the best-epoch figures, then per
pair how many seeds a claimed ordering holds on. HW1 groups run when the course data are beside
the checkout (../shared/data) (not found: skipped, with a note); they add the course seed 5201314.

    OPENBLAS_NUM_THREADS=1 python benchmarks/lesson_figures.py               # every group, 5 seeds
    python benchmarks/lesson_figures.py --groups views-layers --seeds 10
    python benchmarks/lesson_figures.py --groups relu-pair --seeds 10 --first-seed 1   # dltui check's seeds
    python benchmarks/lesson_figures.py --json figures.json                  # also write the raw rows
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

HW1 = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "hw01_2022"
COURSE_SEED = 5201314

# group -> [(label, preset, overrides)]
GROUPS: dict[str, list[tuple[str, str, dict]]] = {
    "views-windows": [(f"linear {w}d", p, {}) for w, p in
                      ((1, "views-linear-1d"), (7, "views-linear"), (28, "views-linear-28d"),
                       (56, "views-linear-56d"))],
    "views-layers": [("linear 56d", "views-linear-56d", {})]
                    + [(f"{k} layer", f"views-{k}-layer{'s' if k > 1 else ''}", {}) for k in (1, 2, 3, 4)],
    "relu-pair": [("1 relu", "relu-pair-hard-sigmoid", {"model.hidden": [1]}),
                  ("2 relus", "relu-pair-hard-sigmoid", {})],
    "hard-sigmoid": [("hard_sigmoid", "hard-sigmoid-units", {}),
                     ("sigmoid", "hard-sigmoid-units", {"model.activation": "sigmoid"})],
    "l1": [("l1", "spiral-l1", {}), ("l2", "spiral-l2", {}),
           ("none", "spiral-l1", {"optimizer.l1": 0.0})],
    "test-split": [("overfit", "overfit-early-stop", {"data.test_ratio": 0.2})],
    "hw01": [(n, n, {}) for n in ("hw01-sample", "hw01-strong", "hw01-boss", "hw01-covid")],
}
# (group, better, worse, metric): "better has a lower metric than worse" on how many seeds
CLAIMS = [
    ("views-windows", "linear 7d", "linear 1d", "val"),
    ("views-windows", "linear 28d", "linear 7d", "val"),
    ("views-windows", "linear 56d", "linear 28d", "val"),
    ("views-layers", "2 layer", "1 layer", "min_train"),
    ("views-layers", "3 layer", "2 layer", "min_train"),
    ("views-layers", "4 layer", "3 layer", "min_train"),
    ("views-layers", "linear 56d", "1 layer", "val"),
    ("views-layers", "2 layer", "1 layer", "val"),
    ("views-layers", "3 layer", "2 layer", "val"),
    ("views-layers", "4 layer", "3 layer", "val"),
    ("relu-pair", "2 relus", "1 relu", "val"),
    ("hard-sigmoid", "sigmoid", "hard_sigmoid", "val"),
    ("l1", "l1", "l2", "-zeros"),
    ("hw01", "hw01-strong", "hw01-sample", "val"),
    ("hw01", "hw01-boss", "hw01-strong", "val"),
]


def measure(job: tuple[str, str, dict, int]) -> dict:
    import numpy as np
    from dltui.core import Trainer, load_preset

    label, preset, over, seed = job
    over = dict(over)
    spec = load_preset(preset)
    if spec.values["data"]["kind"] == "csv":
        over["data.path"] = str(HW1 / "covid.train.csv")
    else:
        over["data.seed"] = seed
    over["training.seed"] = seed
    tr = Trainer(load_preset(preset, over))
    t0 = time.perf_counter()
    r = tr.fit()
    at = tr.history[r.best_epoch - 1]
    W = tr.backend.get_params()[0][0]
    return {"label": label, "preset": preset, "seed": seed, "best_epoch": r.best_epoch, "epochs": r.epochs_run,
            "train": at.train_loss, "val": at.val_loss, "min_train": min(e.train_loss for e in tr.history),
            "val_metric": at.val_metric, "test": getattr(r, "test_loss", None),
            "zeros": float(np.mean(W == 0.0)), "small": float(np.mean(np.abs(W) < 0.01)),
            "seconds": time.perf_counter() - t0}


def fmt(values: list[float]) -> str:
    if not values or values[0] is None:
        return "-"
    return f"{statistics.mean(values):.4g} [{min(values):.4g}, {max(values):.4g}]"


def report(group: str, rows: list[dict]) -> list[str]:
    out = [f"## {group} ({len({r['seed'] for r in rows})} seeds: {sorted({r['seed'] for r in rows})})",
           "| run | best val | train at best | min train | test at best | val acc | exact zeros W1 | epochs |",
           "|---|---|---|---|---|---|---|---|"]
    labels = list(dict.fromkeys(r["label"] for r in rows))
    for lab in labels:
        rs = [r for r in rows if r["label"] == lab]

        def col(k, rs=rs):
            return [r[k] for r in rs]

        out.append(f"| {lab} | {fmt(col('val'))} | {fmt(col('train'))} | {fmt(col('min_train'))} | "
                   f"{fmt(col('test'))} | {fmt(col('val_metric'))} | {fmt(col('zeros'))} | "
                   f"{fmt(col('best_epoch'))} |")
    for g, better, worse, metric in CLAIMS:
        if g != group:
            continue
        key, sign = (metric[1:], -1) if metric.startswith("-") else (metric, 1)
        a = {r["seed"]: r[key] for r in rows if r["label"] == better}
        b = {r["seed"]: r[key] for r in rows if r["label"] == worse}
        seeds = sorted(set(a) & set(b))
        wins = sum(1 for s in seeds if sign * a[s] < sign * b[s])
        word = "more" if sign < 0 else "lower"
        out.append(f"- {better} has {word} {key} than {worse} on {wins}/{len(seeds)} seeds")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--groups", nargs="*", default=list(GROUPS), choices=list(GROUPS))
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--first-seed", type=int, default=0,
                    help="seeds run first..first+N-1 (default 0; `dltui check` uses 1..N)")
    ap.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    ap.add_argument("--json", metavar="PATH", help="write every run's figures here")
    args = ap.parse_args(argv)
    jobs = []
    for g in args.groups:
        seeds = list(range(args.first_seed, args.first_seed + args.seeds))
        if g == "hw01":
            if not (HW1 / "covid.train.csv").exists():
                print(f"skipping hw01: no {HW1 / 'covid.train.csv'}", file=sys.stderr)
                continue
            seeds = [COURSE_SEED, *seeds]
        jobs += [(g, (lab, p, o, s)) for lab, p, o in GROUPS[g] for s in seeds]
    with ProcessPoolExecutor(args.jobs) as pool:
        rows = list(pool.map(measure, [j for _, j in jobs]))
    by_group: dict[str, list[dict]] = {}
    for (g, _), row in zip(jobs, rows):
        by_group.setdefault(g, []).append({**row, "group": g})
    for g, rs in by_group.items():
        print("\n".join(report(g, rs)) + "\n", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps([r for rs in by_group.values() for r in rs], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Finished runs side by side: read run folders and sweep folders, group a sweep's runs by setting,
find the settings that differ, and give the curves (per epoch, update or second) and the numbers.

``load_run`` is a small reader of a finished run folder (preset.toml, metrics.jsonl, status.json,
baseline.json); a ``FinishedRun`` class from core may replace it: the compare view only needs
``name``, ``values``, ``history`` (dicts), ``status``, ``baseline``, ``group`` and ``path``.
"""

from __future__ import annotations

import json
import math
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ..runs.store.folder import RunFolder, read_metrics
from .baseline import read_baseline

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

X_AXES = {"epoch": "epoch", "updates": "step", "seconds": "elapsed"}
IGNORED_SECTIONS = ("about", "claim")
IGNORED_KEYS = ("data.needs", "data.file", "data.id_column", "data.n_columns")  # words for people, not the run


class CompareError(ValueError):
    """A path is not a run folder or a sweep folder."""


@dataclass
class LoadedRun:
    path: Path
    name: str
    values: dict
    history: list[dict]
    status: dict = field(default_factory=dict)
    baseline: float | None = None
    group: str | None = None  # the sweep setting this run belongs to
    seed: int | None = None
    in_memory: bool = False  # the app's own run, started without a folder: nothing to open from ``path``

    def best(self) -> dict | None:
        if not self.history:
            return None
        b = self.history[-1]["best_epoch"]
        return next((h for h in self.history if h["epoch"] == b), self.history[-1])


def load_run(path: str | Path, group: str | None = None, seed: int | None = None) -> LoadedRun:
    run = RunFolder(path)
    if not run.path.exists():
        raise CompareError(f"{path}: does not exist.")
    if not run.path.is_dir() or not run.metrics.exists():
        raise CompareError(f"{path}: not a run folder (no metrics.jsonl) nor a sweep folder (no sweep.json).")
    try:
        values = tomllib.loads(run.preset.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        values = {}
    rows, _ = read_metrics(run.metrics)
    baseline = read_baseline(run.path).get("baseline_val_loss")
    name = run.path.name if group is None else f"{group} s{seed}"
    return LoadedRun(run.path, name, values, rows, run.read_status(), baseline, group, seed)


def _expand(paths):
    """A folder that is neither a run nor a sweep but holds some (`runs/`) stands for them, newest first."""
    for p in paths:
        if p.is_dir() and not (p / "metrics.jsonl").exists() and not (p / "sweep.json").exists():
            inside = [c for c in p.iterdir() if (c / "metrics.jsonl").exists() or (c / "sweep.json").exists()]
            if inside:
                yield from sorted(inside, key=lambda c: c.stat().st_mtime, reverse=True)
                continue
        yield p


def load_targets(paths: list[str | Path]) -> list[LoadedRun]:
    """Run folders as they are; a sweep folder's runs, each tagged with its setting (group)."""
    runs: list[LoadedRun] = []
    for p in _expand(map(Path, paths)):
        sweep = p / "sweep.json"
        if sweep.exists():
            try:
                doc = json.loads(sweep.read_text())
            except json.JSONDecodeError as e:
                raise CompareError(f"{sweep}: not valid JSON ({e}).") from None
            for r in doc.get("runs", []):
                d = Path(r["dir"])
                d = d if d.is_absolute() else p / d
                if (d / "metrics.jsonl").exists():
                    runs.append(load_run(d if d.exists() else p / d.name, r.get("setting"), r.get("seed")))
        else:
            runs.append(load_run(p))
    if not runs:
        raise CompareError(f"{', '.join(map(str, paths))}: no finished runs to compare.")
    return runs


def flatten(values: dict) -> dict[str, object]:
    return {f"{s}.{k}": v for s, t in values.items() if s not in IGNORED_SECTIONS and isinstance(t, dict)
            for k, v in t.items()}


def differing(runs: list[LoadedRun]) -> dict[str, list]:
    """The preset keys whose values are not the same in every run (title, note, claim and the words
    for people left out, and keys that only some runs' presets have)."""
    flat = [flatten(r.values) for r in runs]
    keys = sorted({k for f in flat for k in f} - set(IGNORED_KEYS))
    return {k: [f.get(k) for f in flat] for k in keys
            if len({json.dumps(f.get(k)) for f in flat if f.get(k) is not None}) > 1}


def short_value(v, width: int = 16) -> str:
    """A setting's value for a one-line summary: floats in 4 significant digits, lists without spaces,
    cut to ``width``."""
    if isinstance(v, float):
        text = f"{v:.4g}"
    elif isinstance(v, list):
        text = "[" + ",".join(short_value(x, width) for x in v) + "]"
    else:
        text = str(v)
    return text if len(text) <= width else text[:width - 1] + "…"


def differing_line(diff: dict[str, list], width: int = 200) -> str:
    """'hidden [4] | [16]; seed 1 | 2' (each key's distinct values, short; of many, the first two and
    the last), cut to ``width``."""
    parts = []
    short = [k.split(".")[-1] for k in diff]
    for k, v in diff.items():
        vals = list(dict.fromkeys(short_value(x) for x in v if x is not None))
        vals = vals if len(vals) <= 4 else [*vals[:2], "…", vals[-1]]  # many values: the first and the last
        name = k.split(".")[-1] if short.count(k.split(".")[-1]) == 1 else k  # data.seed, training.seed
        parts.append(f"{name} " + " | ".join(vals))
    text = "; ".join(parts) if parts else "none (the same preset)"
    return text if len(text) <= width else text[:width - 1] + "…"


def g4(v) -> str:
    """A figure in 4 significant digits ('-' for none)."""
    if v is None:
        return "-"
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def curve(run: LoadedRun, x: str = "epoch", which: str = "val_loss") -> tuple[list[float], list[float]]:
    key = X_AXES[x]
    pts = [(h.get(key), h.get(which)) for h in run.history]
    pts = [(a, b) for a, b in pts if a is not None and b is not None and math.isfinite(b)]
    return [a for a, _ in pts], [b for _, b in pts]


def band(runs: list[LoadedRun], x: str = "epoch", which: str = "val_loss") -> dict:
    """min / median / max over a group's runs, epoch by epoch (x: the median over the runs at that
    epoch), up to the shortest run's length."""
    curves = [curve(r, x, which) for r in runs]
    n = min((len(c[0]) for c in curves), default=0)
    cols = range(n)
    xs = [statistics.median(c[0][i] for c in curves) for i in cols]
    ys = [[c[1][i] for c in curves] for i in cols]
    return {"x": xs, "lo": [min(v) for v in ys], "mid": [statistics.median(v) for v in ys],
            "hi": [max(v) for v in ys]}


def groups(runs: list[LoadedRun]) -> dict[str, list[LoadedRun]]:
    out: dict[str, list[LoadedRun]] = {}
    for r in runs:
        out.setdefault(r.group or r.name, []).append(r)
    return out


def numbers(run: LoadedRun) -> dict:
    """The table's figures for one run."""
    best, last = run.best(), (run.history[-1] if run.history else {})
    return {"run": run.name, "epochs": last.get("epoch"), "best_epoch": last.get("best_epoch"),
            "best_val_loss": last.get("best_val_loss"), "train_loss": best.get("train_loss") if best else None,
            "final_train_loss": last.get("train_loss"), "val_acc": best.get("val_metric") if best else None,
            "baseline": run.baseline, "seconds": last.get("elapsed"),
            "state": (run.status.get("end") or {}).get("reason") or run.status.get("state", "?")}

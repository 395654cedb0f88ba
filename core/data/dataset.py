"""Datasets: the synthetic generators (``generators.py``) or a CSV with feature selection,
train/validation(/test) split, normalisation fitted on the training split, batching."""

from __future__ import annotations

import fnmatch
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import DataError, SpecError
from .batching import batch_count
from .csvload import CsvFile, column_keys, open_csv
from .filecheck import check_predict_file, check_training_file
from .generators import (  # noqa: F401 - re-exported: the data module is where callers look
    GENERATORS,
    MAXIMUM,
    MINIMUM,
    PLAYGROUND_INPUTS,
    SIGNED,
    Generated,
    Generator,
    PiecewiseLinear,
    generator,
)
from .splits import split_rows, split_seed

if TYPE_CHECKING:
    from ..config.spec import Spec


# ---------------------------------------------------------------- the dataset a trainer uses


@dataclass
class Features:
    """Raw rows -> model inputs: column choice (CSV), Playground expansion, z-score.

    Saved with every checkpoint (``to_dict``) so ``predict`` encodes new data exactly
    as the training data was encoded.
    """

    names: list[str]
    columns: list[list] | None = None  # CSV: [name, occurrence] per chosen column
    inputs: list[str] | None = None  # Playground expansion of (x1, x2)
    mean: np.ndarray | None = None
    std: np.ndarray | None = None
    target: str = "y"
    id_column: str = "id"

    def encode(self, raw: np.ndarray) -> np.ndarray:
        x = raw
        if self.inputs:
            x = np.stack([PLAYGROUND_INPUTS[n](raw) for n in self.inputs], 1)
        if self.mean is not None:
            x = (x - self.mean) / self.std
        return x

    def to_dict(self) -> dict:
        return {"names": self.names, "columns": self.columns, "inputs": self.inputs,
                "mean": None if self.mean is None else self.mean.tolist(),
                "std": None if self.std is None else self.std.tolist(),
                "target": self.target, "id_column": self.id_column}

    @classmethod
    def from_dict(cls, d: dict) -> Features:
        arr = lambda v: None if v is None else np.asarray(v, dtype=np.float64)  # noqa: E731
        return cls(d["names"], d.get("columns"), d.get("inputs"), arr(d.get("mean")), arr(d.get("std")),
                   d.get("target", "y"), d.get("id_column", "id"))


@dataclass
class Dataset:
    x_train: np.ndarray
    y_train: np.ndarray  # [n, 1] float (regression) or [n] int (classification)
    x_val: np.ndarray
    y_val: np.ndarray
    task: str
    n_outputs: int
    features: Features
    raw_train: np.ndarray | None = None  # plottable coordinates (1-D / 2-D generators)
    raw_val: np.ndarray | None = None
    target_fn: Callable | None = None
    source: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    x_test: np.ndarray | None = None  # the test split ([data] test_ratio), else None
    y_test: np.ndarray | None = None
    raw_test: np.ndarray | None = None

    @property
    def n_features(self) -> int:
        return self.x_train.shape[1]


def split_indices(n: int, valid_ratio: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Shuffle 0..n-1 with the seed; the first round(n*ratio) are validation."""
    tr, va, _ = split_rows(n, valid_ratio, seed)
    return tr, va


def _split(d: dict, n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return split_rows(n, d["valid_ratio"], seed, d.get("split", "random"), d.get("test_ratio", 0.0))


def batches(n: int, batch_size: int) -> int:
    """How many mini-batches one epoch has (the last one may be smaller)."""
    return batch_count(n, batch_size)


def load_dataset(spec: Spec) -> Dataset:
    d = spec.values["data"]
    seed = split_seed(spec.values)
    task = spec.task
    if d["kind"] == "csv":
        ds = _load_csv_dataset(spec)
    else:
        gen = GENERATORS[d["kind"]]
        if gen.task != task:
            want = "mse" if gen.task == "regression" else "cross_entropy"
            raise SpecError(
                f"{spec.source}: [loss] name = {spec.values['loss']['name']!r} does not fit [data] kind = "
                f"{d['kind']!r}, a {gen.task} set: use [loss] name = {want!r}."
            )
        params = {k: d[k] for k in inspect.signature(gen.fn).parameters if k in d}
        try:
            g = gen.fn(np.random.default_rng(d["seed"]), **params)
        except (SpecError, DataError) as e:
            raise DataError(f"{spec.source}: {e}") from None
        except (ValueError, ArithmeticError, MemoryError) as e:
            shown = ", ".join(f"{k} = {v!r}" for k, v in params.items())
            raise DataError(f"{spec.source}: [data] kind = {d['kind']!r} cannot make data with {shown} "
                            f"({e}). Check these values.") from None
        tr, va, te = _split(d, len(g.x), seed)
        if task == "classification" and len(np.unique(g.y[tr])) < 2:
            raise DataError(f"{spec.source}: the training split ({len(tr)} rows) holds fewer than two classes; "
                            "use more samples ([data] n_samples) or a smaller [data] valid_ratio.")
        inputs = d.get("inputs")
        if inputs is not None and not inputs:
            raise DataError(f"{spec.source}: [data] inputs = [] leaves the network no input: name at least one "
                            f"of {', '.join(PLAYGROUND_INPUTS)}.")
        names = list(inputs) if inputs else (g.feature_names or [f"x{i + 1}" for i in range(g.x.shape[1])])
        feats = Features(names, inputs=inputs, target="y")
        if d.get("normalize"):
            enc = feats.encode(g.x[tr])
            feats.mean, feats.std = enc.mean(0), _safe_std(enc)
        y = g.y.astype(np.int64) if task == "classification" else g.y.reshape(-1, 1)
        ds = Dataset(feats.encode(g.x[tr]), y[tr], feats.encode(g.x[va]), y[va], task,
                     int(g.y.max()) + 1 if task == "classification" else 1, feats,
                     g.x[tr], g.x[va], g.target_fn, f"generator '{d['kind']}'")
        if len(te):
            ds.x_test, ds.y_test, ds.raw_test = feats.encode(g.x[te]), y[te], g.x[te]
    dtype = np.dtype(spec.values["training"]["dtype"])
    ds.x_train, ds.x_val = ds.x_train.astype(dtype), ds.x_val.astype(dtype)
    if task == "regression":
        ds.y_train, ds.y_val = ds.y_train.astype(dtype), ds.y_val.astype(dtype)
    if ds.x_test is not None:
        ds.x_test = ds.x_test.astype(dtype)
        ds.y_test = ds.y_test.astype(dtype) if task == "regression" else ds.y_test
    if len(ds.x_train) == 0:
        raise DataError(f"{ds.source}: no training rows left after the validation split.")
    ratio = spec.values["data"]["valid_ratio"]
    if ratio > 0 and len(ds.x_val) == 0:  # else "best val" would quietly be the training loss
        n = len(ds.x_train) + len(ds.x_val) + (0 if ds.x_test is None else len(ds.x_test))
        raise DataError(f"{ds.source}: {n} row(s) leave no validation row at data.valid_ratio = {ratio:g}: "
                        "give more rows, or --set data.valid_ratio=0 to train without validation.")
    _check_limits(spec, ds)
    return ds


def _check_limits(spec: Spec, ds: Dataset) -> None:
    """The whole network's size, and values too large to train on, before any weight exists."""
    from ..config.limits import check_magnitude, check_model_size

    dt = spec.values["training"]["dtype"]
    try:
        check_model_size(spec.values["model"]["hidden"], ds.n_features, ds.n_outputs, spec.source, dt)
        y = {"target": ds.y_train} if ds.task == "regression" else {}
        check_magnitude({"feature": ds.x_train, **y}, ds.features.names, ds.source or spec.source, dt)
    except SpecError as e:
        raise DataError(str(e)) from None


def _safe_std(x: np.ndarray) -> np.ndarray:
    s = x.std(0)
    return np.where(s > 1e-12, s, 1.0)


# ---------------------------------------------------------------- CSV


def read_table(path: str | Path) -> CsvFile:
    """Check a CSV with a header row; columns are parsed into floats when asked for (core/csvload.py)."""
    return open_csv(path)


def read_csv(path: str | Path) -> tuple[list[str], np.ndarray]:
    """Read an all-numeric CSV with a header row: (header, values)."""
    t = read_table(path)
    return t.header, t.numeric(list(range(len(t.header))), "numeric")


def _target_index(header: list[str], target: str, path: str) -> int:
    if target == "":
        return len(header) - 1
    if target.lstrip("-").isdigit():
        i = int(target)
        if not -len(header) <= i < len(header):
            raise DataError(f"{path}: target column index {i} is out of range (the file has {len(header)}).")
        return i % len(header)
    hits = [i for i, h in enumerate(header) if h == target]
    if not hits:
        raise DataError(f"{path}: no target column named '{target}'. Columns: {_cols(header)}.")
    return hits[-1]


def _cols(header: list[str]) -> str:
    uniq = list(dict.fromkeys(header))
    return ", ".join(uniq[:20]) + (f", ... ({len(uniq)} distinct)" if len(uniq) > 20 else "")


def select_features(header: list[str], selectors: str | list[str], drop: list[str], target: int,
                    path: str) -> list[int]:
    """Column indices chosen by names, glob patterns, indices or 'all'; never the target."""
    sel = [selectors] if isinstance(selectors, str) else list(selectors)
    chosen: list[int] = []
    for s in sel:
        if s == "all":
            hits = list(range(len(header)))
        elif s.lstrip("-").isdigit():
            i = int(s)
            if not -len(header) <= i < len(header):
                raise DataError(f"{path}: feature index {i} is out of range (the file has {len(header)} columns).")
            hits = [i % len(header)]
        else:
            hits = [i for i, h in enumerate(header) if fnmatch.fnmatchcase(h, s)]
            if not hits:
                raise DataError(f"{path}: feature '{s}' matches no column. Columns: {_cols(header)}.")
        chosen += [i for i in hits if i not in chosen]
    explicit_idx = {int(s) % len(header) for s in sel if s.lstrip("-").isdigit()}
    chosen = [i for i in chosen if i != target and (header[i] not in drop or i in explicit_idx)]
    if not chosen:
        raise DataError(f"{path}: no feature columns left after choosing {sel} and dropping {drop}.")
    return chosen


def top_k_by_correlation(x: np.ndarray, y: np.ndarray, k: int) -> np.ndarray:
    """Indices (into x's columns) of the k features with the largest |corr| with y, strongest first."""
    xc = x - x.mean(0)
    yc = y - y.mean()
    denom = np.sqrt((xc**2).sum(0) * (yc**2).sum()) + 1e-12
    corr = np.abs(xc.T @ yc) / denom
    return np.argsort(-corr, kind="stable")[:k]


def _needs_message(spec: Spec) -> str:
    d = spec.values["data"]
    need = d.get("needs") or "a CSV file with a header row and a numeric target column"
    return f"Preset '{spec.name}' trains on a CSV file that you give with --data PATH: {need}"


def _load_csv_dataset(spec: Spec) -> Dataset:
    d = spec.values["data"]
    if not d["path"]:
        raise DataError(_needs_message(spec))
    table = read_table(d["path"])
    header, path = table.header, d["path"]
    wrong = check_training_file(header, d, spec.name)
    if wrong:
        raise DataError(wrong)
    t = _target_index(header, d["target"], path)
    cols = select_features(header, d["features"], d["drop"], t, path)
    y = table.numeric([t], "target")[:, 0]
    x = table.numeric(cols, "feature")
    tr, va, te = _split(d, len(y), split_seed(spec.values))
    if d["top_k"] and d["top_k"] < len(cols):
        keep = sorted(top_k_by_correlation(x[tr], y[tr], d["top_k"]))
        cols, x = [cols[i] for i in keep], x[:, keep]
    keys = column_keys(header)
    feats = Features([header[i] for i in cols], columns=[keys[i] for i in cols], target=header[t],
                     id_column=d["id_column"])
    if d["normalize"]:
        feats.mean, feats.std = x[tr].mean(0), _safe_std(x[tr])
    if spec.task == "classification":
        if not np.all(y == np.round(y)) or y.min() < 0:
            raise DataError(f"{path}: cross_entropy needs class labels 0..K-1 in '{header[t]}'.")
        from ..config.limits import MAX_CLASSES

        if y.max() >= MAX_CLASSES:  # before an output layer of that size exists
            raise DataError(f"{path}: '{header[t]}' holds the class label {y.max():.0f}: an output layer that "
                            f"large does not fit in memory. dltui allows labels 0..{MAX_CLASSES - 1}.")
        yy: np.ndarray = y.astype(np.int64)
        n_out = int(yy.max()) + 1
    else:
        yy, n_out = y.reshape(-1, 1), 1
    ds = Dataset(feats.encode(x[tr]), yy[tr], feats.encode(x[va]), yy[va], spec.task, n_out, feats,
                 source=str(path))
    if len(te):
        ds.x_test, ds.y_test = feats.encode(x[te]), yy[te]
    return ds


def read_features_for_predict(path: str, feats: Features) -> tuple[list[str], np.ndarray]:
    """Read a CSV (e.g. covid.test.csv), pick the saved columns, encode. Returns (ids as text, x)."""
    table = read_table(path)
    header = table.header
    keys = column_keys(header)
    missing = check_predict_file(header, feats.columns or [], feats.target, str(path))
    if missing:
        raise DataError(missing)
    idx = []
    for name, occ in feats.columns or []:
        try:
            idx.append(keys.index([name, occ]))
        except ValueError:
            nth = f" (occurrence {occ + 1})" if occ else ""
            raise DataError(f"{path}: the model needs column '{name}'{nth}, which this file does not have. "
                            f"Columns: {_cols(header)}.") from None
    ids = (table.text(header.index(feats.id_column)) if feats.id_column in header
           else [str(i) for i in range(table.n_rows)])
    return ids, feats.encode(table.numeric(idx, "feature"))

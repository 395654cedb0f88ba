"""Datasets: seeded synthetic generators, CSV loading with feature selection,
train/validation split, normalisation fitted on the training split, batching.

A generator is a function ``fn(rng, *, n_samples, noise, ...) -> Generated``.
Its keyword parameters and their defaults become the keys a preset may set in
``[data]`` (with the defaults' types), so a new generator needs one function.
"""

from __future__ import annotations

import fnmatch
import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .batching import batch_count
from .csvload import CsvFile, column_keys, open_csv
from .errors import DataError, SpecError
from .fields import Field
from .filecheck import check_predict_file, check_training_file
from .splits import split_rows

if TYPE_CHECKING:
    from .spec import Spec


@dataclass
class Generated:
    x: np.ndarray  # [n, d] raw coordinates (1-D curves: d = 1; playground: d = 2)
    y: np.ndarray  # [n] float targets or int labels
    target_fn: Callable[[np.ndarray], np.ndarray] | None = None  # clean curve, for plots
    feature_names: list[str] | None = None


@dataclass
class Generator:
    fn: Callable[..., Generated]
    task: str  # regression | classification
    fields: dict[str, Field]
    doc: str


GENERATORS: dict[str, Generator] = {}
SIGNED = ("x_min", "x_max", "position")  # generator parameters that may be negative
MINIMUM = {"n_samples": 4, "n_features": 1, "window": 1, "history": 1, "periods": 0.0, "kinks": 0}  # the rest: >= 0
MAXIMUM = {"n_samples": 10_000_000, "n_features": 10_000, "window": 10_000, "history": 10_000, "periods": 1e6,
           "kinks": 100_000,
           "noise": 1e6, "trend": 1e6, "weekly": 1.0, "spikes": 1.0, "nonlinearity": 1e6, "position": 1e9,
           "x_min": 1e9, "x_max": 1e9}  # resource and range limits (issue 14)


def generator(name: str, task: str):
    """Register ``fn`` as the generator ``name``; its keyword defaults define its preset keys."""

    def wrap(fn):
        fields = {}
        for p in list(inspect.signature(fn).parameters.values())[1:]:
            d = p.default
            kind = ("bool" if isinstance(d, bool) else "int" if isinstance(d, int)
                    else "float" if isinstance(d, float)
                    else "list[str]" if isinstance(d, (list, tuple)) else "str")
            lo = MINIMUM.get(p.name, 0.0) if kind in ("int", "float") and p.name not in SIGNED else None
            hi = MAXIMUM.get(p.name) if kind in ("int", "float") else None
            lo = -hi if p.name in SIGNED and hi else lo
            fields[p.name] = Field(kind, list(d) if isinstance(d, tuple) else d, min=lo, max=hi)
        GENERATORS[name] = Generator(fn, task, fields, (fn.__doc__ or "").strip().splitlines()[0])
        return fn

    return wrap


# ---------------------------------------------------------------- 1-D regression curves


def _curve(rng, n, x_min, x_max, noise, f) -> Generated:
    if not x_max > x_min:
        raise DataError(f"[data] x_max = {x_max} must be larger than x_min = {x_min}.")
    x = rng.uniform(x_min, x_max, size=(n, 1))
    y = f(x[:, 0]) + noise * rng.standard_normal(n)
    return Generated(x, y, f, ["x"])


@dataclass(frozen=True)
class PiecewiseLinear:
    """The curve through the knots (xs, ys), linear between them: a target that knows its own pieces."""

    xs: np.ndarray
    ys: np.ndarray
    exact: Callable[[np.ndarray], np.ndarray] | None = None  # the same curve as a formula (its own rounding)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.exact(x) if self.exact is not None else np.interp(x, self.xs, self.ys)


@generator("piecewise", "regression")
def piecewise(rng, n_samples: int = 256, kinks: int = 3, noise: float = 0.05,
              x_min: float = -3.0, x_max: float = 3.0) -> Generated:
    """A piecewise-linear curve with the given number of kinks (a constant plus a sum of hard sigmoids)."""
    if kinks < 0:
        raise SpecError("[data] kinks must be >= 0")
    knots = np.linspace(x_min, x_max, kinks + 2)
    inner = knots[1:-1] + rng.uniform(-0.3, 0.3, kinks) * (x_max - x_min) / (kinks + 1)
    xs = np.concatenate([[x_min], np.sort(inner), [x_max]])
    ys = np.cumsum(rng.uniform(-1.0, 1.0, kinks + 2) * np.sign(rng.standard_normal(kinks + 2)))
    ys = (ys - ys.mean()) / (ys.std() + 1e-12)
    return _curve(rng, n_samples, x_min, x_max, noise, PiecewiseLinear(xs, ys))


@generator("sin", "regression")
def sine(rng, n_samples: int = 256, periods: float = 1.0, noise: float = 0.05,
         x_min: float = -3.0, x_max: float = 3.0) -> Generated:
    """A smooth curve, sin, for piecewise-linear approximation."""
    w = 2 * math.pi * periods / (x_max - x_min)
    return _curve(rng, n_samples, x_min, x_max, noise, lambda x: np.sin(w * (x - x_min)))


@generator("step", "regression")
def step(rng, n_samples: int = 256, position: float = 0.0, noise: float = 0.05,
         x_min: float = -3.0, x_max: float = 3.0, width: float = 0.0) -> Generated:
    """A hard sigmoid: 0, a straight ramp of the given width centred on position, then 1 (width 0: a step)."""
    if width > 0:
        # clip((x - position) / width + 0.5, 0, 1), as a curve that knows its one hard sigmoid
        ramp = PiecewiseLinear(np.array([position - width / 2, position + width / 2]), np.array([0.0, 1.0]),
                               lambda x: np.clip((x - position) / width + 0.5, 0.0, 1.0))
        return _curve(rng, n_samples, x_min, x_max, noise, ramp)
    return _curve(rng, n_samples, x_min, x_max, noise, lambda x: (x > position).astype(float))


@generator("regression", "regression")
def regression(rng, n_samples: int = 512, n_features: int = 8, nonlinearity: float = 0.5,
               noise: float = 0.1) -> Generated:
    """Multi-feature regression: a linear part plus a nonlinear part of the given weight."""
    x = rng.standard_normal((n_samples, n_features))
    w = rng.standard_normal(n_features) / math.sqrt(n_features)
    v = rng.standard_normal((n_features, 2))
    y = (1 - nonlinearity) * x @ w + nonlinearity * (np.abs(x @ v[:, 0]) - np.tanh(2 * x @ v[:, 1]))
    y = y + noise * rng.standard_normal(n_samples)
    return Generated(x, y, None, [f"x{i + 1}" for i in range(n_features)])


@generator("views", "regression")
def views(rng, n_samples: int = 1000, window: int = 7, weekly: float = 0.4, trend: float = 1.0,
          spikes: float = 0.03, noise: float = 0.05, history: int = 56) -> Generated:
    """SYNTHETIC daily views (made up, not a real channel): weekly rhythm x slow trend, plus noise.

    A seeded series of ``history + n_samples`` days, in thousands of views: a level that drifts
    upwards (``trend``, plus a slow random wander) times a weekly rhythm (weekends low, of depth
    ``weekly``), plus "viral" spikes (on a fraction ``spikes`` of the days) that halve each day
    after, times (1 + ``noise`` x N(0, 1)) per day. The targets are the last ``n_samples`` days,
    in time order; each one's inputs are the ``window`` days before it (oldest first,
    ``day-window`` ... ``day-1``). The series does not depend on ``window`` (at most ``history``),
    so windows are compared on the same days.
    """
    if not 1 <= window <= history:
        raise SpecError(f"[data] window = {window} must be between 1 and history = {history} (the days "
                        "before the first target; raise [data] history for a longer window)")
    n_days = n_samples + history
    t = np.arange(n_days)
    wander = np.cumsum(rng.standard_normal(n_days)) * 0.03
    wander = np.convolve(wander, np.ones(28) / 28, mode="same")
    level = 2.0 + trend * t / 365.0 + wander
    shape = np.array([0.05, 0.1, 0.1, 0.05, -0.1, -1.0, -0.6])  # Mon..Sun, weekends low
    rhythm = 1.0 + weekly * shape[(t + int(rng.integers(7))) % 7]
    kicks = (rng.random(n_days) < spikes) * rng.uniform(0.3, 1.0, n_days) * level
    viral = np.zeros(n_days)
    for i in range(n_days):
        viral[i] = kicks[i] + (0.5 * viral[i - 1] if i else 0.0)
    v = np.maximum((level * rhythm + viral) * (1.0 + noise * rng.standard_normal(n_days)), 0.0)
    idx = (history - window) + np.arange(n_samples)[:, None] + np.arange(window)[None, :]
    x, y = v[idx], v[history:]
    return Generated(x, y, None, [f"day-{window - i}" for i in range(window)])


# ---------------------------------------------------------------- 2-D classification (Playground)


def _two_classes(x0, x1, rng, noise) -> Generated:
    x = np.concatenate([x0, x1]) + noise * rng.standard_normal((len(x0) + len(x1), 2))
    y = np.concatenate([np.zeros(len(x0), int), np.ones(len(x1), int)])
    return Generated(x, y, None, ["x1", "x2"])


@generator("xor", "classification")
def xor(rng, n_samples: int = 400, noise: float = 0.2) -> Generated:
    """Playground's XOR: the label is the sign of x1 * x2."""
    x = rng.uniform(-5, 5, (n_samples, 2))
    x += np.sign(x) * 0.3  # a small margin around the axes, as Playground has
    y = (x[:, 0] * x[:, 1] > 0).astype(int)
    x = x + noise * rng.standard_normal(x.shape)
    return Generated(x, y, None, ["x1", "x2"])


@generator("circles", "classification")
def circles(rng, n_samples: int = 400, noise: float = 0.2) -> Generated:
    """Playground's circle: one class inside a disc, the other in a ring around it."""
    n = n_samples // 2
    r0, r1 = rng.uniform(0, 2.0, n), rng.uniform(3.5, 5.0, n_samples - n)
    t0, t1 = rng.uniform(0, 2 * math.pi, n), rng.uniform(0, 2 * math.pi, n_samples - n)
    pol = lambda r, t: np.stack([r * np.cos(t), r * np.sin(t)], 1)  # noqa: E731
    return _two_classes(pol(r0, t0), pol(r1, t1), rng, noise)


@generator("gauss", "classification")
def gauss(rng, n_samples: int = 400, noise: float = 0.5) -> Generated:
    """Playground's two Gaussian blobs."""
    n = n_samples // 2
    return _two_classes(rng.standard_normal((n, 2)) + 2.0, rng.standard_normal((n_samples - n, 2)) - 2.0,
                        rng, noise)


@generator("spiral", "classification")
def spiral(rng, n_samples: int = 400, noise: float = 0.2) -> Generated:
    """Playground's two interleaved spirals."""
    n = n_samples // 2

    def arm(k, delta):
        i = np.arange(k)
        r = i / k * 5.0
        t = 1.75 * i / k * 2 * math.pi + delta
        return np.stack([r * np.sin(t), r * np.cos(t)], 1)

    return _two_classes(arm(n, 0.0), arm(n_samples - n, math.pi), rng, noise)


@generator("moons", "classification")
def moons(rng, n_samples: int = 400, noise: float = 0.2) -> Generated:
    """Two interleaving half moons."""
    n = n_samples // 2
    t0, t1 = rng.uniform(0, math.pi, n), rng.uniform(0, math.pi, n_samples - n)
    a = np.stack([np.cos(t0), np.sin(t0)], 1) * 2.5
    b = np.stack([1 - np.cos(t1), 0.5 - np.sin(t1)], 1) * 2.5 - [1.25, 0.0]
    return _two_classes(a - [0.0, 0.5], b, rng, noise)


PLAYGROUND_INPUTS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "x1": lambda r: r[:, 0],
    "x2": lambda r: r[:, 1],
    "x1^2": lambda r: r[:, 0] ** 2,
    "x2^2": lambda r: r[:, 1] ** 2,
    "x1*x2": lambda r: r[:, 0] * r[:, 1],
    "sin(x1)": lambda r: np.sin(r[:, 0]),
    "sin(x2)": lambda r: np.sin(r[:, 1]),
}
for _g in ("xor", "circles", "gauss", "spiral", "moons"):
    GENERATORS[_g].fields["inputs"] = Field(
        "list[str]", ["x1", "x2"], choices=tuple(PLAYGROUND_INPUTS),
        help="Playground's input features: x1, x2, x1^2, x2^2, x1*x2, sin(x1), sin(x2)")
for _g in GENERATORS.values():
    _g.fields.setdefault("normalize", Field("bool", False, help="z-score inputs on the training split"))


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
    seed = spec.values["training"]["seed"]
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
    """The whole network's size, and values too large to train on, before any weight exists (issue 14)."""
    from .limits import check_magnitude, check_model_size

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
    tr, va, te = _split(d, len(y), spec.values["training"]["seed"])
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
        from .limits import MAX_CLASSES

        if y.max() >= MAX_CLASSES:  # before an output layer of that size exists (issue 14)
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

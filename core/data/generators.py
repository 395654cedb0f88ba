"""Seeded synthetic data sets: the lecture's curves (piecewise, sin, step, views) and Playground's
2-D classification sets.

A generator is a function ``fn(rng, *, n_samples, noise, ...) -> Generated``. Its keyword parameters and
their defaults become the keys a preset may set in ``[data]`` (with the defaults' types), so a new
generator needs one function.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..config.fields import Field
from ..errors import DataError, SpecError


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
           "x_min": 1e9, "x_max": 1e9}  # resource and range limits


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


# ---------------------------------------------------------------- 2-D regression (Playground)

GAUSSIANS = ((-4.0, 2.5, 1.0), (0.0, 2.5, -1.0), (4.0, 2.5, 1.0), (-4.0, -2.5, -1.0), (0.0, -2.5, 1.0),
             (4.0, -2.5, -1.0))  # Playground's six bumps: centre x1, x2 and sign


def _plane_points(rng, n_samples, noise, label) -> Generated:
    """Uniform points on [-6, 6]^2 labelled at a nearby point (Playground's noise: an offset of up to
    ``noise`` times the radius in each coordinate before the label is taken)."""
    x = rng.uniform(-6.0, 6.0, (n_samples, 2))
    shift = rng.uniform(-6.0, 6.0, (n_samples, 2)) * noise
    return Generated(x, label(x + shift), None, ["x1", "x2"])


@generator("plane", "regression")
def plane(rng, n_samples: int = 400, noise: float = 0.0) -> Generated:
    """Playground's plane: the target rises linearly along x1 + x2, from -1.2 to 1.2."""
    return _plane_points(rng, n_samples, noise, lambda p: (p[:, 0] + p[:, 1]) / 10.0)


@generator("multi_gaussian", "regression")
def multi_gaussian(rng, n_samples: int = 400, noise: float = 0.0) -> Generated:
    """Playground's multi gaussian: six bumps, up and down, on a flat plane."""
    def label(p):
        out = np.zeros(len(p))
        for cx, cy, sign in GAUSSIANS:
            bump = sign * np.clip(1.0 - np.hypot(p[:, 0] - cx, p[:, 1] - cy) / 2.0, 0.0, 1.0)
            out = np.where(np.abs(bump) > np.abs(out), bump, out)  # the strongest bump at each point
        return out

    return _plane_points(rng, n_samples, noise, label)


PLAYGROUND_INPUTS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "x1": lambda r: r[:, 0],
    "x2": lambda r: r[:, 1],
    "x1^2": lambda r: r[:, 0] ** 2,
    "x2^2": lambda r: r[:, 1] ** 2,
    "x1*x2": lambda r: r[:, 0] * r[:, 1],
    "sin(x1)": lambda r: np.sin(r[:, 0]),
    "sin(x2)": lambda r: np.sin(r[:, 1]),
}
for _g in ("xor", "circles", "gauss", "spiral", "moons", "plane", "multi_gaussian"):
    GENERATORS[_g].fields["inputs"] = Field(
        "list[str]", ["x1", "x2"], choices=tuple(PLAYGROUND_INPUTS),
        help="Playground's input features: x1, x2, x1^2, x2^2, x1*x2, sin(x1), sin(x2)")
for _g in GENERATORS.values():
    _g.fields.setdefault("normalize", Field("bool", False, help="z-score inputs on the training split"))

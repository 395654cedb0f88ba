"""What a network has learned, as numbers a plot can draw (pure NumPy, no terminal).

- ``forward_all``: every layer's activation for a batch of model inputs.
- ``unit_contributions``: for a 1-output regression net, the last hidden layer's units
  as functions of the input, each times its output weight: prediction = bias + sum of
  contributions (the lecture's "a constant plus a sum of hard sigmoids").
- ``decision_grid``: the predicted class over a grid of raw 2-D coordinates.
- ``grid_1d`` / ``padded_range``: the grids those are evaluated on.

Parameters are the backends' ``get_params()`` format: [(W [out, in], b [out]), ...];
activations are the hidden layers' names (``spec.activations``); the output layer is identity.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .nn import ACTIVATIONS

Params = list[tuple[np.ndarray, np.ndarray]]


def activate(name: str, z: np.ndarray) -> np.ndarray:
    """sigma(z) for the activation ``name`` (float64, no state kept)."""
    return ACTIVATIONS[name]().forward(z)


def forward_all(params: Params, activations: list[str], x: np.ndarray) -> list[np.ndarray]:
    """[a_1, ..., a_L]: each layer's output for inputs x [n, in] (the last is the network output)."""
    a = np.asarray(x, np.float64)
    out = []
    for i, (W, b) in enumerate(params):
        z = a @ np.asarray(W, np.float64).T + np.asarray(b, np.float64)
        a = activate(activations[i], z) if i < len(activations) else z
        out.append(a)
    return out


def predict(params: Params, activations: list[str], x: np.ndarray) -> np.ndarray:
    """Network outputs [n, n_out] for model inputs x, in float64."""
    return forward_all(params, activations, x)[-1]


@dataclass
class Contributions:
    units: np.ndarray  # [n, k]: c_j * a_j(x) for each unit j of the last hidden layer
    bias: float  # the output bias: the constant the units are added to
    prediction: np.ndarray  # [n]: bias + units.sum(1), the network's output
    activation: str  # the last hidden layer's activation ("" for a linear model)


def unit_contributions(params: Params, activations: list[str], x: np.ndarray,
                       output: int = 0) -> Contributions:
    """Split output ``output`` into the constant (its bias) plus one term per last-hidden unit.

    With one hidden layer each term is c_j * sigma(b_j + w_j x); with more layers it is c_j times
    the last hidden layer's unit j, still a function of x. A net without hidden layers has no units.
    """
    acts = forward_all(params, activations, x)
    W_out, b_out = params[-1]
    c = np.asarray(W_out, np.float64)[output]
    bias = float(np.asarray(b_out, np.float64)[output])
    if len(params) == 1:
        units = np.zeros((len(acts[-1]), 0))
        return Contributions(units, bias, acts[-1][:, output], "")
    units = acts[-2] * c[None, :]
    return Contributions(units, bias, acts[-1][:, output], activations[len(params) - 2])


def padded_range(values: np.ndarray, pad: float = 0.05) -> tuple[float, float]:
    """(lo, hi) of ``values`` widened by ``pad`` of the span on each side (never empty)."""
    v = np.asarray(values, np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return -1.0, 1.0
    lo, hi = float(v.min()), float(v.max())
    span = hi - lo if hi > lo else max(abs(lo), 1.0)
    return lo - pad * span, hi + pad * span


def grid_1d(raw: np.ndarray, n: int = 200, pad: float = 0.0) -> np.ndarray:
    """n evenly spaced raw coordinates [n, 1] spanning the data's single column."""
    lo, hi = padded_range(np.asarray(raw)[:, 0], pad)
    return np.linspace(lo, hi, n).reshape(-1, 1)


@dataclass
class DecisionGrid:
    classes: np.ndarray  # [ny, nx] int: predicted class at each cell centre; row 0 is the TOP (largest x2)
    x1: np.ndarray  # [nx] cell-centre coordinates
    x2: np.ndarray  # [ny] cell-centre coordinates, top to bottom (descending)
    x1_range: tuple[float, float]  # the whole grid's extent
    x2_range: tuple[float, float]


def decision_grid(params: Params, activations: list[str], encode: Callable[[np.ndarray], np.ndarray],
                  x1_range: tuple[float, float], x2_range: tuple[float, float],
                  nx: int, ny: int) -> DecisionGrid:
    """argmax of the network's output at the centres of an nx x ny grid of raw (x1, x2) cells.

    ``encode`` maps raw coordinates to model inputs (``Dataset.features.encode``: Playground
    expansion such as sin(x1), and normalisation).
    """
    (a, b), (c, d) = x1_range, x2_range
    x1 = a + (np.arange(nx) + 0.5) * (b - a) / nx
    x2 = d - (np.arange(ny) + 0.5) * (d - c) / ny
    g1, g2 = np.meshgrid(x1, x2)
    raw = np.stack([g1.ravel(), g2.ravel()], 1)
    out = predict(params, activations, encode(raw))
    classes = (out.argmax(1) if out.shape[1] > 1 else (out[:, 0] > 0).astype(int)).reshape(ny, nx)
    return DecisionGrid(classes, x1, x2, (a, b), (c, d))


def cell_of(points: np.ndarray, grid: DecisionGrid) -> tuple[np.ndarray, np.ndarray]:
    """(row, col) of the grid cell each raw point [n, 2] falls in (clipped to the grid)."""
    ny, nx = grid.classes.shape
    (a, b), (c, d) = grid.x1_range, grid.x2_range
    col = np.floor((points[:, 0] - a) / (b - a) * nx).astype(int)
    row = np.floor((d - points[:, 1]) / (d - c) * ny).astype(int)
    return np.clip(row, 0, ny - 1), np.clip(col, 0, nx - 1)


# ---------------------------------------------------------------- every neuron, and the target's own pieces


def plane(x1_range: tuple[float, float], x2_range: tuple[float, float], nx: int, ny: int) -> np.ndarray:
    """Raw (x1, x2) at the centres of an nx x ny grid, row 0 at the top (largest x2): [ny * nx, 2]."""
    (a, b), (c, d) = x1_range, x2_range
    x1 = a + (np.arange(nx) + 0.5) * (b - a) / nx
    x2 = d - (np.arange(ny) + 0.5) * (d - c) / ny
    g1, g2 = np.meshgrid(x1, x2)
    return np.stack([g1.ravel(), g2.ravel()], 1)


def unit_output(params: Params, activations: list[str], x: np.ndarray, layer: int, unit: int) -> np.ndarray:
    """Hidden unit ``unit`` of hidden layer ``layer`` (both from 0): its activation for inputs x [n]."""
    return forward_all(params, activations, x)[layer][:, unit]


def class_probabilities(params: Params, activations: list[str], x: np.ndarray) -> np.ndarray:
    """Softmax of the network's outputs [n, k] (one output: a sigmoid, as two classes)."""
    out = predict(params, activations, x)
    if out.shape[1] == 1:
        p = 1.0 / (1.0 + np.exp(-np.clip(out[:, 0], -500, 500)))
        return np.stack([1 - p, p], 1)
    z = out - out.max(1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(1, keepdims=True)


def activation_range(name: str, values: np.ndarray) -> tuple[float, float]:
    """The scale a unit's output is shaded on: its activation's own range where bounded."""
    if name == "tanh":
        return -1.0, 1.0
    if name in ("sigmoid", "hard_sigmoid"):
        return 0.0, 1.0
    v = np.asarray(values, np.float64)
    v = v[np.isfinite(v)]
    lo, hi = (float(v.min()), float(v.max())) if v.size else (0.0, 1.0)
    lo = min(lo, 0.0)
    return (lo, hi) if hi > lo else (lo, lo + 1.0)


def hard_sigmoid_parts(knots_x, knots_y, x: np.ndarray) -> tuple[float, np.ndarray]:
    """A piecewise-linear curve through (knots_x, knots_y) as the lecture writes it: the constant
    knots_y[0] plus one hard sigmoid per linear piece - flat at 0, a ramp over the piece, flat at the
    piece's rise - so constant + parts.sum(1) is the curve exactly. (constant, parts [n, pieces])."""
    xs, ys = np.asarray(knots_x, np.float64), np.asarray(knots_y, np.float64)
    x = np.asarray(x, np.float64).reshape(-1)
    width = np.maximum(np.diff(xs), 1e-12)
    ramp = np.clip((x[:, None] - xs[None, :-1]) / width[None, :], 0.0, 1.0)
    return float(ys[0]), ramp * np.diff(ys)[None, :]

"""Gradient checks: backprop's gradient against a central finite difference, and against PyTorch
autograd (torch is imported only by ``torch_autograd_check``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .nn import ACTIVATIONS
from .trace import Trace


@dataclass(frozen=True)
class GradCheck:
    layer: int  # 1-based
    param: str  # "W" or "b"
    i: int
    j: int | None  # None for a bias
    backprop: float
    other: float  # the finite-difference (or autograd) value
    rel_err: float

    @property
    def name(self) -> str:
        return f"W({self.layer})[{self.i},{self.j}]" if self.param == "W" else f"b({self.layer})[{self.i}]"


def rel_error(a: float, b: float) -> float:
    """|a - b| / max(|a|, |b|), 0 when both are 0 (tiny values compare absolutely)."""
    scale = max(abs(a), abs(b))
    return 0.0 if scale == 0.0 else abs(a - b) / max(scale, 1e-12)


def default_picks(trace: Trace, per_layer: int = 2) -> list[tuple[int, str, int, int | None]]:
    """A few weights per layer to check: the largest gradient, one other weight, one bias."""
    picks = []
    for lt in trace.layers:
        dW = np.abs(np.asarray(lt.dW, np.float64))
        i, j = np.unravel_index(int(np.argmax(dW)), dW.shape)
        picks.append((lt.index, "W", int(i), int(j)))
        if per_layer > 1 and dW.size > 1:
            k = (lt.index * 7919) % dW.size
            if np.unravel_index(k, dW.shape) == (i, j):
                k = (k + 1) % dW.size
            i2, j2 = np.unravel_index(k, dW.shape)
            picks.append((lt.index, "W", int(i2), int(j2)))
        db = np.abs(np.asarray(lt.db, np.float64))
        picks.append((lt.index, "b", int(np.argmax(db)), None))
    return picks


def loss_at(params: list[tuple[np.ndarray, np.ndarray]], activations: list[str], loss: str,
            x: np.ndarray, y: np.ndarray) -> float:
    """The batch-mean loss of a network, forward only, in float64 with plain NumPy."""
    a = np.asarray(x, np.float64)
    for (W, b), act in zip(params, activations):
        z = a @ np.asarray(W, np.float64).T + np.asarray(b, np.float64)
        a = ACTIVATIONS[act]().forward(z)
    if loss == "mse":
        return float(np.mean((a - np.asarray(y, np.float64)) ** 2))
    labels = np.asarray(y).astype(int)
    shifted = a - a.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-logp[np.arange(len(labels)), labels].mean())


def _params_of(trace: Trace) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(np.array(lt.W, np.float64), np.array(lt.b, np.float64)) for lt in trace.layers]


def finite_difference_check(source, x=None, y=None, picks=None, eps: float = 1e-6) -> list[GradCheck]:
    """Backprop's gradient vs a central difference (C(w+eps) - C(w-eps)) / 2eps, computed in float64
    with plain NumPy from the trace's W, b, x and y.

    ``source`` is a Trace, or a Backend to trace on (x, y) first. ``picks`` are (layer, "W"|"b", i, j)
    tuples (j None for a bias); by default a few per layer (``default_picks``)."""
    trace = source if isinstance(source, Trace) else source.trace(x, y)
    picks = default_picks(trace) if picks is None else picks
    acts = [lt.activation for lt in trace.layers]
    out = []
    for layer, param, i, j in picks:
        params = _params_of(trace)
        W, b = params[layer - 1]
        arr, idx = (W, (i, j)) if param == "W" else (b, (i,))
        old = arr[idx]
        arr[idx] = old + eps
        up = loss_at(params, acts, trace.loss, trace.x, trace.y)
        arr[idx] = old - eps
        down = loss_at(params, acts, trace.loss, trace.x, trace.y)
        numeric = (up - down) / (2 * eps)
        lt = trace.layers[layer - 1]
        bp = float(np.asarray(lt.dW if param == "W" else lt.db)[idx])
        out.append(GradCheck(layer, param, i, j, bp, numeric, rel_error(bp, numeric)))
    return out


def torch_autograd_check(source, x=None, y=None, picks=None) -> list[GradCheck] | None:
    """Backprop's gradient vs PyTorch autograd (float64, CPU) on the same W, b, x and y; None
    without torch. ``source`` is a Trace or a Backend to trace on (x, y)."""
    trace = source if isinstance(source, Trace) else source.trace(x, y)
    try:
        import torch
    except ImportError:
        return None
    picks = default_picks(trace) if picks is None else picks
    params = [(torch.tensor(W, dtype=torch.float64, requires_grad=True),
               torch.tensor(b, dtype=torch.float64, requires_grad=True)) for W, b in _params_of(trace)]
    from ..backends.torch_ops import ACTIVATION_FUNCTIONS as fns

    a = torch.tensor(np.asarray(trace.x, np.float64))
    for (W, b), lt in zip(params, trace.layers):
        a = fns[lt.activation](a @ W.T + b)
    if trace.loss == "mse":
        C = torch.nn.functional.mse_loss(a, torch.tensor(np.asarray(trace.y, np.float64)))
    else:
        C = torch.nn.functional.cross_entropy(a, torch.tensor(np.asarray(trace.y).astype(np.int64)))
    C.backward()
    out = []
    for layer, param, i, j in picks:
        W, b = params[layer - 1]
        idx = (i, j) if param == "W" else (i,)
        auto = float((W.grad if param == "W" else b.grad)[idx])
        lt = trace.layers[layer - 1]
        bp = float(np.asarray(lt.dW if param == "W" else lt.db)[idx])
        out.append(GradCheck(layer, param, i, j, bp, auto, rel_error(bp, auto)))
    return out

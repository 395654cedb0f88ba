"""One full forward + backward record for one mini-batch, for the step-through.

Every array is a NumPy array (host copies), whatever backend produced it,
with W in the lecture's [out, in] layout. ``to_json`` writes every array with
its shape, for handouts, notebooks and tests.

Besides the record itself this module has what the step-through and ``dltui trace``
share: choosing the mini-batch (``trace_batch``), the stages in the lecture's order
with their formulas and numbers (``stages``), a plain-text rendering (``trace_text``),
and the gradient checks (``finite_difference_check``, ``torch_autograd_check``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class LayerTrace:
    index: int  # 1-based
    activation: str
    W: np.ndarray  # [out, in]
    b: np.ndarray  # [out]
    a_in: np.ndarray  # [batch, in]   a(l-1)
    z: np.ndarray  # [batch, out]  z(l) = W a(l-1) + b
    a: np.ndarray  # [batch, out]  a(l) = sigma(z(l))
    delta: np.ndarray  # [batch, out]  dC/dz(l)
    dW: np.ndarray  # [out, in]     dC/dW(l) = delta(l)^T a(l-1)
    db: np.ndarray  # [out]         dC/db(l) = sum over the batch of delta(l)
    update: dict[str, np.ndarray] = field(default_factory=dict)  # {"W": dW_applied, "b": db_applied}
    optimizer_state: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)  # {"m": {"W":..,"b":..}}


@dataclass
class Trace:
    x: np.ndarray
    y: np.ndarray
    loss: str  # "mse" | "cross_entropy"
    C: float  # batch-mean loss
    output: np.ndarray  # y_hat (regression) or logits (classification)
    dC_dout: np.ndarray  # dC/d(output) that starts the backward pass
    layers: list[LayerTrace]
    optimizer: dict[str, Any]  # name, lr, step, hyper-parameters
    backend: str = "numpy"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def n_layers(self) -> int:
        return len(self.layers)

    @property
    def batch_size(self) -> int:
        return len(self.x)

    def to_dict(self) -> dict:
        def arr(a):
            a = np.asarray(a)
            return {"shape": list(a.shape), "data": a.tolist()}

        layers = []
        for lt in self.layers:
            d = {"index": lt.index, "activation": lt.activation}
            for k in ("W", "b", "a_in", "z", "a", "delta", "dW", "db"):
                d[k] = arr(getattr(lt, k))
            d["sigma_prime"] = arr(sigma_prime(lt.activation, lt.z))
            d["update"] = {k: arr(v) for k, v in lt.update.items()}
            d["optimizer_state"] = {name: {k: arr(v) for k, v in t.items()}
                                    for name, t in lt.optimizer_state.items()}
            layers.append(d)
        dtype = str(np.asarray(self.layers[0].W).dtype) if self.layers else ""
        return {"backend": self.backend, "dtype": dtype,
                "x": arr(self.x), "y": arr(self.y), "loss": self.loss, "C": float(self.C),
                "output": arr(self.output), "dC_dout": arr(self.dC_dout), "layers": layers,
                "optimizer": self.optimizer, **self.extra}

    def to_json(self, **kw) -> str:
        return json.dumps(self.to_dict(), **kw)


def sigma_prime(activation: str, z: np.ndarray) -> np.ndarray:
    """sigma'(z) for a layer's activation (1 for the identity output layer)."""
    from .nn import ACTIVATIONS

    z = np.asarray(z)
    return ACTIVATIONS[activation]().derivative(z)


# ---------------------------------------------------------------- choosing the mini-batch


def batch_rows(n: int, batch_size: int, batch: int) -> tuple[int, int]:
    """[start, stop) of mini-batch ``batch`` when n rows are cut into batches of ``batch_size``
    (0 or less: the whole set is one batch)."""
    bs = n if batch_size <= 0 else batch_size
    count = max(1, -(-n // bs))
    if not 0 <= batch < count:
        raise IndexError(f"batch {batch} does not exist: {n} rows in batches of {bs} make {count} batches "
                         f"(0..{count - 1})")
    return batch * bs, min(n, (batch + 1) * bs)


def trace_batch(source, data=None, *, batch: int | None = None, batch_size: int | None = None,
                sample: int | None = None) -> Trace:
    """Trace one mini-batch of the training set, in its stored order, at the current weights.

    ``source`` is a Trainer (its backend, data and batch size; the trace runs through
    ``trainer.call`` so it reads a consistent network) or a Backend (then give ``data``).
    ``sample`` is a row of the training set: the batch is the one holding it (unless ``batch``
    is given) and ``trace.extra["sample"]`` is its row within the batch.
    """
    backend = getattr(source, "backend", source)
    data = data if data is not None else source.data
    if batch_size is None:
        batch_size = getattr(source, "batch_size", 0)
    n = len(data.x_train)
    bs = n if batch_size <= 0 else min(batch_size, n)
    if sample is not None and not 0 <= sample < n:
        raise IndexError(f"sample {sample} does not exist: the training set has {n} rows (0..{n - 1})")
    if batch is None:
        batch = 0 if sample is None else sample // bs
    start, stop = batch_rows(n, bs, batch)
    row = 0 if sample is None else sample - start
    if not 0 <= row < stop - start:
        raise IndexError(f"sample {sample} is not in batch {batch} (rows {start}..{stop - 1})")
    x, y = data.x_train[start:stop], data.y_train[start:stop]
    if hasattr(source, "call"):
        tr = source.call(lambda be: be.trace(x, y)).result(timeout=30)
    else:
        tr = backend.trace(x, y)
    tr.extra["batch"] = {"index": batch, "rows": [start, stop], "size": stop - start, "n_train": n,
                         "count": -(-n // bs)}
    tr.extra["sample"] = row
    return tr


# ---------------------------------------------------------------- gradient checks


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
        a = {"identity": lambda z: z, "relu": lambda z: np.maximum(z, 0.0),
             "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)), "tanh": np.tanh,
             "hard_sigmoid": lambda z: np.clip(z / 6.0 + 0.5, 0.0, 1.0),
             "leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z)}[act](z)
    if loss == "mse":
        return float(np.mean((a - np.asarray(y, np.float64)) ** 2))
    labels = np.asarray(y).astype(int)
    shifted = a - a.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-logp[np.arange(len(labels)), labels].mean())


def _params_of(trace: Trace) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(np.array(lt.W, np.float64), np.array(lt.b, np.float64)) for lt in trace.layers]


def finite_difference_check(trace: Trace, picks=None, eps: float = 1e-6) -> list[GradCheck]:
    """The trace's backprop gradient vs a central difference (C(w+eps) - C(w-eps)) / 2eps,
    computed in float64 with plain NumPy from the trace's W, b, x and y."""
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


def torch_autograd_check(trace: Trace, picks=None) -> list[GradCheck] | None:
    """The trace's backprop gradient vs PyTorch autograd (float64, CPU); None without torch."""
    try:
        import torch
    except ImportError:
        return None
    picks = default_picks(trace) if picks is None else picks
    params = [(torch.tensor(W, dtype=torch.float64, requires_grad=True),
               torch.tensor(b, dtype=torch.float64, requires_grad=True)) for W, b in _params_of(trace)]
    fns = {"identity": lambda z: z, "relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh,
           "hard_sigmoid": torch.nn.functional.hardsigmoid,
           "leaky_relu": lambda z: torch.nn.functional.leaky_relu(z, 0.01)}
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

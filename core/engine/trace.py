"""One full forward + backward record for one mini-batch, for the step-through.

Every array is a NumPy array (host copies), whatever backend produced it,
with W in the lecture's [out, in] layout. ``to_json`` writes every array with
its shape, for handouts, notebooks and tests.

What works on the record lives beside it, each findable by name: choosing the mini-batch
(``batch_trace.trace_batch``), the stages in the lecture's order (``stages``: one function per stage,
F, C, B, G, U), the gradient checks (``gradcheck``) and the plain-text rendering (``trace_text``).
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

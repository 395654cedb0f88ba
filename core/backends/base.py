"""The interface both backends implement. The trainer only talks to this."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

import numpy as np

from ..events import LayerStats

if TYPE_CHECKING:
    from ..config.spec import Spec
    from ..engine.trace import Trace

HIST_BINS = 8

# What a backend may offer beyond the interface, declared in its ``capabilities`` (never probed):
GRADIENTS = "gradients"  # get_grads() returns each layer's last weight gradient
CHEAP_LOSS = "cheap_loss"  # last_loss() costs nothing: the trainer checks every batch for divergence
DEVICE_INFO = "device_info"  # device_info() tells the device's name and memory (a GPU)
GRAPH = "graph"  # training.graph (a captured CUDA graph) can apply
CAPABILITIES = frozenset({GRADIENTS, CHEAP_LOSS, DEVICE_INFO, GRAPH})


def layer_sizes(spec: Spec, n_in: int, n_out: int) -> list[int]:
    """[inputs, hidden..., outputs]: the network a preset builds on data with n_in features."""
    return [n_in, *spec.values["model"]["hidden"], n_out]


def initial_params(spec: Spec, n_in: int, n_out: int):
    """The seed's initial weights, the same for both backends."""
    from ..data.splits import init_seed
    from ..engine.nn import init_params

    m = spec.values["model"]
    return init_params(layer_sizes(spec, n_in, n_out), m["init"], m["init_scale"], init_seed(spec.values))


def optimizer_info(cfg: dict, step: int) -> dict:
    """The optimizer's name, learning rate, step and hyper-parameters, as a trace shows them."""
    keys = {"sgd": ("momentum", "weight_decay", "l1"), "adam": ("beta1", "beta2", "eps", "weight_decay", "l1"),
            "adamw": ("beta1", "beta2", "eps", "weight_decay", "l1")}[cfg["name"]]
    return {"name": cfg["name"], "lr": cfg["lr"], "step": step, **{k: cfg[k] for k in keys}}


class Backend(ABC):
    """A network plus its optimizer and its data, on one device.

    Life cycle: ``set_data`` once; per epoch ``begin_epoch(perm)`` then ``train_step(b)``
    for b in 0..batches-1, then ``epoch_loss()``. ``evaluate`` runs without gradient work.
    Parameters travel as NumPy: ``get_params()`` -> [(W [out, in], b [out]), ...].
    """

    name = "base"
    device = "cpu"
    capabilities: frozenset[str] = frozenset()  # a subset of CAPABILITIES
    warning: str | None = None  # something the person should know about this run (a setting ignored)
    auto_reason: str | None = None  # why `--backend auto` chose this backend (set by make_backend)

    @abstractmethod
    def set_data(self, x_train: np.ndarray, y_train: np.ndarray, x_val: np.ndarray, y_val: np.ndarray,
                 batch_size: int) -> None: ...

    @abstractmethod
    def begin_epoch(self, perm: np.ndarray) -> None:
        """Shuffle the training set by ``perm`` for this epoch."""

    @abstractmethod
    def train_step(self, b: int) -> None:
        """Forward, backward and one optimizer step on mini-batch ``b`` of this epoch."""

    @abstractmethod
    def last_loss(self) -> float:
        """The last mini-batch's loss (may synchronise a device)."""

    @abstractmethod
    def epoch_loss(self) -> float:
        """Mean training loss of the batches since ``begin_epoch`` (weighted by batch size)."""

    @abstractmethod
    def evaluate(self, split: str = "val") -> tuple[float, float | None]:
        """(loss, accuracy or None) on 'train' or 'val', with no gradient work."""

    @abstractmethod
    def predict(self, x: np.ndarray) -> np.ndarray:
        """Network outputs for raw model inputs x (regression values or class logits)."""

    @abstractmethod
    def get_params(self) -> list[tuple[np.ndarray, np.ndarray]]: ...

    @abstractmethod
    def set_params(self, params: list[tuple[np.ndarray, np.ndarray]]) -> None: ...

    @abstractmethod
    def set_lr(self, lr: float) -> None: ...

    @abstractmethod
    def epoch_metric(self) -> float | None:
        """Classification: the accuracy of this epoch's own batches (each measured before its update, as
        Keras reports it): no extra pass over the training set. None when not measured."""
        return None

    def refresh_grads(self) -> None:
        """Recompute the gradients of the whole training set at the current weights (after a run ends,
        on the best weights), so layer statistics describe the weights shown. Default: nothing."""

    def get_opt_state(self) -> tuple[dict[str, np.ndarray], dict]:
        """The optimizer's state as named arrays ``optim.{m|v|momentum_buffer}.{i}`` (i: W1, b1, W2, ...)
        and facts (``name``, step count ``t``), the same names on every backend (checkpoints hold them)."""
        raise NotImplementedError

    def set_opt_state(self, tensors: dict[str, np.ndarray], facts: dict) -> None:
        """Put back what ``get_opt_state`` gave; ValueError when it does not fit this optimizer."""
        raise NotImplementedError

    def mark(self) -> None:
        """Remember the parameters now, so the next ``layer_stats`` can report update ratios."""

    @abstractmethod
    def layer_stats(self) -> list[LayerStats]: ...

    @abstractmethod
    def trace(self, x: np.ndarray, y: np.ndarray) -> Trace:
        """Forward + backward on (x, y) at the current weights, and the update the optimizer would
        apply, without changing the weights or the optimizer state."""

    def get_grads(self) -> list[np.ndarray]:
        """Host copies of each layer's last weight gradient [out, in] (capability GRADIENTS)."""
        raise NotImplementedError(f"the {self.name} backend does not keep gradients")

    def device_info(self) -> dict:
        """The device's name and memory figures (capability DEVICE_INFO)."""
        return {}

    def describe_device(self) -> str:
        return self.device

    def close(self) -> None:
        """Free device memory (torch)."""


def hist_range(lo: float, hi: float) -> tuple[float, float]:
    """The range the buckets span: [lo, hi], widened by 0.5 each side when it holds one value."""
    return (lo - 0.5, hi + 0.5) if hi - lo < 1e-12 else (lo, hi)


def histogram(a: np.ndarray, bins: int = HIST_BINS) -> tuple[int, ...]:
    a = np.asarray(a, dtype=np.float64).ravel()
    if a.size == 0 or not np.all(np.isfinite(a)):
        return (0,) * bins
    lo, hi = hist_range(float(a.min()), float(a.max()))
    return tuple(int(c) for c in np.histogram(a, bins=bins, range=(lo, hi))[0])


def make_layer_stats(index: int, activation: str, W: np.ndarray, b: np.ndarray, dW: np.ndarray | None,
                     prev_W: np.ndarray | None, act_out: np.ndarray | None) -> LayerStats:
    """Statistics of one layer from host copies (float64 is fine: tiny arrays). ``dW`` None: no
    gradient is known (a checkpoint holds none): its figures are NaN and its histogram empty."""
    W = np.asarray(W, np.float64)
    no_grad = dW is None
    dW = np.full((1,), np.nan) if no_grad else np.asarray(dW, np.float64)
    w_norm = float(np.linalg.norm(W))
    ratio = None
    if prev_W is not None:
        ratio = float(np.linalg.norm(W - prev_W) / (w_norm + 1e-12))
    inactive, kind = None, ""
    if act_out is not None and act_out.size:
        a = np.asarray(act_out, np.float64)
        if activation == "relu":
            inactive, kind = float(np.mean(np.all(a <= 0.0, axis=0))), "dead"
        elif activation in ("sigmoid", "hard_sigmoid"):
            inactive, kind = float(np.mean((a < 0.02) | (a > 0.98))), "sat"
        elif activation == "tanh":
            inactive, kind = float(np.mean(np.abs(a) > 0.96)), "sat"
    return LayerStats(
        index=index, n_in=W.shape[1], n_out=W.shape[0], activation=activation,
        w_mean=float(W.mean()), w_std=float(W.std()), w_min=float(W.min()), w_max=float(W.max()),
        w_norm=w_norm, b_norm=float(np.linalg.norm(b)),
        g_mean=float(dW.mean()), g_std=float(dW.std()), g_min=float(dW.min()), g_max=float(dW.max()),
        g_norm=float(np.linalg.norm(dW)), update_ratio=ratio, inactive=inactive, inactive_kind=kind,
        w_hist=histogram(W), g_hist=() if no_grad else histogram(dW),
    )

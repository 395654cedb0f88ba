"""Optimizers with PyTorch's update rules, so both backends take the same steps.

All update parameters in place. g is the gradient dC/dp; with weight_decay (L2,
SGD/Adam) g <- g + wd * p. L1 is a proximal step after the update, on the weights only (as
TensorFlow Playground applies it): each weight shrinks by lr * l1 towards zero, and one that
would cross zero is set to exactly zero, so L1 leaves exact zeros instead of weights that
oscillate around zero:  W <- sign(W) * max(|W| - lr * l1, 0).

  SGD:       b <- momentum * b + g   (b = g on the first step); p <- p - lr * b
  Adam:      m <- m + (1 - beta1)(g - m);  v <- beta2 v + (1 - beta2) g^2
             p <- p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
  AdamW:     p <- p (1 - lr * wd), then Adam without the L2 term
"""

from __future__ import annotations

import copy

import numpy as np


class Optimizer:
    name = ""

    def __init__(self, params: list[np.ndarray], grads: list[np.ndarray], lr: float, weight_decay=0.0,
                 l1=0.0, is_weight: list[bool] | None = None):
        self.params, self.grads = params, grads
        self.lr, self.weight_decay, self.l1 = lr, weight_decay, l1
        self.is_weight = is_weight or [True] * len(params)
        self.t = 0

    def _grad(self, i: int, decay: bool) -> np.ndarray:
        g = self.grads[i]
        if decay and self.weight_decay:
            g = g + self.weight_decay * self.params[i]
        return g

    def step(self) -> None:
        self.t += 1
        for i, p in enumerate(self.params):
            self._update(i, p)
        self._shrink()

    def _update(self, i: int, p: np.ndarray) -> None:
        raise NotImplementedError

    def _shrink(self) -> None:
        """L1's proximal step: every weight moves lr * l1 towards zero and stops at exactly zero."""
        if not self.l1:
            return
        t = self.lr * self.l1
        for p, is_w in zip(self.params, self.is_weight):
            if is_w:
                p[...] = np.sign(p) * np.maximum(np.abs(p) - t, 0.0)

    def preview(self, grads: list[np.ndarray] | None = None):
        """The update each parameter would get from ``grads`` (default: the current gradients),
        as new - old, and the optimizer state after it (e.g. Adam's m and v); changes nothing."""
        twin = copy.copy(self)
        for k, v in vars(self).items():
            if k not in ("params", "grads"):
                setattr(twin, k, copy.deepcopy(v))
        twin.params = [p.copy() for p in self.params]
        twin.grads = self.grads if grads is None else grads
        twin.step()
        return [new - old for new, old in zip(twin.params, self.params)], twin.state()

    def state(self) -> dict[str, list[np.ndarray]]:
        return {}

    def export_state(self) -> tuple[dict[str, np.ndarray], dict]:
        """The state a resumed run needs, as named arrays ``optim.{name}.{i}`` (i: the parameter's index,
        W1, b1, W2, ...) and plain facts (the step count): what checkpoints store."""
        tensors = {f"optim.{k}.{i}": np.array(a) for k, arrs in self.state().items() for i, a in enumerate(arrs)}
        return tensors, {"name": self.name, "t": self.t}

    def import_state(self, tensors: dict[str, np.ndarray], facts: dict) -> None:
        """Put back what ``export_state`` gave (same optimizer, same shapes); a ValueError if it does not fit."""
        if facts.get("name") != self.name:
            raise ValueError(f"the checkpoint's optimizer is {facts.get('name')!r}, this run's is {self.name!r}")
        self.t = int(facts.get("t", 0))
        for key, arrs in self._state_lists().items():
            for i in range(len(self.params)):
                a = tensors.get(f"optim.{key}.{i}")
                if a is None:
                    continue
                if a.shape != self.params[i].shape:
                    raise ValueError(f"optimizer state optim.{key}.{i} has shape {a.shape}, "
                                     f"the parameter {self.params[i].shape}")
                arrs[i] = np.array(a, dtype=self.params[i].dtype)

    def _state_lists(self) -> dict[str, list]:
        return {}


class SGD(Optimizer):
    name = "sgd"

    def __init__(self, params, grads, lr, momentum=0.0, **kw):
        super().__init__(params, grads, lr, **kw)
        self.momentum = momentum
        self.buf: list[np.ndarray | None] = [None] * len(params)

    def _update(self, i, p):
        g = self._grad(i, decay=True)
        if self.momentum:
            if self.buf[i] is None:
                self.buf[i] = np.array(g, copy=True)
            else:
                self.buf[i] *= self.momentum
                self.buf[i] += g
            g = self.buf[i]
        p -= self.lr * g

    def state(self):
        return {"momentum_buffer": [b for b in self.buf if b is not None]} if self.momentum else {}

    def _state_lists(self):
        return {"momentum_buffer": self.buf}


class Adam(Optimizer):
    name = "adam"
    decoupled = False

    def __init__(self, params, grads, lr, beta1=0.9, beta2=0.999, eps=1e-8, **kw):
        super().__init__(params, grads, lr, **kw)
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]

    def step(self) -> None:
        self.t += 1
        self._bc1 = 1.0 - self.beta1**self.t
        self._bc2_sqrt = (1.0 - self.beta2**self.t) ** 0.5
        for i, p in enumerate(self.params):
            self._update(i, p)
        self._shrink()

    def _update(self, i, p):
        if self.decoupled and self.weight_decay:
            p *= 1.0 - self.lr * self.weight_decay
        g = self._grad(i, decay=not self.decoupled)
        m, v = self.m[i], self.v[i]
        m += (1.0 - self.beta1) * (g - m)
        v *= self.beta2
        v += (1.0 - self.beta2) * (g * g)
        denom = np.sqrt(v)
        denom /= self._bc2_sqrt
        denom += self.eps
        p -= (self.lr / self._bc1) * (m / denom)

    def state(self):
        return {"m": self.m, "v": self.v}

    def _state_lists(self):
        return {"m": self.m, "v": self.v}


class AdamW(Adam):
    name = "adamw"
    decoupled = True


def make_optimizer(cfg: dict, params, grads, is_weight) -> Optimizer:
    common = dict(weight_decay=cfg["weight_decay"], l1=cfg["l1"], is_weight=is_weight)
    if cfg["name"] == "sgd":
        return SGD(params, grads, cfg["lr"], momentum=cfg["momentum"], **common)
    cls = AdamW if cfg["name"] == "adamw" else Adam
    return cls(params, grads, cfg["lr"], beta1=cfg["beta1"], beta2=cfg["beta2"], eps=cfg["eps"], **common)

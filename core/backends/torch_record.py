"""The torch backend's record of one step for layer statistics: the weights before it (``mark``), the
activations of its forward pass and its raw gradients (what the NumPy engine's layers keep by hand)."""

from __future__ import annotations

import numpy as np
import torch

from .base import make_layer_stats
from .torch_ops import ACTIVATION_FUNCTIONS


def forward_all(linears, act_names, x: torch.Tensor, keep=lambda a: a) -> tuple[torch.Tensor, list]:
    acts, a = [], x
    for i, lin in enumerate(linears):
        a = ACTIVATION_FUNCTIONS[act_names[i]](lin(a))
        acts.append(keep(a))
    return a, acts


class StepRecord:
    def __init__(self):
        self.marked: list[np.ndarray] | None = None  # the weights before the recorded step
        self.armed = False  # the next step is recorded
        self.acts: list[torch.Tensor] | None = None
        self.grads: list[torch.Tensor] | None = None
        self.step = -1  # the step recorded

    def mark(self, linears) -> None:
        self.marked = [lin.weight.detach().to("cpu", torch.float64).numpy().copy() for lin in linears]
        self.armed = True

    def forward(self, linears, act_names, x: torch.Tensor) -> torch.Tensor:
        out, self.acts = forward_all(linears, act_names, x, keep=lambda a: a.detach())
        return out

    def took(self, weights, step: int) -> None:
        """After the recorded step's backward: its raw gradients."""
        self.grads = [W.grad.detach().clone() for W in weights]
        self.step, self.armed = step, False

    def stats(self, linears, act_names, steps: int, last_batch: torch.Tensor | None, host) -> list:
        """Statistics after the last step, like the NumPy engine's: the step recorded after ``mark``
        gives the activations before its update and the raw gradients; otherwise the gradients
        are the last step's (with the L1 term, if any) and activations are recomputed on ``last_batch``."""
        if self.step != steps:  # the recording is older than the last step
            self.acts = self.grads = None
        acts = self.acts
        if acts is None and last_batch is not None:
            with torch.no_grad():
                _, acts = forward_all(linears, act_names, last_batch)
        out = []
        for i, lin in enumerate(linears):
            W = lin.weight.detach()
            if self.grads is not None:
                dW = self.grads[i]
            else:
                dW = lin.weight.grad if lin.weight.grad is not None else torch.zeros_like(W)
            prev = self.marked[i] if self.marked else None
            act_out = host(acts[i]) if acts is not None else None
            out.append(make_layer_stats(i + 1, act_names[i], host(W), host(lin.bias), host(dW), prev, act_out))
        self.marked, self.acts, self.grads, self.armed = None, None, None, False
        return out

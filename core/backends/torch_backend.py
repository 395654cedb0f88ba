"""The PyTorch backend: the preset's network as ``nn.Sequential``, autograd for the gradients,
``torch.optim`` for the updates, on the CPU, a CUDA GPU or Apple's MPS.

It takes the same steps as the NumPy engine: the same initial weights (``initial_params``), the
same losses (mean squared error over every element, softmax cross-entropy) and the same
optimizer rules (``core/optim.py`` mirrors torch.optim's order of operations), so a float64 run
on the CPU reproduces the NumPy run to rounding.

Speed on a GPU: the data moves to the device once; each epoch is shuffled there and batches are
slices of it; the loss stays on the device (``cheap_loss = False``: the trainer reads it only
when an event needs it) and the epoch's loss is read back once. With ``training.graph = true``
on CUDA, the whole training step (forward, backward, optimizer) is captured in a CUDA graph and
replayed, which removes the kernel-launch cost that dominates small networks.

This is the only module that imports torch, and it is imported only when this backend is chosen.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..config.spec import Spec
from ..data.batching import batch_size_for
from ..errors import DeviceError, DeviceFailure
from .base import DEVICE_INFO, GRADIENTS, GRAPH, Backend, initial_params
from .device import describe_device as _describe
from .device import device_info as _device_info
from .device import resolve_device
from .torch_ops import (
    ACTIVATION_MODULES,
    TORCH_DTYPES,
    graph_setting,
    load_opt_state,
    make_optimizer,
    opt_state,
    record_graph,
    warm_up_step,
)
from .torch_record import StepRecord

GRAPH_WARMUP = 3  # eager steps on a side stream before a CUDA graph is captured


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__


class TorchBackend(Backend):
    name = "torch"
    # no CHEAP_LOSS: reading the loss synchronises the device, so the trainer asks only when needed
    capabilities = frozenset({GRADIENTS, DEVICE_INFO, GRAPH})

    def __init__(self, spec: Spec, n_in: int, n_out: int, params=None, device: str | None = "auto"):
        t = spec.values["training"]
        self.spec = spec
        self.device = resolve_device(device)
        self.dtype = TORCH_DTYPES[t["dtype"]]
        self.np_dtype = np.dtype(t["dtype"])
        if self.device == "mps" and self.dtype == torch.float64:
            raise DeviceError("Apple's MPS device does not support float64: use "
                              "--set training.dtype=float32, or --device cpu for float64.")
        self.activations = spec.activations
        self.act_names = [*self.activations, "identity"]
        self.opt_cfg = dict(spec.values["optimizer"])
        self.loss_name = spec.values["loss"]["name"]
        self.classify = self.loss_name == "cross_entropy"
        self._loss_fn = F.cross_entropy if self.classify else F.mse_loss
        params = params if params is not None else initial_params(spec, n_in, n_out)

        layers: list[nn.Module] = []
        self.linears: list[nn.Linear] = []
        for i, (W, _) in enumerate(params):
            lin = nn.Linear(W.shape[1], W.shape[0], device=self.device, dtype=self.dtype)
            layers.append(lin)
            self.linears.append(lin)
            if i < len(params) - 1:
                layers.append(ACTIVATION_MODULES[self.act_names[i]]())
        self.model = nn.Sequential(*layers)
        self.set_params(params)
        self.params = [p for lin in self.linears for p in (lin.weight, lin.bias)]  # [W1, b1, W2, b2, ...]
        self.weights = [lin.weight for lin in self.linears]
        self.l1 = float(self.opt_cfg["l1"])

        # the optional CUDA-graph path
        self.graph_requested = bool(t.get("graph", False))
        self._graph_ok, self.warning = graph_setting(self.graph_requested, self.device)
        self.opt = make_optimizer(self.opt_cfg, self.params, self.dtype, capturable=self._graph_ok)
        self._graph: torch.cuda.CUDAGraph | None = None
        self._graph_warm = 0
        self.graph_replays = 0  # how many steps ran as a CUDA-graph replay (for tests and the UI)

        self.steps = 0
        self._rec = StepRecord()  # what layer statistics need of a step (mark)
        self._last: torch.Tensor | None = None
        self._last_slice = (0, 0)
        self._losses: list[torch.Tensor] = []
        self._hits: list[torch.Tensor] = []  # the epoch's correct predictions, batch by batch (eager steps)
        self._sizes: list[int] = []
        self._n_graph = 0
        self.bs = 0

    # ------------------------------------------------------------ helpers
    def _tensor_x(self, x) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(x, dtype=self.np_dtype)).to(self.device)

    def _tensor_y(self, y) -> torch.Tensor:
        if self.classify:
            return torch.from_numpy(np.ascontiguousarray(y, dtype=np.int64)).to(self.device)
        return torch.from_numpy(np.ascontiguousarray(y, dtype=self.np_dtype)).to(self.device)

    def _host(self, t: torch.Tensor) -> np.ndarray:
        return t.detach().cpu().numpy().copy()

    def _apply_l1(self, weights=None) -> None:
        """L1's proximal step after the update, as core/optim.py: W <- sign(W) * max(|W| - lr*l1, 0)."""
        t = self.opt.param_groups[0]["lr"] * self.l1
        with torch.no_grad():
            for W in self.weights if weights is None else weights:
                W.copy_(torch.sign(W) * torch.clamp(W.abs() - t, min=0.0))

    def _failure(self, e: RuntimeError, what: str) -> DeviceFailure | None:
        """A DeviceFailure with a clear message for a device failure (out of memory, a lost GPU);
        None for an ordinary error on the CPU, which is raised as it is."""
        if isinstance(e, torch.cuda.OutOfMemoryError):
            return DeviceFailure(
                f"Out of memory on {self.device} during {what}: {_first_line(e)} Try a smaller batch "
                f"(--set training.batch_size=...) or --device cpu. Checkpoints written so far are kept.")
        text = str(e)
        if self.device == "cpu" and "CUDA" not in text and "cuda" not in text:
            return None
        return DeviceFailure(
            f"The device {self.device} failed during {what}: {_first_line(e)} The run stops here; "
            "checkpoints written so far are kept. If the GPU was lost, check nvidia-smi; --device cpu "
            "trains without it.")

    @contextmanager
    def _guard(self, what: str):
        try:
            yield
        except RuntimeError as e:
            failure = self._failure(e, what)
            if failure is None:
                raise
            raise failure from e

    # ------------------------------------------------------------ data and training
    def set_data(self, x_train, y_train, x_val, y_val, batch_size):
        with self._guard("copying the data to the device"):
            self.x_train, self.y_train = self._tensor_x(x_train), self._tensor_y(y_train)
            self.x_val, self.y_val = self._tensor_x(x_val), self._tensor_y(y_val)
        self.n_train = len(x_train)
        self.bs = batch_size_for(self.n_train, batch_size)
        self.xs, self.ys = self.x_train, self.y_train

    def begin_epoch(self, perm):
        with self._guard("shuffling"):
            idx = torch.from_numpy(np.ascontiguousarray(perm, dtype=np.int64))
            if self.device.startswith("cuda"):  # no wait for the GPU's queue to drain
                idx = idx.pin_memory()
            idx = idx.to(self.device, non_blocking=True)
            self.xs = self.x_train.index_select(0, idx)
            self.ys = self.y_train.index_select(0, idx)
            if self._graph_ok and hasattr(self, "_g_sum"):
                self._g_sum.zero_()
        self._losses, self._sizes, self._n_graph, self._hits = [], [], 0, []

    def train_step(self, b):
        s = b * self.bs
        xb, yb = self.xs[s:s + self.bs], self.ys[s:s + self.bs]
        self._last_slice = (s, s + len(xb))
        try:  # inline rather than self._guard: this is the hot path
            if self._graph_ok and len(xb) == self.bs and not self._rec.armed:
                self._graph_step(xb, yb)
            else:
                self._eager_step(xb, yb)
        except RuntimeError as e:
            failure = self._failure(e, f"training step {self.steps + 1}")
            if failure is None:
                raise
            raise failure from e
        self.steps += 1

    def _eager_step(self, xb, yb) -> None:
        opt = self.opt
        # after a graph capture the gradients live in the graph's memory: zero them in place
        opt.zero_grad(set_to_none=self._graph is None)
        record = self._rec.armed
        out = self._rec.forward(self.linears, self.act_names, xb) if record else self.model(xb)
        loss = self._loss_fn(out, yb)
        loss.backward()
        if record:
            self._rec.took(self.weights, self.steps + 1)
        opt.step()
        if self.l1:
            self._apply_l1()
        loss = loss.detach()
        if self.classify:
            self._hits.append((out.detach().argmax(dim=1) == yb).sum())
        self._last = loss
        self._losses.append(loss)
        self._sizes.append(len(xb))

    def _warm_up_step(self, xb, yb) -> None:  # the CUDA calls, one seam a test swaps on a CPU
        warm_up_step(self.device, lambda: self._eager_step(xb, yb))

    def _record_graph(self, body):
        return record_graph(self.device, body)

    def _graph_step(self, xb, yb) -> None:
        if self._graph is None:
            if self._graph_warm < GRAPH_WARMUP:
                self._graph_warm += 1
                self._warm_up_step(xb, yb)
                return
            try:
                self._static_buffers(xb, yb)
                self.opt.zero_grad(set_to_none=True)  # the captured backward allocates the gradients
                self._graph = self._record_graph(self._graph_body)
            except Exception as e:  # noqa: BLE001 - fall back to eager, with a message for the UI
                self._graph, self._graph_ok = None, False
                self.warning = f"CUDA graph capture failed ({_first_line(e)}): training runs eagerly."
                self._eager_step(xb, yb)
                return
        self._static_x.copy_(xb)
        self._static_y.copy_(yb)
        self._graph.replay()
        self._last = self._static_loss
        self._n_graph += 1
        self.graph_replays += 1

    def _static_buffers(self, xb, yb) -> None:
        if not hasattr(self, "_g_sum"):
            self._static_x = torch.empty_like(xb)
            self._static_y = torch.empty_like(yb)
            self._static_loss = torch.zeros((), dtype=self.dtype, device=self.device)
            self._g_sum = torch.zeros((), dtype=self.dtype, device=self.device)

    def _graph_body(self) -> None:
        """One training step on the static buffers: what the CUDA graph records."""
        loss = self._loss_fn(self.model(self._static_x), self._static_y)
        loss.backward()
        self.opt.step()
        if self.l1:
            self._apply_l1()
        self._static_loss.copy_(loss.detach())
        self._g_sum.add_(loss.detach())

    def last_loss(self):
        return float("nan") if self._last is None else float(self._last)

    def epoch_loss(self):
        n = sum(self._sizes) + self._n_graph * self.bs
        if n == 0:
            return 0.0
        total = 0.0
        if self._losses:
            vals = torch.stack(self._losses).to("cpu", torch.float64)
            total += float((vals * torch.tensor(self._sizes, dtype=torch.float64)).sum())
        if self._n_graph:
            total += float(self._g_sum) * self.bs
        return total / n

    def epoch_metric(self):
        """The epoch's accuracy from its own batches (one device read); None after CUDA-graph steps (those
        record no predictions: the trainer then measures the training set)."""
        if not self.classify or self._n_graph or not self._hits:
            return None
        return float(torch.stack(self._hits).sum()) / sum(self._sizes)

    def evaluate(self, split="val"):
        x, y = (self.x_val, self.y_val) if split == "val" else (self.x_train, self.y_train)
        if len(x) == 0:
            return float("nan"), None
        with self._guard("evaluation"), torch.no_grad():
            out = self.model(x)
            loss = self._loss_fn(out, y)
            if not self.classify:
                return float(loss), None
            acc = (out.argmax(dim=1) == y).to(loss.dtype).mean()
            loss, acc = torch.stack([loss, acc]).tolist()
        return loss, acc

    def predict(self, x):
        with self._guard("prediction"), torch.no_grad():
            return self._host(self.model(self._tensor_x(x)))

    # ------------------------------------------------------------ parameters
    def get_params(self):
        return [(self._host(lin.weight), self._host(lin.bias)) for lin in self.linears]

    def set_params(self, params):
        with torch.no_grad():
            for lin, (W, b) in zip(self.linears, params):
                lin.weight.copy_(self._tensor_x(W))
                lin.bias.copy_(self._tensor_x(b))

    def get_grads(self):
        return [self._host(lin.weight.grad) if lin.weight.grad is not None else
                np.zeros(tuple(lin.weight.shape), self.np_dtype) for lin in self.linears]

    def set_lr(self, lr):
        self.opt_cfg["lr"] = lr
        for g in self.opt.param_groups:
            g["lr"] = lr
        self._graph = None  # the learning rate is baked into a captured graph: capture again

    def refresh_grads(self):
        """Gradients of the whole training set at the current weights (no update ratio: none is known)."""
        with self._guard("computing gradients"):
            for p in self.params:
                p.grad = None
            self._loss_fn(self.model(self.x_train), self.y_train).backward()
        self._rec.marked = None

    def get_opt_state(self):
        return opt_state(self.opt, self.params, self.opt_cfg["name"])

    def set_opt_state(self, tensors, facts):
        load_opt_state(self.opt, self.params, tensors, facts, self.opt_cfg["name"], self._graph_ok)
        self._graph = None  # a captured graph holds the old state buffers

    def mark(self):
        self._rec.mark(self.linears)

    def layer_stats(self):
        s, e = self._last_slice
        return self._rec.stats(self.linears, self.act_names, self.steps, self.xs[s:e] if e > s else None, self._host)

    # ------------------------------------------------------------ step-through
    def trace(self, x, y):
        from .torch_trace import trace_step

        with self._guard("the step-through trace"):
            return trace_step(self, x, y)

    # ------------------------------------------------------------ device
    def describe_device(self) -> str:
        return _describe(self.device)

    def device_info(self) -> dict:
        return _device_info(self.device, self.name)

    def close(self) -> None:
        self._graph = None
        self.x_train = self.y_train = self.x_val = self.y_val = self.xs = self.ys = None
        if self.device.startswith("cuda"):
            torch.cuda.empty_cache()


__all__ = ["TorchBackend"]

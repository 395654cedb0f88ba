"""Your own PyTorch loop in the dashboard: ``monitor(model, run_dir)`` writes the files of a dltui
run folder (preset.toml, metrics.jsonl, status.json, layers.jsonl) from any ``torch.nn.Module``
training loop, so ``dltui watch RUN_DIR`` follows it over SSH::

    import dltui                                    # or: from dltui.core.integrations.monitor import monitor

    with dltui.monitor(model, "runs/mine", epochs=100, lr=1e-3) as mon:
        for epoch in range(100):
            for xb, yb in loader:
                opt.zero_grad(); loss = loss_fn(model(xb), yb); loss.backward(); opt.step()
                mon.step(loss)                      # after opt.step(): the gradients are still there
            mon.epoch(val_loss=evaluate(model))     # one metrics.jsonl row (train loss: the steps' mean)

Bounded cost per step: ``step`` keeps the loss tensor (summed on its device once an epoch: no
host sync) and reads a clock. Every ``every`` seconds it arms forward hooks for one step and then
measures each ``nn.Linear``: weights, gradients, the update ratio of that step and the share of
dead/saturated units after it (from the activation module that follows the layer), on the model's
device (``monitor_stats``: only the figures and the small histograms come to the host). When a
record costs more than 1 % of the time between records (a large model), the next one waits
longer, so that share stays bounded. status.json is rewritten with each epoch's row (at most once
a second) and every 5 s between them. torch is imported only inside these functions (the caller
has it already).
"""

from __future__ import annotations

import time
from pathlib import Path

from .. import events as ev
from ..config.spec import dumps_toml, spec_from_dict
from ..runs.store.folder import RunFolder
from ..runs.store.layerlog import EVERY as LAYERS_EVERY
from .monitor_layers import torch_layer_stats

STATUS_EVERY = 5.0  # seconds between status.json writes from step() (each epoch row also refreshes it)
FOLD_EVERY = 1024  # step losses kept before they are summed (on the device) into one
STATS_SHARE = 0.01  # layer stats may take at most this share of the loop's time (they wait longer if slower)
ACTS = {"ReLU": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh", "LeakyReLU": "leaky_relu", "Hardsigmoid": "hard_sigmoid"}


def linear_layers(model) -> list[tuple[object, str, object | None]]:
    """(Linear, activation name, activation module or None) in the order the model lists them."""
    import torch.nn as nn

    out: list[list] = []
    for m in model.modules():
        if isinstance(m, nn.Linear):
            out.append([m, "identity", None])
        elif out and out[-1][2] is None and type(m).__name__ in ACTS:
            out[-1][1], out[-1][2] = ACTS[type(m).__name__], m
    return [tuple(x) for x in out]


def _total(losses: list):
    """The sum of step losses: tensors in one op on their device (no host sync), floats as floats."""
    tensors = [x for x in losses if hasattr(x, "detach")]
    total = sum(x for x in losses if not hasattr(x, "detach"))
    if tensors:
        import torch

        try:
            total = total + torch.stack(tensors).sum()
        except (RuntimeError, TypeError):  # shapes, dtypes or devices that do not stack
            total = total + sum(tensors)
    return total


def minimal_preset(title: str, hidden: list[int], epochs: int, lr: float, act: str) -> dict:
    """A valid preset describing the watched model as well as dltui can (the watch reads it)."""
    return {"about": {"title": title, "topic": "template", "note": "written by dltui.core.integrations.monitor"},
            "data": {"kind": "csv", "path": "", "needs": "this run was trained by your own loop"},
            "model": {"hidden": hidden, "activation": act},
            "optimizer": {"lr": lr}, "training": {"epochs": max(1, epochs), "backend": "torch"}}


class Monitor:
    def __init__(self, model, run_dir: str | Path, *, epochs: int = 0, lr: float = 0.0, every: float = 2.0,
                 title: str | None = None, task: str = "regression", overwrite: bool = False,
                 clock=time.monotonic):
        self.model, self.every, self.clock, self.overwrite = model, every, clock, overwrite
        self.run = RunFolder(run_dir)
        self.layers = linear_layers(model)
        self.epochs, self.lr, self.task = epochs, lr, task
        self.title = title or f"{type(model).__name__} (your loop, dltui.core.integrations.monitor)"
        self.steps = self.epoch_no = 0
        self._losses: list = []  # this epoch's step losses (tensors stay on their device: no sync per step)
        self._folded, self._n = 0.0, 0  # the sum of the losses folded out of the list, how many in all
        self._t0 = self._epoch_t0 = clock()
        self._epoch_steps0 = 0
        self._stats_at: float | None = None
        self._gap, self._cost = every, 0.0  # seconds until the next layer stats; what the last ones cost
        self._armed = self._marked = None
        self._acts: dict[int, object] = {}
        self._status_at = clock()  # __enter__ writes the first status
        self.best: tuple[int, float] | None = None
        self.layerlog, self.metrics = self.run.recorders(None, layers_every=LAYERS_EVERY)  # this loop feeds them

    # ---------------------------------------------------------------- files
    def _started(self) -> ev.RunStarted:
        lins = [lin for lin, _, _ in self.layers]
        sizes = tuple([lins[0].in_features] + [lin.out_features for lin in lins]) if lins else ()
        n_params = sum(p.numel() for p in self.model.parameters())
        dev = next((str(p.device) for p in self.model.parameters()), "cpu")
        return ev.RunStarted(
            preset=self.run.path.name, title=self.title, backend="torch", device=dev, task=self.task, n_train=0,
            n_val=0, n_features=sizes[0] if sizes else 0, n_outputs=sizes[-1] if sizes else 0, layer_sizes=sizes,
            activations=tuple(a for _, a, _ in self.layers[:-1]), n_params=n_params, epochs=self.epochs,
            batch_size=0, batches_per_epoch=0, seed=0, out_dir=str(self.run.path))

    def __enter__(self) -> Monitor:
        if self.run.has_run() and not self.overwrite:
            raise FileExistsError(f"{self.run.path} already holds a run (metrics.jsonl or checkpoints): give "
                                  "another folder, or monitor(..., overwrite=True) to replace it.")
        s = self._started()
        acts = list(s.activations) or ["identity"]
        preset = minimal_preset(self.title, list(s.layer_sizes[1:-1]), self.epochs, self.lr,
                                acts if len(set(acts)) > 1 else acts[0])
        try:
            text = spec_from_dict(preset, self.run.path.name, "monitor").to_toml()
        except ValueError:  # activations dltui does not know: keep the rest
            text = dumps_toml({k: v for k, v in preset.items() if k != "model"})
        self.run.create(text)
        self.layerlog(s)
        self.metrics(s)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self._remove_hooks()
        if self._n and (not self.epoch_no or self.steps > self._epoch_steps0):
            self.epoch()
        if exc_type is None or exc_type is KeyboardInterrupt:
            reason = "stopped" if exc_type else "completed"
            best_epoch, best = self.best or (0, None)
            self.metrics(ev.Finished(reason, self.epoch_no, self.steps, best_epoch, best, None,
                                     self.clock() - self._t0))
        else:
            self.metrics(ev.Failed(f"{exc_type.__name__}: {exc}", self.epoch_no))

    # ---------------------------------------------------------------- per step
    def step(self, loss=None) -> None:
        """Call once per optimizer step, after ``optimizer.step()``. ``loss``: a tensor or a float."""
        self.steps += 1
        if loss is not None:
            self._losses.append(loss.detach() if hasattr(loss, "detach") else float(loss))
            self._n += 1
            if len(self._losses) >= FOLD_EVERY:
                self._folded = self._folded + _total(self._losses)
                self._losses = []
        if self._armed is not None:  # the step after arming: measure it
            self._layer_stats()
        now = self.clock()
        if self._stats_at is None or now - self._stats_at >= self._gap:
            self._stats_at = now
            self._arm()
        if self.metrics.pending:
            self.metrics.flush_due()
        if now - self._status_at >= STATUS_EVERY:
            self._status_at = now
            self.run.write_status(state="running", started=self.metrics.started, epoch=self.epoch_no,
                                  step=self.steps)

    def _arm(self) -> None:
        """Remember the weights now and catch the next forward's activations."""
        import torch

        t0 = time.perf_counter()
        self._marked = [lin.weight.detach().to(dtype=torch.float64, copy=True) for lin, _, _ in self.layers]
        self._cost = time.perf_counter() - t0
        self._acts = {}
        handles = []
        for i, (lin, _, act) in enumerate(self.layers):
            mod = act if act is not None else lin
            handles.append(mod.register_forward_hook(self._catcher(i)))
        self._armed = handles

    def _catcher(self, i: int):
        def hook(module, inputs, output):
            if i not in self._acts:
                self._acts[i] = output.detach()
        return hook

    def _remove_hooks(self) -> None:
        for h in self._armed or ():
            h.remove()
        self._armed = None

    def _layer_stats(self) -> None:
        """Measure the armed step; the next stats wait ``every`` seconds, or longer when taking them cost
        more than STATS_SHARE of that (a large model on a slow device: the share stays bounded)."""
        t0 = time.perf_counter()
        self._remove_hooks()
        out = []
        for i, (lin, act, _) in enumerate(self.layers):
            a = self._acts.get(i)
            a = a.reshape(-1, a.shape[-1]) if a is not None and a.dim() >= 1 else None
            b = lin.bias if lin.bias is not None else lin.weight.new_zeros(lin.out_features)
            out.append(torch_layer_stats(i + 1, act, lin.weight, b, lin.weight.grad,
                                         self._marked[i] if self._marked else None, a))
        self._marked, self._acts = None, {}
        self.layerlog.write(ev.LayerStatsReady(self.epoch_no + 1, self.steps, tuple(out)))
        self._cost += time.perf_counter() - t0
        self._gap = max(self.every, self._cost / STATS_SHARE)

    # ---------------------------------------------------------------- per epoch
    def epoch(self, *, train_loss: float | None = None, val_loss: float | None = None,
              train_metric: float | None = None, val_metric: float | None = None, lr: float | None = None) -> None:
        """End an epoch: one metrics.jsonl row. ``train_loss`` defaults to the mean of the losses
        given to ``step`` since the last epoch."""
        if train_loss is None:
            train_loss = float((self._folded + _total(self._losses)) / self._n) if self._n else float("nan")
        self._losses, self._folded, self._n = [], 0.0, 0
        self.epoch_no += 1
        crit = val_loss if val_loss is not None else train_loss
        if self.best is None or crit < self.best[1]:
            self.best = (self.epoch_no, float(crit))
        now = self.clock()
        active = now - self._epoch_t0
        lr = self.lr if lr is None else lr
        row = ev.EpochEnded(
            epoch=self.epoch_no, step=self.steps, train_loss=float(train_loss),
            val_loss=None if val_loss is None else float(val_loss), train_metric=train_metric,
            val_metric=val_metric, best_epoch=self.best[0], best_val_loss=self.best[1], patience_left=None,
            lr=float(lr), elapsed=now - self._t0,
            steps_per_second=(self.steps - self._epoch_steps0) / active if active > 0 else 0.0)
        self._epoch_t0, self._epoch_steps0 = now, self.steps
        self.metrics(row)


def monitor(model, run_dir: str | Path, **kw) -> Monitor:
    """``with monitor(model, "runs/mine") as mon: ... mon.step(loss) ... mon.epoch(val_loss=v)``;
    keywords: epochs, lr (shown in the header), every (seconds between layer stats), title, task,
    overwrite (replace a run already in run_dir; otherwise that is refused)."""
    return Monitor(model, run_dir, **kw)

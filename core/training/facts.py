"""What the trainer reports about itself: the RunStarted event, a checkpoint's metadata, the message of
a diverged run, the result of fit(). Plain functions that read a Trainer."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .. import events as ev
from ..backends.base import layer_sizes


@dataclass
class Result:
    reason: str
    epochs_run: int
    steps: int
    best_epoch: int
    best_val_loss: float | None
    final_train_loss: float | None
    history: list[ev.EpochEnded] = field(default_factory=list)
    test_loss: float | None = None  # the kept (best-validation) weights on the test split, if any
    test_metric: float | None = None


def finite(x) -> bool:
    return x is None or math.isfinite(x)


def started_event(tr) -> ev.RunStarted:
    spec, d, be = tr.spec, tr.data, tr.backend
    sizes = layer_sizes(spec, d.n_features, d.n_outputs)
    return ev.RunStarted(
        preset=spec.name, title=spec.values["about"]["title"], backend=be.name, device=be.describe_device(),
        task=d.task, n_train=len(d.x_train), n_val=len(d.x_val), n_features=d.n_features,
        n_outputs=d.n_outputs, layer_sizes=tuple(sizes), activations=tuple(spec.activations),
        n_params=sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:])), epochs=tr.epochs,
        batch_size=tr.batch_size, batches_per_epoch=tr.batches_per_epoch,
        seed=spec.values["training"]["seed"], out_dir=str(tr.run.path) if tr.run else None)


def checkpoint_meta(tr, epoch: int, metrics: dict) -> dict:
    d = tr.data
    values = {**tr.spec.values, "optimizer": {**tr.spec.values["optimizer"], "lr": tr.lr}}
    return {"preset": values, "preset_name": tr.spec.name, "epoch": epoch, "metrics": metrics,
            "features": d.features.to_dict(), "task": d.task, "n_outputs": d.n_outputs,
            "layer_sizes": layer_sizes(tr.spec, d.n_features, d.n_outputs),
            "activations": tr.spec.activations, "backend": tr.backend.name,
            "dtype": tr.spec.values["training"]["dtype"]}


def last_metrics(tr, reason: str) -> dict:
    """The last checkpoint's metrics: the last epoch row's, and where in its epoch the run stopped."""
    h = tr.history[-1]
    return {"train_loss": h.train_loss, "val_loss": h.val_loss, "val_metric": h.val_metric, "step": tr.step,
            "partial_epoch": tr.batch < tr.batches_per_epoch and reason == "stopped"}


def diverged_msg(tr, loss: float, epoch: int, batch: int) -> str:
    if tr.step <= 1 and epoch == 1:  # the first forward pass, before any update: not the learning rate
        return (f"The loss was {loss} on the very first batch, before any update: the data or the initial "
                "weights (model.init, model.init_scale) give values too large to compute with.")
    lr = tr.lr
    keep = (f" The best weights (epoch {tr.best_epoch}) are kept." if tr.best_epoch else
            " No epoch finished, so there is nothing to keep.")
    return (f"The loss became {loss} at epoch {epoch}, batch {batch}: training diverged. "
            f"Try a smaller learning rate than {lr:g} (--set optimizer.lr=...).{keep}")

"""The loop's policies as callbacks on one small hook set (Keras's shape): each sees the loop at the same
points and may stop it by setting ``trainer.stop_training`` to the event that says why.

    on_train_begin(tr)                    before the first batch
    on_batch_end(tr, batch, loss)         after each optimizer step (loss: None when not measured)
    on_evaluated(tr, epoch, logs)         the epoch's losses and metrics, before its row is published;
                                          a policy may add figures to ``logs`` (best_epoch, patience_left)
    on_epoch_end(tr, epoch, row)          after the EpochEnded row went to every observer
    on_train_end(tr, reason)              the loop is over (the best weights are put back after this)

Observers that only read the run (the metrics log, the layer log, TensorBoard, the app) take the
trainer's events instead (``fit(callbacks=[...])``).

``Divergence`` stops at a loss that is not finite; early stopping is ``early_stopping.EarlyStopping``;
``Checkpoints`` writes the best weights while improving (at most every ``BEST_SAVE_INTERVAL`` seconds)
and, at the end, the last checkpoint with the state a resumed run needs (``Trainer.state_dict``).
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING

from .. import events as ev
from . import facts

if TYPE_CHECKING:
    from .trainer import Trainer

BEST_SAVE_INTERVAL = 1.0  # seconds between best-checkpoint writes while improving fast


class Policy:
    """A policy's hooks; each does nothing unless overridden."""

    def on_train_begin(self, tr: Trainer) -> None:
        pass

    def on_batch_end(self, tr: Trainer, batch: int, loss: float | None) -> None:
        pass

    def on_evaluated(self, tr: Trainer, epoch: int, logs: dict) -> None:
        pass

    def on_epoch_end(self, tr: Trainer, epoch: int, row: ev.EpochEnded) -> None:
        pass

    def on_train_end(self, tr: Trainer, reason: str) -> None:
        pass


class Divergence(Policy):
    """A loss that is not finite stops the run with a Diverged event that says what to try."""

    def on_batch_end(self, tr: Trainer, batch: int, loss: float | None) -> None:
        if loss is not None and not math.isfinite(loss):
            tr.stop_training = ev.Diverged(tr.epoch, batch, loss, facts.diverged_msg(tr, loss, tr.epoch, batch))

    def on_evaluated(self, tr: Trainer, epoch: int, logs: dict) -> None:
        train, val = logs["train_loss"], logs["val_loss"]
        if not (facts.finite(train) and facts.finite(val)):
            bad = train if not facts.finite(train) else val
            tr.stop_training = ev.Diverged(epoch, tr.batch, bad, facts.diverged_msg(tr, bad, epoch, tr.batch))


class Checkpoints(Policy):
    """best.safetensors while improving, last.safetensors at the end, in the trainer's run folder."""

    def __init__(self, clock=time.perf_counter):
        self.clock = clock
        self.last_best_save = 0.0

    def on_epoch_end(self, tr: Trainer, epoch: int, row: ev.EpochEnded) -> None:
        self.save_best(tr)

    def on_train_end(self, tr: Trainer, reason: str) -> None:
        if tr.run and tr.history and tr.last_params is not None and reason != "diverged":
            self._save(tr, "last", tr.last_params, tr.history[-1].epoch, facts.last_metrics(tr, reason))
        self.save_best(tr, final=True)

    def save_best(self, tr: Trainer, final: bool = False) -> None:
        """Write the best weights when they changed, at most every BEST_SAVE_INTERVAL seconds while
        training (``final``: now)."""
        now, early = self.clock(), tr.early
        if early.best_dirty and tr.run and (final or now - self.last_best_save >= BEST_SAVE_INTERVAL):
            self._save(tr, "best", early.best_weights, early.best_epoch, {"val_loss": early.best_value})
            self.last_best_save, early.best_dirty = now, False

    def _save(self, tr: Trainer, kind: str, params, epoch: int, metrics: dict) -> None:
        meta, extra = facts.checkpoint_meta(tr, epoch, metrics), None
        if kind == "last":  # what a resumed run needs: optimizer state, shuffles, counters
            extra, meta["resume"] = tr.state_dict()
        path = tr.run.write_checkpoint(kind, params, meta, extra)
        tr.emit(ev.CheckpointSaved(str(path), kind, epoch))

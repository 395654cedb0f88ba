"""Early stopping: the best epoch so far, its value and its weights, and the patience left; a policy
of the loop (``policies.py``): it records each epoch's value and stops the run when patience runs out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .. import events as ev
from .policies import Policy

if TYPE_CHECKING:
    from .trainer import Trainer


@dataclass
class EarlyStopping(Policy):
    """The best epoch so far and its weights; stop after ``patience`` epochs without a better value.
    ``patience`` 0 (or no validation set: ``watching`` False) keeps the best weights but never stops."""

    patience: int
    watching: bool = True
    best_value: float | None = None
    best_epoch: int = 0
    best_weights: list | None = None
    best_dirty: bool = False  # better weights than the last ones written to a checkpoint
    stale: int = 0  # epochs since the best

    def update(self, epoch: int, value: float, weights: Callable[[], list]) -> bool:
        """Record this epoch's value; True (and a copy of the weights) when it is the best so far."""
        if self.best_value is None or value < self.best_value:
            self.best_value, self.best_epoch, self.stale = value, epoch, 0
            self.best_weights, self.best_dirty = weights(), True
            return True
        self.stale += 1
        return False

    @property
    def active(self) -> bool:
        return self.patience > 0 and self.watching

    @property
    def patience_left(self) -> int | None:
        return self.patience - self.stale if self.active else None

    @property
    def should_stop(self) -> bool:
        return self.active and self.stale >= self.patience

    # ------------------------------------------------------------ the policy's hooks
    def on_evaluated(self, tr: Trainer, epoch: int, logs: dict) -> None:
        """The validation loss (the training loss without a validation set) counts; the row says the best."""
        self.update(epoch, logs["val_loss"] if self.watching else logs["train_loss"], tr.backend.get_params)
        logs.update(best_epoch=self.best_epoch, best_val_loss=self.best_value, patience_left=self.patience_left)

    def on_epoch_end(self, tr: Trainer, epoch: int, row: ev.EpochEnded) -> None:
        if self.should_stop:
            tr.stop_training = ev.EarlyStopped(epoch, self.best_epoch, self.best_value, self.patience)

    # ------------------------------------------------------------ resume
    def state_dict(self) -> dict:
        return {"best_epoch": self.best_epoch, "best_value": self.best_value, "stale": self.stale}

    def load_state_dict(self, facts: dict, best_weights=None) -> None:
        self.best_epoch, self.best_value = int(facts.get("best_epoch") or 0), facts.get("best_value")
        self.stale = int(facts.get("stale") or 0)
        if best_weights is not None and self.best_epoch:
            self.best_weights = best_weights
        self.best_dirty = False

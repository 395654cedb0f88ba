"""Early stopping: the best epoch so far, its value and its weights, and the patience left."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class EarlyStopping:
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

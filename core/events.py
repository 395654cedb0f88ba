"""The small, fixed set of events the trainer emits to its callbacks.

Every event is a frozen dataclass holding plain Python values (and, for
layer statistics, small NumPy arrays), so a consumer on another thread can
keep it without copying. The TUI puts them on a queue, the headless CLI
prints them, the metrics log writes them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class RunState(str, enum.Enum):
    """The one vocabulary of a run's state: the trainer's, a run's view's (what the status line shows) and a
    ``Run``'s (what a client decides on). A str: it compares equal to its value and formats as it."""

    READY = "ready"  # made, not started (the app opens a preset paused at epoch 0)
    RUNNING = "running"
    PAUSED = "paused"
    FINISHED = "finished"  # completed, stopped or stopped early: ``end_reason`` says which
    FAILED = "failed"
    DIVERGED = "diverged"

    __str__ = str.__str__
    __format__ = str.__format__

    @property
    def ended(self) -> bool:
        return self in ENDED


ENDED = frozenset({RunState.FINISHED, RunState.FAILED, RunState.DIVERGED})


@dataclass(frozen=True)
class Event:
    """Base class: every event knows the run it belongs to."""


@dataclass(frozen=True)
class RunStarted(Event):
    preset: str
    title: str
    backend: str
    device: str
    task: str  # "regression" | "classification"
    n_train: int
    n_val: int
    n_features: int
    n_outputs: int
    layer_sizes: tuple[int, ...]
    activations: tuple[str, ...]
    n_params: int
    epochs: int
    batch_size: int
    batches_per_epoch: int
    seed: int
    out_dir: str | None = None


@dataclass(frozen=True)
class BatchEnded(Event):
    epoch: int  # 1-based epoch the batch belongs to
    batch: int  # 1-based batch within the epoch
    step: int  # optimizer steps taken in the whole run
    loss: float | None = None  # only filled when the trainer was asked for batch losses


@dataclass(frozen=True)
class EpochEnded(Event):
    epoch: int
    step: int
    train_loss: float
    val_loss: float | None
    train_metric: float | None  # accuracy for classification, None for regression
    val_metric: float | None
    best_epoch: int
    best_val_loss: float | None
    patience_left: int | None  # None when early stopping is off
    lr: float
    elapsed: float  # seconds of training (pauses excluded)
    steps_per_second: float


@dataclass(frozen=True)
class LayerStats:
    """Statistics of one Linear layer (weights, gradients, activations)."""

    index: int  # 1-based
    n_in: int
    n_out: int
    activation: str
    w_mean: float
    w_std: float
    w_min: float
    w_max: float
    w_norm: float
    b_norm: float
    g_mean: float
    g_std: float
    g_min: float
    g_max: float
    g_norm: float
    update_ratio: float | None  # ||dW|| / ||W|| of the last update
    inactive: float | None  # share of dead ReLUs / saturated sigmoids on the last batch
    inactive_kind: str  # "dead" | "sat" | ""
    w_hist: tuple[int, ...] = field(default_factory=tuple)
    g_hist: tuple[int, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class LayerStatsReady(Event):
    epoch: int
    step: int
    layers: tuple[LayerStats, ...]


@dataclass(frozen=True)
class EarlyStopped(Event):
    epoch: int
    best_epoch: int
    best_val_loss: float
    patience: int


@dataclass(frozen=True)
class CheckpointSaved(Event):
    path: str
    kind: str  # "best" | "last"
    epoch: int


@dataclass(frozen=True)
class Diverged(Event):
    epoch: int
    batch: int
    loss: float
    message: str


@dataclass(frozen=True)
class Paused(Event):
    epoch: int
    step: int


@dataclass(frozen=True)
class Finished(Event):
    reason: str  # "completed" | "early_stop" | "stopped" | "diverged"
    epochs_run: int
    steps: int
    best_epoch: int
    best_val_loss: float | None
    final_train_loss: float | None
    elapsed: float
    test_loss: float | None = None  # the best-validation weights on the test split ([data] test_ratio)
    test_metric: float | None = None


@dataclass(frozen=True)
class Failed(Event):
    message: str
    epoch: int = 0

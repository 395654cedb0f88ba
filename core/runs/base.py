"""The ``Run`` protocol every view takes, the plain ``RunView`` it folds events into, and the
controls a run declares (a run says which it has; a view never probes for a method)."""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from .. import events as ev
from ..events import ENDED, RunState
from .history import History

if TYPE_CHECKING:
    from ..config.spec import Spec
    from ..data.dataset import Dataset

# the parts of a view a poll can mark as changed
HEADER, LOSS, STATS, PARAMS, MESSAGE, RUN = "header", "loss", "stats", "params", "message", "run"

END_WORDS = {"completed": "finished all epochs", "early_stop": "stopped early (no better validation loss)",
             "stopped": "stopped", "diverged": "diverged"}

BATCH_HISTORY = 4096



class Control(enum.Flag):
    """What a run lets a person do. A run declares its set in ``controls``; absent ones are absent."""

    NONE = 0
    START = enum.auto()  # start / resume training
    PAUSE = enum.auto()
    STEP = enum.auto()  # one mini-batch
    EPOCH = enum.auto()  # one epoch
    STOP = enum.auto()
    CONTINUE = enum.auto()  # train further from where a finished run ended
    SET_LR = enum.auto()  # change the learning rate while training
    PACE = enum.auto()  # slow the loop to a chosen rate
    SET_PARAMS = enum.auto()  # put weights shaped by hand into the network; training goes on from them


@dataclass
class RunView:
    """Everything a view shows about one run, as plain values (read on the UI thread)."""

    preset: str = ""
    title: str = ""
    backend: str = ""
    device: str = ""
    device_note: str = ""  # GPU name and memory, when the run is on one
    task: str = "regression"
    epochs_total: int = 0
    batches_per_epoch: int = 0
    patience: int = 0
    lr: float = 0.0
    pace: float = 0.0  # updates per second while running (0: as fast as it can)
    out_dir: str = ""  # the run folder it writes ("" when none)
    read_dir: str = ""  # the run folder a watched or finished run reads ("" for a live run: see out_dir)
    baseline: float | None = None  # a regression run's linear baseline (validation MSE); None: none
    batch_size: int = 0  # as the preset gives it (0: the whole training set)
    n_train: int = 0
    seed: int = 0
    layer_sizes: tuple[int, ...] = ()
    activations: tuple[str, ...] = ()
    epoch: int = 0  # epochs finished or in progress (1-based once running)
    batch: int = 0
    step: int = 0
    state: RunState = RunState.READY
    history: History = field(default_factory=History)  # bounded: recent epochs all, older ones sampled
    last_batch: ev.BatchEnded | None = None  # batches are coalesced: the latest one folded
    # (step, loss) of the batches folded that carried a loss: a sample of the batch curve, at the drain's
    # rate (every batch while stepping by hand), the last BATCH_HISTORY of them
    batches: deque[tuple[int, float]] = field(default_factory=lambda: deque(maxlen=BATCH_HISTORY))
    stats: tuple[ev.LayerStats, ...] | None = None
    stats_step: int = -1
    params: list | None = None
    grads: list | None = None
    params_step: int = -1
    params_label: str = ""  # which weights these are: "step 12", "best checkpoint, epoch 40"
    message: str = ""
    message_kind: str = "info"  # info | error
    end_reason: str | None = None
    test_loss: float | None = None  # the best-validation weights on the test split ([data] test_ratio)
    elapsed: float = 0.0  # seconds running (pauses excluded)
    steps_per_s: float = 0.0

    @property
    def ended(self) -> bool:
        return self.state in ENDED

    @property
    def folder(self) -> str:
        """The run folder this run writes or reads ("" when it has none)."""
        return self.out_dir or self.read_dir

    @property
    def eta(self) -> float | None:
        if self.steps_per_s <= 0 or self.ended or not self.batches_per_epoch:
            return None
        return max(0, self.epochs_total * self.batches_per_epoch - self.step) / self.steps_per_s


@runtime_checkable
class Run(Protocol):
    """What every view talks to. All methods are called on the UI thread and never block on training.

    - ``spec``, ``data``: the preset and its dataset (None where a folder's data cannot be loaded).
    - ``view``: a ``RunView`` - history (epochs; the latest batch), current weights, gradients and layer
      statistics with which weights they are (``params_step``, ``params_label``), the status line's facts.
    - ``state``: a ``RunState`` (ready | running | paused | finished | failed | diverged).
    - ``controls``: a ``Control`` set; calling an absent control does nothing.
    - ``open(spawn)``: begin (a live run starts its trainer thread with ``spawn(fn)``); ``close()``: end it.
    - ``poll()``: fold what arrived since the last poll into ``view``; the parts that changed.
    - ``want_stats()``, ``want_params()``: ask for the costly parts; a later poll reports them.
    - ``trace(rows)``: a Future of a step-through trace of those training rows (None: the next batch).
    - ``control``: a ``RunControl`` (start/pause, step, stop, learning rate, weights, pace, continue) for
      a run this process trains; None for a folder's run.
    """

    spec: Spec | None
    data: Dataset | None
    view: RunView
    controls: Control
    read_only: bool  # no controls at all (``not controls``)
    control: RunControl | None

    @property
    def state(self) -> RunState: ...

    @property
    def active(self) -> bool: ...

    @property
    def started_training(self) -> bool: ...

    def open(self, spawn: Callable[[Callable[[], None]], object] | None = None) -> None: ...

    def close(self) -> None: ...

    def poll(self) -> set[str]: ...

    def want_stats(self) -> None: ...

    def want_params(self) -> None: ...

    def trace(self, rows=None) -> Future: ...


@runtime_checkable
class RunControl(Protocol):
    """What a person may do to a run that this process trains (``Run.control``; None for a watched or
    finished folder, which belongs to another process or to the past). ``Run.controls`` says which of
    these a run offers; each is called on the UI thread and never blocks on training.

    - ``set_params(params)``: weights edited by hand, put into the network between batches (a Future
      that is done once they are in); the view shows them at once.
    - ``continue_run(epochs=None)``: train further from where an ended run stopped, optimizer state kept
      (control CONTINUE), up to ``epochs`` in all; the new total, or None when it cannot (diverged,
      failed). A folder's run goes on with ``dltui train --resume RUN``.
    """

    def toggle(self) -> bool: ...

    def pause(self) -> None: ...

    def step_batch(self, with_stats: bool = False) -> Future: ...

    def step_epoch(self) -> None: ...

    def stop(self) -> None: ...

    def set_lr(self, lr: float) -> None: ...

    def set_params(self, params) -> Future: ...

    def set_pace(self, rate: float) -> None: ...

    def continue_run(self, epochs: int | None = None) -> int | None: ...


def done(value=None) -> Future:
    """A future that has already finished (an absent control, a run with nothing to wait for)."""
    f: Future = Future()
    f.set_result(value)
    return f


def failed(error: BaseException) -> Future:
    f: Future = Future()
    f.set_exception(error)
    return f

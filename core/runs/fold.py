"""Folding trainer events into a ``RunView``: plain functions of (view, event), testable without a UI."""

from __future__ import annotations

from .. import events as ev
from ..events import RunState
from .base import END_WORDS, LOSS, MESSAGE, RUN, STATS, RunView


def fold_event(v: RunView, e: ev.Event, changed: set[str], *, running: bool = False) -> None:
    """Apply one event to the view and add the parts it changed. ``running``: whether the trainer runs
    freely now (the state a RunStarted lands in)."""
    if isinstance(e, ev.BatchEnded):
        v.epoch, v.batch, v.step, v.last_batch = e.epoch, e.batch, e.step, e
        if v.state != RunState.RUNNING:
            v.state = RunState.RUNNING
    elif isinstance(e, ev.Paused):
        if e.step >= v.step:  # not an old pause the latest batch has overtaken
            v.state, v.step = RunState.PAUSED, e.step
    elif isinstance(e, ev.EpochEnded):
        fold_epoch(v, e, changed)
    elif isinstance(e, ev.LayerStatsReady):
        v.stats, v.stats_step = e.layers, e.step
        changed.add(STATS)
    elif isinstance(e, ev.RunStarted):
        v.layer_sizes, v.activations = e.layer_sizes, e.activations
        v.backend, v.device = e.backend, e.device
        v.state = RunState.RUNNING if running else RunState.PAUSED
    elif isinstance(e, ev.EarlyStopped):
        v.message, v.message_kind = (f"early stop at epoch {e.epoch}: no better validation loss for "
                                     f"{e.patience} epochs; best {e.best_val_loss:.4g} at epoch "
                                     f"{e.best_epoch}, whose weights are kept"), "info"
        changed.add(MESSAGE)
    elif isinstance(e, ev.Diverged):
        v.state = RunState.DIVERGED
        v.message, v.message_kind = e.message, "error"
        changed.update((MESSAGE, RUN))
    elif isinstance(e, ev.Failed):
        v.state, v.end_reason = RunState.FAILED, "failed"
        v.message = f"the run failed: {e.message}. The last good weights are kept."
        v.message_kind = "error"
        changed.update((MESSAGE, RUN))
    elif isinstance(e, ev.Finished):
        _fold_finished(v, e, changed)


def fold_epoch(v: RunView, e: ev.EpochEnded, changed: set[str]) -> None:
    v.history.append(e)
    v.epoch, v.step, v.lr = max(v.epoch, e.epoch), max(v.step, e.step), e.lr
    changed.add(LOSS)


def _fold_finished(v: RunView, e: ev.Finished, changed: set[str]) -> None:
    if v.state not in (RunState.FAILED, RunState.DIVERGED):
        v.state = RunState.FINISHED
    v.end_reason, v.step = e.reason, e.steps
    if e.reason in ("completed", "stopped") and v.message_kind != "error":
        best = "" if e.best_val_loss is None else f"; best {e.best_val_loss:.4g} at epoch {e.best_epoch}"
        v.message, v.message_kind = f"{END_WORDS[e.reason]} after {e.epochs_run} epochs{best}", "info"
    v.test_loss = e.test_loss
    if v.test_loss is not None and v.message_kind != "error":
        v.message += f"; test loss of those weights {v.test_loss:.4g}"
        changed.add(LOSS)
    v.params_step = v.stats_step = -1  # the trainer put the best weights back: show those
    changed.update((MESSAGE, RUN))

"""The Run protocol without a UI: events fed to a LiveRun fold into its view; a WatchedRun reads a run
folder incrementally; a FinishedRun reads it once; controls are declared, traces are futures."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from dltui.core import events as ev
from dltui.core import load_preset
from dltui.core.engine.trace import Trace
from dltui.core.runs import HEADER, LOSS, MESSAGE, RUN, Control, FinishedRun, LiveRun, Run, WatchedRun
from dltui.core.training.trainer import Trainer


def epoch_row(epoch: int, step: int, loss: float = 1.0, lr: float = 0.01) -> ev.EpochEnded:
    return ev.EpochEnded(epoch=epoch, step=step, train_loss=loss, val_loss=loss, train_metric=None,
                         val_metric=None, best_epoch=epoch, best_val_loss=loss, patience_left=None, lr=lr,
                         elapsed=0.1 * epoch, steps_per_second=100.0)


@pytest.fixture
def live() -> LiveRun:
    """A live run whose trainer never starts: the test plays the trainer's part."""
    return LiveRun(load_preset("xor", {"training.epochs": 5}))


def test_batch_ends_are_coalesced_and_the_latest_wins(live):
    for s in range(1, 6):
        live.on_event(ev.BatchEnded(1, s, s, loss=1.0 / s))
    changed = live.poll()
    v = live.view
    assert (v.epoch, v.batch, v.step, v.state) == (1, 5, 5, "running") and v.last_batch.step == 5
    assert HEADER in changed and LOSS not in changed
    assert live.poll() == {HEADER}  # nothing new: only the running clock
    live.on_event(ev.BatchEnded(1, 6, 6))  # no loss measured (a device run between epochs)
    live.on_event(ev.BatchEnded(1, 7, 7, loss=0.1))
    live.poll()
    live.on_event(ev.BatchEnded(1, 8, 8, loss=0.05))
    live.poll()
    # every batch that measured its loss, not only the ones a drain saw (the plot's batch trace)
    assert list(v.batches) == [(s, 1.0 / s) for s in range(1, 6)] + [(7, 0.1), (8, 0.05)]


def test_an_old_pause_does_not_undo_a_newer_batch(live):
    live.on_event(ev.Paused(1, 3))
    live.on_event(ev.BatchEnded(1, 4, 4))  # the slot is read first: the queued pause is older
    live.poll()
    assert live.view.state == "running" and live.view.step == 4
    live.on_event(ev.Paused(1, 4))
    live.poll()
    assert live.view.state == "paused" and live.state == "ready"  # view paused; the trainer never ran


def test_epochs_fold_into_the_history_and_queued_epoch_presses_are_kept(live):
    live.step_epoch()
    live.step_epoch()  # pressed while the first is running: queued
    assert live.busy
    live.on_event(epoch_row(1, 8, lr=0.5))
    changed = live.poll()
    assert LOSS in changed and [e.epoch for e in live.view.history] == [1] and live.view.lr == 0.5
    assert live.busy  # the queued epoch was sent on
    live.on_event(epoch_row(2, 16))
    live.poll()
    assert not live.busy and len(live.view.history) == 2


def test_divergence_and_the_end_are_states_and_messages(live):
    live.on_event(ev.Diverged(2, 3, float("nan"), "the loss became nan"))
    changed = live.poll()
    assert {MESSAGE, RUN} <= changed and live.state == "diverged" and live.view.message_kind == "error"
    live.on_event(ev.Finished("diverged", 1, 11, 1, 0.5, 0.5, 1.0))
    live.poll()
    assert live.view.state == "diverged" and live.view.end_reason == "diverged"


def test_a_finished_run_says_what_happened(live):
    live.on_event(epoch_row(1, 8, loss=0.25))
    live.on_event(ev.Finished("completed", 1, 8, 1, 0.25, 0.25, 1.0))
    live.poll()
    assert live.state == "finished" and not live.view.params_step >= 0
    assert live.view.message == "finished all epochs after 1 epochs; best 0.25 at epoch 1"


def test_controls_are_declared_not_probed(live, tmp_path):
    assert live.controls & Control.STEP and live.controls & Control.SET_LR and not live.read_only
    assert live.controls & Control.PACE
    watched = WatchedRun(tmp_path)
    assert watched.controls == Control.NONE and watched.read_only
    assert watched.control is None  # an absent control is absent (no no-op stubs to call)
    for r in (live, watched, FinishedRun(tmp_path)):
        assert isinstance(r, Run)


def test_set_lr_changes_the_run_not_its_spec(live):
    live.set_lr(0.123)
    assert live.view.lr == 0.123 and live.trainer.lr == 0.123
    assert live.spec.values["optimizer"]["lr"] != 0.123


def _paused_trainer(preset="xor", **overrides) -> tuple[Trainer, threading.Thread]:
    t = Trainer(load_preset(preset, {"training.epochs": 50, **overrides}), start_paused=True)
    th = threading.Thread(target=t.fit, daemon=True)
    th.start()
    deadline = time.monotonic() + 20
    while t.state != "paused" and time.monotonic() < deadline:
        time.sleep(0.01)
    assert t.state == "paused"
    return t, th


def test_step_batch_future_reports_the_step_once_it_has_run():
    t, th = _paused_trainer()
    try:
        first, second = t.step_batch(), t.step_batch()
        assert first.result(timeout=20) == 1 and second.result(timeout=20) == 2 and t.step == 2
    finally:
        t.stop()
        th.join(5)
    assert t.step_batch().result(timeout=0) == 2  # a finished trainer answers at once


def test_live_trace_is_a_future_of_the_next_batch_or_given_rows():
    t, th = _paused_trainer()
    run = LiveRun.wrap(t)
    try:
        tr = run.trace().result(timeout=20)
        assert isinstance(tr, Trace) and tr.extra["batch"]["which"] == "next"
        again = run.trace([0, 1, 2]).result(timeout=20)
        assert again.extra["batch"]["row_ids"] == [0, 1, 2] and again.batch_size == 3
        np.testing.assert_array_equal(again.x, t.data.x_train[[0, 1, 2]])
    finally:
        run.close()
        th.join(5)


def _train_to(folder, epochs: int = 4) -> Trainer:
    t = Trainer(load_preset("xor", {"training.epochs": epochs, "training.patience": 0}), out_dir=folder)
    t.fit()
    return t


def test_a_watched_run_reads_only_what_is_new(tmp_path):
    folder = tmp_path / "run"
    _train_to(folder)
    lines = (folder / "metrics.jsonl").read_text().splitlines(keepends=True)
    full = "".join(lines)
    (folder / "metrics.jsonl").write_text("".join(lines[:2]))
    run = WatchedRun(folder, clock=lambda: 0.0)
    changed = run.poll()
    assert [e.epoch for e in run.view.history] == [1, 2] and LOSS in changed
    assert run.view.params is not None and run.view.params_label.startswith("best checkpoint, epoch")
    assert run.state == "finished" and run.view.backend == "numpy"
    (folder / "metrics.jsonl").write_text(full)
    run.poll()
    assert [e.epoch for e in run.view.history] == [1, 2, 3, 4]  # appended, not read again
    assert run.poll() == set()


def test_a_finished_run_is_read_once_and_traces_its_best_weights(tmp_path):
    folder = tmp_path / "run"
    t = _train_to(folder)
    run = FinishedRun(folder)
    assert run.poll() and run.poll() == set()
    assert len(run.view.history) == 4 and run.view.stats is not None
    best = t.backend.get_params()  # the trainer put the best weights back at the end
    np.testing.assert_allclose(run.view.params[0][0], best[0][0])
    tr = run.trace().result(timeout=20)
    np.testing.assert_allclose(tr.layers[0].W, best[0][0])


def test_a_folder_without_a_run_fails_its_trace_with_a_message(tmp_path):
    run = FinishedRun(tmp_path / "nothing")
    run.poll()
    assert run.view.message_kind == "error" and "no such run folder" in run.view.message
    with pytest.raises(RuntimeError, match="no preset, data or checkpoint"):
        run.trace().result(timeout=0)


def test_a_backend_warning_reaches_the_view():
    run = LiveRun(load_preset("xor", {"training.epochs": 1, "training.graph": True}))  # numpy ignores graph
    assert run.trainer.backend.warning and run.view.message == run.trainer.backend.warning


def test_requests_after_close_still_answer(live):
    live.close()
    assert isinstance(live.trace().result(timeout=20), Trace)  # the trainer never ran: traced at once
    live.want_params()
    deadline = time.monotonic() + 20
    while not live.poll() & {"params"} and time.monotonic() < deadline:
        time.sleep(0.01)
    assert live.view.params is not None and live.view.params_label == "live · step 0"

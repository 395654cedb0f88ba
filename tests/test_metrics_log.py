"""metrics.jsonl: one row per epoch, the EpochEnded event's fields; written through a buffer flushed at
most every FLUSH_EVERY seconds while epochs come fast, and at once when the run pauses or ends, so a
reader of a paused or finished run sees every row."""

from __future__ import annotations

import json
from dataclasses import asdict

from dltui.core import Trainer, load_preset
from dltui.core import events as ev
from dltui.core.runs.store import folder as rundir
from dltui.core.runs.store.folder import MetricsLog, RunFolder, read_metrics


def events_of_a_short_run() -> list:
    got: list = []
    Trainer(load_preset("piecewise-sigmoid", {"training.epochs": 4})).fit(callbacks=[got.append])
    return got


def rows_on_disk(run: RunFolder) -> list[dict]:
    return read_metrics(run.path / "metrics.jsonl")[0]


def test_rows_are_the_epoch_events_flushed_on_pause_and_at_the_end(tmp_path, monkeypatch):
    events = events_of_a_short_run()
    epochs = [e for e in events if type(e) is ev.EpochEnded]
    assert len(epochs) == 4
    monkeypatch.setattr(rundir, "FLUSH_EVERY", 1e12)  # epochs "fast": no flush but the first
    run = RunFolder(tmp_path / "run")
    run.create("")
    log = MetricsLog(run)
    log.last_flush = 1e12  # not even the first
    started = next(e for e in events if type(e) is ev.RunStarted)
    log(started)
    for e in epochs[:3]:
        log(ev.BatchEnded(e.epoch, 1, e.step, 0.5))  # ignored
        log(e)
    assert rows_on_disk(run) == []  # still in the buffer
    log(ev.Paused(3, epochs[2].step))
    assert rows_on_disk(run) == [asdict(e) for e in epochs[:3]]  # a paused run's log is complete
    log(epochs[3])
    log(next(e for e in events if type(e) is ev.Finished))
    assert rows_on_disk(run) == [asdict(e) for e in epochs]
    assert json.loads((run.path / "status.json").read_text())["state"] == "finished"


def test_a_slow_epoch_is_flushed_at_once(tmp_path):
    events = events_of_a_short_run()
    run = RunFolder(tmp_path / "run")
    run.create("")
    log = MetricsLog(run)
    log(next(e for e in events if type(e) is ev.RunStarted))
    for e in [e for e in events if type(e) is ev.EpochEnded]:
        log.last_flush -= rundir.FLUSH_EVERY  # the last flush was longer ago than FLUSH_EVERY
        log(e)
        assert rows_on_disk(run)[-1] == asdict(e)


def test_a_buffered_row_goes_out_at_the_next_batch_once_its_time_is_up(tmp_path):
    events = events_of_a_short_run()
    first = next(e for e in events if type(e) is ev.EpochEnded)
    run = RunFolder(tmp_path / "run")
    run.create("")
    log = MetricsLog(run)
    log(next(e for e in events if type(e) is ev.RunStarted))
    log.last_flush = 1e12  # just flushed
    log(first)
    log(ev.BatchEnded(2, 1, first.step + 1, 0.5))
    assert rows_on_disk(run) == []  # not yet: its time is not up
    log.last_flush -= 2e12  # FLUSH_EVERY has passed: the next batch end flushes, before the next epoch
    log(ev.BatchEnded(2, 2, first.step + 2, 0.5))
    assert rows_on_disk(run) == [asdict(first)] and not log.pending

"""Bounded history: a long run keeps recent epochs at full resolution and older ones evenly sampled."""

from __future__ import annotations

import tracemalloc

from dltui.core import events as ev
from dltui.core.runs import RunView
from dltui.core.runs.fold import fold_event
from dltui.core.runs.history import History


def test_small_runs_keep_every_row_like_a_list():
    h = History(range(10))
    assert list(h) == list(range(10)) and len(h) == 10 and h.total == 10
    assert h[0] == 0 and h[-1] == 9 and h[2:4] == [2, 3] and h.tail(3) == [7, 8, 9]


def test_a_million_rows_stay_bounded_recent_exact_older_evenly_spread():
    h = History(range(1_000_000), recent=1000, older=1000)
    assert h.total == 1_000_000 and len(h) <= 2000
    assert list(h)[-1000:] == list(range(999_000, 1_000_000))  # the recent part, every row
    older = list(h)[:-1000]
    gaps = {b - a for a, b in zip(older, older[1:])}
    assert len(gaps) == 1 and older[0] < 2000  # evenly spread, from the start of the run
    assert all(a < b for a, b in zip(list(h), list(h)[1:]))


def test_view_memory_is_flat_from_10k_to_200k_epochs():
    def row(i):
        return ev.EpochEnded(i, i, 1.0, 1.0, None, None, i, 1.0, None, 0.1, 1.0, 1.0)

    v = RunView()
    tracemalloc.start()
    for i in range(1, 10_001):
        fold_event(v, row(i), set())
    at_10k = tracemalloc.get_traced_memory()[0]
    for i in range(10_001, 200_001):
        fold_event(v, row(i), set())
    at_200k = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert v.history.total == 200_000 and at_200k - at_10k < 256 * 1024


def test_watch_opens_a_200k_epoch_log_by_sampling_it(tmp_path):
    import json
    from dataclasses import asdict

    from dltui.core.runs import WatchedRun

    run = tmp_path / "long"
    run.mkdir()
    row = asdict(ev.EpochEnded(1, 8, 1.0, 1.1, None, None, 1, 1.1, None, 0.1, 1.0, 100.0))
    with (run / "metrics.jsonl").open("w") as fh:
        for i in range(1, 200_001):
            fh.write(json.dumps({**row, "epoch": i, "step": 8 * i, "train_loss": 1.0 / i}) + "\n")
    w = WatchedRun(run)
    w.poll()
    h = w.view.history
    assert h[-1].epoch == 200_000 and h[0].epoch == 1 and len(h) <= 5000
    epochs = [e.epoch for e in h]
    assert epochs == sorted(epochs) and epochs[-100:] == list(range(199_901, 200_001))
    with (run / "metrics.jsonl").open("a") as fh:  # and it follows what is appended, incrementally
        fh.write(json.dumps({**row, "epoch": 200_001}) + "\n")
    w.poll()
    assert w.view.history[-1].epoch == 200_001

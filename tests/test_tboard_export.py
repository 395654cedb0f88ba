"""The T key's export (core.tboard_export): a run folder's metrics.jsonl and layers.jsonl read back
through TensorBoard's own reader - scalars exactly (as the float32 TensorBoard stores), histograms
with the layer record's counts - incrementally while the run goes on, and from the app (live,
watched and finished runs; tensorboardX missing)."""

from __future__ import annotations

import json
import sys
import threading
import time

import numpy as np
import pytest

pytest.importorskip("tensorboardX")
pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")

from dltui.core import Trainer, load_preset  # noqa: E402
from dltui.core.integrations.tensorboard_folder import TensorBoardExport, TensorBoardFollow, default_logdir  # noqa: E402
from dltui.core.integrations.tensorboard_live import TensorBoardMissing  # noqa: E402
from dltui.core.runs.store.layerlog import LayerLog, read_layer_stats  # noqa: E402
from tb_helpers import read_events as _read  # noqa: E402


def _rows(run_dir):
    return [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]


def _train(run_dir, epochs=6, **kw):
    t = Trainer(load_preset("xor", {"training.epochs": epochs}), out_dir=run_dir, **kw)
    ticks = iter(range(10**6))
    t.fit(callbacks=[LayerLog(t, run_dir, every=7, clock=lambda: float(next(ticks)))])
    return t


def _scalars_equal(acc, rows):
    for tag, key in (("Loss/train", "train_loss"), ("Loss/valid", "val_loss"), ("Accuracy/train", "train_metric"),
                     ("Accuracy/valid", "val_metric"), ("lr", "lr")):
        got = [(s.step, s.value) for s in acc.Scalars(tag)]
        assert got == [(r["step"], float(np.float32(r[key]))) for r in rows], tag


def test_a_finished_run_reads_back_exactly(tmp_path):
    run = tmp_path / "run"
    _train(run)
    exp = TensorBoardExport(run)
    assert exp.logdir == default_logdir(run) == run / "tensorboard"
    n = exp.poll()
    exp.close()
    rows, recs = _rows(run), read_layer_stats(run)
    assert exp.rows == len(rows) == 6 and exp.records == len(recs) >= 2 and n == 6 + len(recs)
    acc = _read(exp.logdir)
    _scalars_equal(acc, rows)
    for i in (1, 2):
        hs = acc.Histograms(f"weights/layer{i}")
        assert [h.step for h in hs] == [e.step for e in recs]
        for h, e in zip(hs, recs):
            s = e.layers[i - 1]
            hv = h.histogram_value
            assert hv.num == s.n_in * s.n_out and list(hv.bucket) == list(s.w_hist)
            assert (hv.min, hv.max) == (s.w_min, s.w_max)
            assert hv.sum == pytest.approx(s.w_mean * hv.num) and hv.bucket_limit[-1] == pytest.approx(s.w_max)
        assert [list(h.histogram_value.bucket) for h in acc.Histograms(f"grads/layer{i}")] == \
            [list(e.layers[i - 1].g_hist) for e in recs]


def test_incremental_while_the_run_goes_on_and_a_new_export_replaces_the_old(tmp_path):
    run = tmp_path / "run"
    spec = load_preset("xor", {"training.epochs": 40})
    t = Trainer(spec, out_dir=run, start_paused=True)
    worker = threading.Thread(target=t.fit, kwargs={"callbacks": [LayerLog(t, run, every=0.0)]}, daemon=True)
    worker.start()
    t0 = time.monotonic()
    while not (run / "status.json").exists() and time.monotonic() - t0 < 10:
        time.sleep(0.01)
    exp = TensorBoardExport(run)
    for want in (1, 2, 3):
        t.step_epoch()
        while len(_rows(run)) < want and time.monotonic() - t0 < 20:
            time.sleep(0.01)
        exp.poll()
        assert exp.rows == want  # each poll writes only what is new
    t.stop()
    worker.join(10)
    exp.poll()
    exp.close()
    _scalars_equal(_read(exp.logdir), _rows(run))
    again = TensorBoardExport(run)  # a second export: one event file (the first one's is replaced)
    again.poll()
    again.close()
    assert len(list(again.logdir.glob("events.out.tfevents.*"))) == 1
    _scalars_equal(_read(again.logdir), _rows(run))


def test_follow_stops_by_itself_once_the_run_is_over(tmp_path):
    run = tmp_path / "run"
    _train(run, epochs=3)
    f = TensorBoardFollow(TensorBoardExport(run, tmp_path / "tb"), every=0.01, done=lambda: True).start()
    f._thread.join(10)
    assert f.finished and f.error is None and f.rows == 3
    _scalars_equal(_read(tmp_path / "tb"), _rows(run))


def test_missing_tensorboardx_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboardX", None)
    with pytest.raises(TensorBoardMissing, match=r"dltui\[tensorboard\]"):
        TensorBoardExport(tmp_path)


# ---------------------------------------------------------------- the T key in the app
def _message(app) -> str:
    return str(app.screen.query_one("#message").render())


def test_t_on_a_live_run_follows_it_to_the_end_and_t_again_stops(tmp_path, monkeypatch):
    pytest.importorskip("textual")
    from async_helpers import folder_app, sync, wait_for
    from dltui.tui.screens import tboard_key

    monkeypatch.setattr(tboard_key, "FOLLOW_EVERY", 0.05)
    folder = tmp_path / "xor-run"
    spec = load_preset("xor", {"training.epochs": 30})
    app = folder_app(spec, folder, tmp_path)

    @sync
    async def go():
        async with app.run_test(size=(80, 24)) as pilot:
            scr = app.screen
            notes = []
            scr._note = lambda text, severity="information": notes.append(text)
            await pilot.press("T")  # nothing trained yet: nothing written (an untrained run leaves no folder)
            assert scr._tb is None and "nothing trained yet" in notes[-1]
            assert not (folder / "tensorboard").exists()
            await pilot.press("e")  # one epoch, then T: what is there is written, and it follows
            await wait_for(pilot, lambda: scr.run.view.epoch >= 1 and scr.run.view.state == "paused", what="epoch 1")
            await pilot.press("T")
            await wait_for(pilot, lambda: scr._tb.rows >= 1, what="the first rows")
            await pilot.pause(1.2)
            msg = _message(app)
            assert "TensorBoard:" in msg and "following the run (T stops)" in msg
            assert "tensorboard --logdir" in msg and "xor-run/tensorboard" in msg
            await pilot.press("T")  # T again: it stops following
            await wait_for(pilot, lambda: scr._tb.finished, what="the follower to stop")
            await pilot.pause(1.2)
            assert "1 epoch," in _message(app) and "written" in _message(app)
            await pilot.press("T")  # and once more: a new export (replacing the first), following again
            await wait_for(pilot, lambda: not scr._tb.finished and scr._tb.rows >= 1, what="a new export")
            await pilot.press("space")  # train to the end: the follower writes the rest, then stops
            await wait_for(pilot, lambda: scr._tb.finished, what="the follower to end")
            await pilot.pause(1.2)
            assert "30 epochs" in _message(app) and "written" in _message(app)

    go()
    _scalars_equal(_read(folder / "tensorboard"), _rows(folder))
    acc = _read(folder / "tensorboard")
    assert [h.step for h in acc.Histograms("weights/layer1")] == [e.step for e in read_layer_stats(folder)]


def test_t_on_a_watched_finished_run(tmp_path, monkeypatch):
    pytest.importorskip("textual")
    from async_helpers import sync, wait_for
    from dltui.tui.app import DltuiApp

    run = tmp_path / "run"
    _train(run, epochs=4)
    app = DltuiApp(watch_dir=run, freeze_clock=True)

    @sync
    async def go():
        async with app.run_test(size=(100, 30)) as pilot:
            scr = app.screen
            await wait_for(pilot, lambda: scr.run.view.ended, what="the finished run read")
            await pilot.press("T")
            await wait_for(pilot, lambda: scr._tb.finished, what="the export")  # the run is over: it ends
            await pilot.pause(1.2)
            assert "4 epochs" in _message(app) and "written" in _message(app)

    go()
    _scalars_equal(_read(run / "tensorboard"), _rows(run))


def test_t_without_a_folder_or_without_tensorboardx_says_why(tmp_path, monkeypatch):
    pytest.importorskip("textual")
    from async_helpers import sync
    from dltui.core.runs import LiveRun
    from dltui.tui.app import DltuiApp

    spec = load_preset("xor", {"training.epochs": 3})
    notes = []

    @sync
    async def go(app):
        async with app.run_test(size=(100, 30)) as pilot:
            app.screen._note = lambda text, severity="information": notes.append((text, severity))
            await pilot.press("T")
            assert app.screen._tb is None

    go(DltuiApp(run=LiveRun(spec), scan_dir=None, freeze_clock=True))
    assert "keeps no folder" in notes[-1][0]
    monkeypatch.setitem(sys.modules, "tensorboardX", None)
    go(DltuiApp(run=LiveRun(spec, out_dir=str(tmp_path / "r")), scan_dir=None, freeze_clock=True,
                runs_dir=str(tmp_path)))
    assert notes[-1][1] == "error" and "T (TensorBoard files) needs tensorboardX" in notes[-1][0]
    assert 'pip install "dltui[tensorboard]"' in notes[-1][0]


def test_a_restart_ends_the_old_runs_export_quietly(tmp_path, monkeypatch):
    pytest.importorskip("textual")
    from async_helpers import sync, wait_for
    from dltui.core.runs import LiveRun
    from dltui.tui.app import DltuiApp
    from dltui.tui.screens import tboard_key

    monkeypatch.setattr(tboard_key, "FOLLOW_EVERY", 0.05)
    spec = load_preset("xor", {"training.epochs": 30})
    app = DltuiApp(run=LiveRun(spec, out_dir=str(tmp_path / "first")), scan_dir=None, freeze_clock=True,
                   runs_dir=str(tmp_path))

    @sync
    async def go():
        async with app.run_test(size=(100, 30)) as pilot:
            scr = app.screen
            await pilot.press("e")
            await wait_for(pilot, lambda: scr.run.view.epoch >= 1 and scr.run.view.state == "paused", what="epoch 1")
            await pilot.press("T")
            await wait_for(pilot, lambda: scr._tb is not None and scr._tb.rows >= 1, what="the export")
            tb = scr._tb
            await pilot.press("r")  # the same seed again: a new run (its own folder)
            await wait_for(pilot, lambda: scr._tb is None and tb.finished, what="the old export to end")
            assert "TensorBoard" not in _message(app)

    go()
    assert (tmp_path / "first" / "tensorboard").is_dir()

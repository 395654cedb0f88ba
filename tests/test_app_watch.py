"""`dltui watch RUN_DIR`: the dashboard following a run folder that another trainer is writing."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time

import pytest

pytest.importorskip("textual")

from async_helpers import wait_for  # noqa: E402
from dltui.core.config.spec import load_preset  # noqa: E402
from dltui.core.training.trainer import Trainer  # noqa: E402
from dltui.tui.app import DltuiApp  # noqa: E402


def text(app, sel: str) -> str:
    return str(app.screen.query_one(sel).render())


def test_watch_follows_a_run_epoch_by_epoch_and_says_when_it_ends(tmp_path):
    run_dir = tmp_path / "run"
    spec = load_preset("piecewise-sigmoid", {"training.epochs": 50})
    trainer = Trainer(spec, out_dir=run_dir, start_paused=True)
    worker = threading.Thread(target=trainer.fit, daemon=True)
    worker.start()
    t0 = time.monotonic()
    while not (run_dir / "status.json").exists() and time.monotonic() - t0 < 10:
        time.sleep(0.01)

    async def go():
        app = DltuiApp(watch_dir=run_dir, freeze_clock=True)
        async with app.run_test(size=(100, 30)) as pilot:
            scr = app.screen
            await pilot.pause()
            assert scr.run.read_only
            assert "watching" in text(app, "#status") and "epoch 0/50" in text(app, "#status")
            trainer.step_epoch()
            await wait_for(pilot, lambda: len(scr.run.view.history) == 1, what="epoch 1")
            await pilot.pause(0.1)
            assert "epoch 1/50" in text(app, "#status")
            assert len(scr.query_one("#loss")._history) == 1
            trainer.step_epoch()
            await wait_for(pilot, lambda: len(scr.run.view.history) == 2, what="epoch 2")
            assert [e.epoch for e in scr.run.view.history] == [1, 2]
            assert scr.run.view.history[1].train_loss == trainer.history[1].train_loss
            # the best checkpoint is read every few seconds: the layer table gets its weights
            await wait_for(pilot, lambda: scr.run.view.params is not None, what="the checkpoint")
            assert len(scr.run.view.stats) == 2
            await pilot.press("space")  # read-only: a notice, the run is not touched
            assert trainer.state == "paused"
            assert not scr.run.view.ended
            trainer.stop()
            await wait_for(pilot, lambda: scr.run.view.ended, what="the end")
            await pilot.pause(0.1)
            assert "the run has ended" in text(app, "#message")
            assert "ENDED" in text(app, "#status")

    asyncio.run(go())
    worker.join(5)


def test_watch_a_headless_dltui_train_process(tmp_path):
    run_dir = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "dltui.tui.cli", "train", "xor", "--epochs", "40",
                             "--out", str(run_dir), "--quiet"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    async def go():
        app = DltuiApp(watch_dir=run_dir, freeze_clock=True)
        async with app.run_test(size=(100, 30)) as pilot:
            scr = app.screen
            await wait_for(pilot, lambda: scr.run.view.ended, timeout=60, what="the run to end")
            await wait_for(pilot, lambda: len(scr.run.view.history) == 40, what="all epochs")
            assert [e.epoch for e in scr.run.view.history] == list(range(1, 41))
            await pilot.pause(0.2)
            assert "the run has ended: finished all epochs after 40 epochs" in text(app, "#message")
            assert "epoch 40/40" in text(app, "#status")

    try:
        asyncio.run(go())
    finally:
        proc.wait(30)
    assert proc.returncode == 0, proc.stderr.read().decode()


def test_b_steps_through_a_watched_runs_checkpoint_and_t_says_why_it_cannot_train(tmp_path):
    run_dir = tmp_path / "run"
    Trainer(load_preset("piecewise-sigmoid", {"training.epochs": 3}), out_dir=run_dir).fit()

    async def go():
        app = DltuiApp(watch_dir=run_dir, freeze_clock=True)
        async with app.run_test(size=(100, 30)) as pilot:
            scr = app.screen
            await wait_for(pilot, lambda: scr.run.view.params is not None, what="the checkpoint")
            await pilot.press("b")
            await wait_for(pilot, lambda: type(app.screen).__name__ == "BackpropScreen", what="the step-through")
            bp = app.screen
            await wait_for(pilot, lambda: bp.trace is not None, what="a trace at the checkpoint")
            await pilot.press("t")
            await pilot.pause()
            assert any("cannot be stepped" in str(n.message) for n in app._notifications)
            await pilot.press("escape")
            await wait_for(pilot, lambda: app.screen is scr, what="back to the dashboard")

    asyncio.run(go())

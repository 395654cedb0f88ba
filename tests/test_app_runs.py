"""The app's pace, continue, restart, confirm-on-discard and predictions (Pilot)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("textual")

from async_helpers import folder_app, sync, wait_for  # noqa: E402
from dltui.core import Trainer  # noqa: E402
from dltui.core.config.spec import load_preset  # noqa: E402
from dltui.core.runs import LiveRun  # noqa: E402
from dltui.tui.app import DltuiApp  # noqa: E402
from dltui.tui.screens.confirm import ConfirmScreen, PromptScreen  # noqa: E402
from dltui.tui.screens.dashboard import DashboardScreen  # noqa: E402
from textual.widgets import Static  # noqa: E402

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "hw01_2022"
F64 = {"training.dtype": "float64"}


def status(app) -> str:
    return str(app.screen.query_one("#status").render())


def app_for(preset="xor", runs_dir=None, pace=0.0, **overrides) -> DltuiApp:
    spec = load_preset(preset, {"training.epochs": 3, **overrides})
    return DltuiApp(run=LiveRun(spec, pace=pace), scan_dir=None, freeze_clock=True, runs_dir=runs_dir)


def same(a, b) -> bool:
    return all(np.array_equal(W1, W2) and np.array_equal(b1, b2) for (W1, b1), (W2, b2) in zip(a, b))


async def ended(pilot, scr) -> None:
    await wait_for(pilot, lambda: scr.run.view.state == "finished" and scr.run.trainer.state == "finished",
                   what="the end of the run")


@sync
async def test_pace_keys_change_the_trainer_pace_and_show_it():
    app = app_for(pace=0.0)
    async with app.run_test(size=(100, 30)) as pilot:
        scr = app.screen
        await wait_for(pilot, lambda: scr.run.view.state == "paused", what="paused")
        assert "pace max" in status(app)
        await pilot.press("minus")
        assert scr.run.trainer.pace == 10000 and "pace 10k/s" in status(app)
        for _ in range(8):
            await pilot.press("minus")
        assert scr.run.trainer.pace == 1 and "pace 1/s" in status(app)
        await pilot.press("plus")
        assert scr.run.trainer.pace == 3
        await pilot.press("space")  # 3 updates a second: after a moment only a few steps have run
        await wait_for(pilot, lambda: scr.run.view.step >= 1, what="a first step")
        await pilot.pause(0.5)
        assert scr.run.trainer.step <= 4 and scr.run.view.state == "running"
        await pilot.press("equals_sign")  # max: the rest runs at once
        assert scr.run.trainer.pace == 0 and "pace max" in status(app)
        await ended(pilot, scr)
        await pilot.press("equals_sign")  # and back to the pace it had
        assert scr.run.trainer.pace == 3


@sync
async def test_continue_after_the_end_keeps_epochs_and_optimizer_state():
    app = app_for(**F64)
    async with app.run_test(size=(100, 30)) as pilot:
        scr = app.screen
        await pilot.press("space")
        await ended(pilot, scr)
        assert "epoch 3/3" in status(app)
        await pilot.press("c")
        await ended(pilot, scr)
        v = scr.run.view
        assert [h.epoch for h in v.history] == [1, 2, 3, 4, 5, 6] and "epoch 6/6" in status(app)
        assert scr.run.trainer.step == 6 * v.batches_per_epoch
    whole = Trainer(load_preset("xor", {"training.epochs": 6, **F64}))
    whole.fit()
    assert same(scr.run.trainer.last_params, whole.last_params)  # as if it had never stopped
    assert v.history[-1].train_loss == whole.history[-1].train_loss


@sync
async def test_restart_with_the_same_seed_reproduces_the_run():
    app = app_for(**F64)
    async with app.run_test(size=(100, 30)) as pilot:
        scr = app.screen
        await pilot.press("space")
        await ended(pilot, scr)
        first = scr.run
        losses = [h.train_loss for h in first.view.history]
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the question")
        await pilot.press("y")
        await wait_for(pilot, lambda: scr.run is not first, what="the restart")
        await pilot.press("space")
        await ended(pilot, scr)
        assert [h.train_loss for h in scr.run.view.history] == losses
        assert same(scr.run.trainer.backend.get_params(), first.trainer.backend.get_params())


@sync
async def test_quit_and_presets_ask_before_discarding_unsaved_training():
    app = app_for()
    async with app.run_test(size=(100, 30)) as pilot:
        scr = app.screen
        await wait_for(pilot, lambda: scr.run.view.state == "paused", what="paused")
        await pilot.press("p")  # nothing trained yet: no question
        await wait_for(pilot, lambda: not isinstance(app.screen, DashboardScreen), what="the picker")
    app = app_for()
    async with app.run_test(size=(100, 30)) as pilot:
        scr = app.screen
        await pilot.press("e")
        await wait_for(pilot, lambda: len(scr.run.view.history) == 1, what="an epoch")
        await pilot.press("q")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the question")
        text = str(app.screen.query_one("#confirm-text", Static).render())
        assert "1 epochs" in text and "Quit anyway?" in text
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is scr, what="back")
        assert app.is_running
        await pilot.press("q", "y")
        await wait_for(pilot, lambda: not app.is_running, what="the app to quit")


@sync
async def test_a_run_with_a_folder_is_kept_and_the_app_says_where(tmp_path):
    spec = load_preset("xor", {"training.epochs": 3})
    app = folder_app(spec, tmp_path / "xor-run", tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        scr = app.screen
        await pilot.press("e")
        await wait_for(pilot, lambda: len(scr.run.view.history) == 1, what="an epoch")
        await pilot.press("p")  # no question: the folder keeps it
        await wait_for(pilot, lambda: not isinstance(app.screen, DashboardScreen), what="the picker")
        await wait_for(pilot, lambda: (tmp_path / "xor-run" / "last.safetensors").exists(), what="last")
        await wait_for(pilot, lambda: any("kept in" in n.message for n in app._notifications), what="the note")


@sync
async def test_an_app_regression_run_saves_its_linear_baseline_as_dltui_train_does(tmp_path):
    import json

    from dltui.core.experiments.baseline import linear_baseline
    from dltui.core.experiments.compare import load_run

    spec = load_preset("piecewise-relu", {"training.epochs": 2})
    folder = tmp_path / "pw-run"
    app = folder_app(spec, folder, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        scr = app.screen
        await pilot.press("e")
        await wait_for(pilot, lambda: len(scr.run.view.history) == 1, what="an epoch")
        want = linear_baseline(scr.run.data).val_mse
        assert json.loads((folder / "baseline.json").read_text())["val_mse"] == want
        await pilot.press("s")
        await ended(pilot, scr)
    assert load_run(folder).baseline == want  # compare's "linear" column


@pytest.mark.skipif(not (DATA / "covid.train.csv").exists(), reason=f"the HW1 data are not at {DATA}")
@sync
async def test_predictions_from_the_app_equal_dltui_predict(tmp_path):
    from dltui.tui.cli import main

    spec = load_preset("hw01-covid", {"training.epochs": 3, "data.path": str(DATA / "covid.train.csv")})
    run_dir = tmp_path / "covid"
    app = folder_app(spec, run_dir, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        scr = app.screen
        await pilot.press("space")
        await ended(pilot, scr)
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptScreen), what="the CSV prompt")
        assert app.screen.value == str(DATA / "covid.test.csv")  # guessed from the training file
        await pilot.press("enter")
        await wait_for(pilot, lambda: (run_dir / "pred.csv").exists(), what="pred.csv")
    assert main(["predict", str(run_dir), "--data", str(DATA / "covid.test.csv"), "--out",
                 str(tmp_path / "cli.csv")]) == 0
    assert (run_dir / "pred.csv").read_text() == (tmp_path / "cli.csv").read_text()


@sync
async def test_a_run_left_untrained_leaves_no_folder(tmp_path):
    spec = load_preset("xor", {"training.epochs": 3})
    folder = tmp_path / "xor-run"
    app = folder_app(spec, folder, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        scr = app.screen
        await wait_for(pilot, lambda: scr.run.view.state == "paused", what="paused")
        assert (folder / "preset.toml").exists()
        await pilot.press("p")
        await wait_for(pilot, lambda: scr.run.trainer.state == "finished", what="the run to stop")
        await wait_for(pilot, lambda: not folder.exists(), what="the folder to go")


@sync
async def test_an_app_run_folder_can_be_watched_with_gradients_and_ratios(tmp_path):
    from dltui.core.runs import WatchedRun

    spec = load_preset("xor", {"training.epochs": 3})
    folder = tmp_path / "xor-run"
    app = folder_app(spec, folder, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        scr = app.screen
        await pilot.press("space")
        await ended(pilot, scr)
    w = WatchedRun(folder)
    w.poll()
    assert [e.epoch for e in w.view.history] == [1, 2, 3] and w.view.ended
    assert w.view.stats and all(s.g_hist and s.update_ratio is not None for s in w.view.stats)

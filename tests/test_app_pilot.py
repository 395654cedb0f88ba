"""The app driven by Textual's Pilot: picker, dashboard controls, settings, help, errors.

Runs use small presets (a few epochs); waits poll the app's state with a generous timeout, so the
tests do not depend on the machine's speed.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

pytest.importorskip("textual")

from async_helpers import wait_for  # noqa: E402
from dltui.core.config.spec import load_preset  # noqa: E402
from dltui.core.runs import LiveRun  # noqa: E402
from dltui.tui.app import DltuiApp  # noqa: E402
from dltui.tui.screens.confirm import ConfirmScreen  # noqa: E402
from dltui.tui.screens.dashboard import DashboardScreen  # noqa: E402
from dltui.tui.screens.help import HelpScreen  # noqa: E402
from dltui.tui.screens.picker import PickerScreen  # noqa: E402
from dltui.tui.screens.settings import SettingsScreen  # noqa: E402
from textual.widgets import Input, OptionList, Static  # noqa: E402

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"




def status(app) -> str:
    return str(app.screen.query_one("#status").render())


def options(app) -> list[str]:
    ol = app.screen.query_one("#presets", OptionList)
    return [str(ol.get_option_at_index(i).prompt).strip() for i in range(ol.option_count)]


def dashboard_app(preset="piecewise-sigmoid", size=None, **overrides) -> DltuiApp:
    spec = load_preset(preset, {"training.epochs": 5, **overrides})
    return DltuiApp(run=LiveRun(spec), scan_dir=None, freeze_clock=True)


async def settled(pilot, app) -> None:
    """Wait until the dashboard shows everything the trainer has done so far."""
    scr = app.screen
    tr = scr.run.trainer
    await wait_for(pilot, lambda: scr.run.view.step == tr.step and tr.state != "running"
                   and scr.run.view.state in ("paused", "finished"), what="the view to catch up")


# ---------------------------------------------------------------- picker

def test_picker_lists_presets_by_topic_and_shows_details():
    async def go():
        app = DltuiApp(scan_dir=None, freeze_clock=True)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            assert isinstance(app.screen, PickerScreen)
            opts = options(app)
            assert opts[0] == "From the lecture"
            for name in ("piecewise-sigmoid", "xor", "spiral", "hw01-covid"):
                assert name in opts
            playground = opts.index("TensorFlow Playground data sets")
            assert opts.index("xor") > playground > opts.index("piecewise-sigmoid")
            details = str(app.screen.query_one("#details", Static).render())
            assert "Piecewise-linear curve from sigmoids" in details
            assert "8 sigmoid" in details and "adam, lr 0.03" in details
            await pilot.press("down")
            details = str(app.screen.query_one("#details", Static).render())
            assert f"\n{opts[2]}" in details  # the next preset in the list

    asyncio.run(go())


def test_picker_filter_and_enter_opens_the_dashboard_paused():
    async def go():
        app = DltuiApp(scan_dir=None, freeze_clock=True)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            await pilot.press("slash", "x", "o", "r")
            assert app.screen.query_one("#filter", Input).has_focus
            shown = [o for o in options(app) if not o.startswith("TensorFlow")]
            assert "xor" in shown and all("xor" in o for o in shown)
            assert "piecewise-sigmoid" not in options(app)
            await pilot.press("down")  # from the filter to the list
            ol = app.screen.query_one("#presets", OptionList)
            while str(ol.get_option_at_index(ol.highlighted).prompt).strip() != "xor":
                await pilot.press("down")
            await pilot.press("enter")  # start it
            await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen), what="the dashboard")
            scr = app.screen
            assert scr.spec.name == "xor"
            await wait_for(pilot, lambda: scr.run.view.state == "paused", what="paused")
            assert scr.run.trainer.step == 0 and "epoch 0/200" in status(app) and "PAUSED" in status(app)
            await pilot.press("p")  # back to the presets; the run is stopped
            await wait_for(pilot, lambda: isinstance(app.screen, PickerScreen), what="the picker")
            await wait_for(pilot, lambda: scr.run.trainer.state == "finished", what="the old run to stop")
            filt = app.screen.query_one("#filter", Input)
            await pilot.press("escape", "s", "p", "i")  # typing on the list filters it too
            assert filt.value == "spi" and filt.has_focus
            assert "spiral" in options(app) and "xor" not in options(app)

    asyncio.run(go())


def test_picker_enter_in_the_filter_starts_the_first_match():
    async def go():
        app = DltuiApp(scan_dir=None, freeze_clock=True)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            await pilot.press(*"spiral", "enter")
            await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen), what="the dashboard")
            assert app.screen.spec.name.startswith("spiral")

    asyncio.run(go())


def test_picker_csv_preset_asks_for_its_file(tmp_path):
    async def go():
        app = DltuiApp(scan_dir=None, freeze_clock=True)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            await pilot.press("slash", *"covid", "enter")
            msg = app.screen.query_one("#data-msg", Static)
            assert app.screen.query_one("#data-box").display
            await pilot.press("enter")
            assert "needs a CSV" in str(msg.render())
            assert app.screen.query_one("#data-path", Input).has_focus
            await pilot.press(*str(tmp_path / "nope.csv"), "enter")
            assert "no such file" in str(msg.render())
            bad = tmp_path / "bad.csv"
            bad.write_text("a,b\n1,2\n3,4\n")
            app.screen.query_one("#data-path", Input).value = str(bad)
            await pilot.press("enter")
            assert "tested_positive" in str(msg.render())  # the target column is missing: said plainly
            assert isinstance(app.screen, PickerScreen)
            csv = DATA / "hw01_2022" / "covid.train.csv"
            if csv.exists():
                app.screen.query_one("#data-path", Input).value = str(csv)
                await pilot.press("enter")
                await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen), what="the dashboard")
                assert app.screen.spec.values["data"]["path"] == str(csv)

    asyncio.run(go())


def test_picker_shows_user_presets_from_the_folder(tmp_path):
    src = load_preset("xor").to_toml().replace('title = "XOR (TensorFlow Playground)"', 'title = "my xor"')
    (tmp_path / "mine.toml").write_text(src)
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")

    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "given.toml").write_text(src)

    async def go():
        app = DltuiApp(scan_dir=tmp_path, extra_presets=[str(other / "given.toml")], freeze_clock=True)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            opts = options(app)
            assert "mine" in opts and "given" in opts and "pyproject" not in opts
            assert opts.index("mine") > opts.index("Your presets (this folder, --preset)")
            ol = app.screen.query_one("#presets", OptionList)
            ol.highlighted = opts.index("given")
            await pilot.pause()
            details = str(app.screen.query_one("#details", Static).render())
            assert "my xor" in details and str(other / "given.toml") in details

    asyncio.run(go())


# ---------------------------------------------------------------- dashboard controls

def test_dashboard_step_batch_epoch_start_pause_stop_restart():
    async def go():
        app = dashboard_app()
        async with app.run_test(size=(100, 30)) as pilot:
            scr = app.screen
            tr = scr.run.trainer
            await settled(pilot, app)
            assert tr.step == 0 and tr.state == "paused"
            bpe = tr.batches_per_epoch
            await pilot.press("n")
            await wait_for(pilot, lambda: scr.run.view.step == 1, what="one step")
            await settled(pilot, app)
            assert tr.step == 1 and "batch 1/" in status(app)
            await pilot.press("n")
            await wait_for(pilot, lambda: scr.run.view.step == 2, what="two steps")
            await settled(pilot, app)
            assert tr.step == 2
            await pilot.press("e")
            await wait_for(pilot, lambda: len(scr.run.view.history) == 1, what="an epoch")
            await settled(pilot, app)
            assert tr.step == bpe and len(tr.history) == 1 and "epoch 1/5" in status(app)
            loss = scr.query_one("#loss")
            await wait_for(pilot, lambda: len(loss._history) == 1, what="the loss plot")
            assert "best" in loss.title_text
            await pilot.press("space")
            await wait_for(pilot, lambda: scr.run.view.step > bpe or tr.state == "finished", what="running")
            await pilot.press("s")
            await wait_for(pilot, lambda: scr.run.view.state == "finished", what="the stop")
            assert tr.state == "finished"
            assert str(scr.query_one("#message", Static).render()).startswith(("stopped", "finished"))
            v = scr.run.view  # the trainer put the best epoch's weights back: the views show those
            await wait_for(pilot, lambda: v.params_step == v.step, what="the final weights")
            assert all((W == W2).all() for (W, _), (W2, _) in zip(v.params, tr.backend.get_params()))
            old = scr.run
            await pilot.press("R")  # a new seed; the trained run is saved nowhere: it asks first
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the question")
            assert "saved nowhere" in str(app.screen.query_one("#confirm-text", Static).render())
            await pilot.press("n")  # no: nothing happens
            await wait_for(pilot, lambda: app.screen is scr, what="the dashboard")
            assert scr.run is old
            await pilot.press("R")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the question")
            await pilot.press("y")
            await wait_for(pilot, lambda: scr.run is not old and scr.run.view.state == "paused",
                           what="restart")
            assert scr.run.spec.values["training"]["seed"] == old.spec.values["training"]["seed"] + 1
            assert scr.run.trainer.step == 0 and "epoch 0/5" in status(app)
            old = scr.run
            await pilot.press("r")  # the same seed
            await wait_for(pilot, lambda: scr.run is not old and scr.run.view.state == "paused",
                           what="restart")
            assert scr.run.spec.values["training"]["seed"] == old.spec.values["training"]["seed"]

    asyncio.run(go())


def test_epoch_presses_are_queued_not_lost():
    async def go():
        app = dashboard_app()
        async with app.run_test(size=(100, 30)) as pilot:
            scr = app.screen
            await settled(pilot, app)
            await pilot.press("e", "e", "e")
            await wait_for(pilot, lambda: len(scr.run.view.history) == 3, what="three epochs")
            await settled(pilot, app)
            await pilot.pause(0.2)
            tr = scr.run.trainer
            assert len(tr.history) == 3 and tr.step == 3 * tr.batches_per_epoch and tr.state == "paused"

    asyncio.run(go())


def test_dashboard_pause_holds_the_step_count():
    async def go():
        app = dashboard_app(**{"training.epochs": 100000, "training.patience": 0})
        async with app.run_test(size=(100, 30)) as pilot:
            scr = app.screen
            await settled(pilot, app)
            await pilot.press("space")
            await wait_for(pilot, lambda: scr.run.view.step > 20, what="training")
            assert "RUNNING" in status(app)
            await pilot.press("space")
            await settled(pilot, app)
            held = scr.run.trainer.step
            await pilot.pause(0.3)
            assert scr.run.trainer.step == held and scr.run.view.step == held
            assert "PAUSED" in status(app)
            await pilot.press("n")
            await wait_for(pilot, lambda: scr.run.view.step == held + 1, what="one more step")
            await settled(pilot, app)
            assert scr.run.trainer.step == held + 1

    asyncio.run(go())


async def to_row(pilot, app, label: str) -> None:
    """In the preset editor: move the cursor to the row with this label."""
    labels = [r.label for r in app.screen.model.rows()]
    for _ in range(labels.index(label) - app.screen.model.cursor):
        await pilot.press("down")
    assert app.screen.model.row.label == label


def test_learning_rate_changes_live_and_between_runs():
    async def go():
        app = dashboard_app()
        async with app.run_test(size=(100, 30)) as pilot:
            scr = app.screen
            await settled(pilot, app)
            await pilot.press("n")
            await wait_for(pilot, lambda: scr.run.view.step == 1, what="one step")
            await pilot.press("right_square_bracket")
            await wait_for(pilot, lambda: scr.run.trainer.backend.opt.lr == 0.06, what="lr doubled")
            assert scr.run.trainer.step == 1  # the same run, changed live
            assert scr.spec.values["optimizer"]["lr"] == 0.06
            # the editor (o): epochs and batch size, applied by a restart with the new preset
            await pilot.press("o")
            await wait_for(pilot, lambda: isinstance(app.screen, SettingsScreen), what="the editor")
            await to_row(pilot, app, "batch size")
            await pilot.press("right")  # 32 -> 64
            await to_row(pilot, app, "epochs")
            await pilot.press("3", "enter")
            await pilot.press("enter")
            await wait_for(pilot, lambda: scr.run.trainer.epochs == 3, what="a new run")
            tr = scr.run.trainer
            assert tr.batch_size == 64 and tr.step == 0 and tr.backend.opt.lr == 0.06
            assert "epoch 0/3" in status(app)

    asyncio.run(go())


def test_learning_rate_on_an_ended_run_is_for_the_next_run_and_says_so():
    async def go():
        app = dashboard_app(**{"training.epochs": 1})
        async with app.run_test(size=(100, 30)) as pilot:
            scr = app.screen
            await settled(pilot, app)
            await pilot.press("space")
            await wait_for(pilot, lambda: not scr.run.active, what="the run to end")
            await pilot.press("right_square_bracket")
            await pilot.pause()
            assert scr.spec.values["optimizer"]["lr"] == 0.06
            assert [str(n.message) for n in app._notifications] == [
                "learning rate 0.06 for the next run (r restarts); this one has ended"]
            await pilot.press("r", "y")  # unsaved training: asked first
            await wait_for(pilot, lambda: scr.run.trainer.step == 0 and scr.run.trainer.backend.opt.lr == 0.06,
                           what="a restart at the new rate")

    asyncio.run(go())


def test_b_on_a_run_that_ended_steps_through_its_best_weights():
    async def go():
        app = dashboard_app(**{"training.epochs": 2})
        async with app.run_test(size=(100, 30)) as pilot:
            scr = app.screen
            await settled(pilot, app)
            await pilot.press("space")
            await wait_for(pilot, lambda: not scr.run.active, what="the run to end")
            await pilot.press("b")
            await wait_for(pilot, lambda: type(app.screen).__name__ == "BackpropScreen", what="the step-through")
            bp = app.screen
            await wait_for(pilot, lambda: bp.trace is not None, what="a trace of the ended run")
            await pilot.press("t")
            await pilot.pause()
            assert any("training has finished" in str(n.message) for n in app._notifications)

    asyncio.run(go())


def test_switch_to_the_torch_backend_before_the_run_starts():
    pytest.importorskip("torch")
    pytest.importorskip("dltui.core.backends.torch_backend")

    async def go():
        app = dashboard_app("xor")
        async with app.run_test(size=(100, 30)) as pilot:
            scr = app.screen
            await settled(pilot, app)
            await pilot.press("o")
            await wait_for(pilot, lambda: isinstance(app.screen, SettingsScreen), what="the editor")
            await to_row(pilot, app, "backend")
            await pilot.press("right")  # numpy -> torch
            await to_row(pilot, app, "device")
            await pilot.press("right")  # auto -> cpu
            await pilot.press("enter")
            await wait_for(pilot, lambda: scr.run.trainer.backend.name == "torch", timeout=60, what="torch")
            await settled(pilot, app)
            assert "torch/cpu" in status(app)
            await pilot.press("n")
            await wait_for(pilot, lambda: scr.run.view.step == 1, what="a torch step")

    asyncio.run(go())


def test_settings_reject_bad_values():
    async def go():
        app = dashboard_app()
        async with app.run_test(size=(100, 30)) as pilot:
            await settled(pilot, app)
            await pilot.press("o")
            await wait_for(pilot, lambda: isinstance(app.screen, SettingsScreen), what="the editor")
            await to_row(pilot, app, "learning rate")
            await pilot.press("1", "e", "9", "enter")
            assert isinstance(app.screen, SettingsScreen)
            assert "[optimizer] lr = 1000000000.0 is not allowed" in str(
                app.screen.query_one("#settings-error", Static).render())
            await pilot.press("escape")
            assert isinstance(app.screen, DashboardScreen)

    asyncio.run(go())


def test_divergence_shows_a_message_and_keeps_the_run_stopped():
    async def go():
        app = dashboard_app(**{"optimizer.name": "sgd", "optimizer.lr": 50.0})
        async with app.run_test(size=(100, 30)) as pilot:
            scr = app.screen
            await settled(pilot, app)
            await pilot.press("space")
            await wait_for(pilot, lambda: scr.run.view.state == "diverged", what="the divergence")
            msg = str(scr.query_one("#message", Static).render())
            assert msg.startswith("error: ") and "diverged" in msg
            assert scr.run.view.end_reason == "diverged"
            await pilot.press("space")  # nothing to resume: a notice, no crash
            assert scr.run.trainer.state == "finished" and "DIVERGED" in status(app)

    asyncio.run(go())


def test_a_failing_run_shows_the_error_and_keeps_the_last_weights():
    async def go():
        app = dashboard_app()
        async with app.run_test(size=(100, 30)) as pilot:
            scr = app.screen
            await settled(pilot, app)
            be = scr.run.trainer.backend
            real, calls = be.train_step, []

            def flaky(b):
                calls.append(b)
                if len(calls) == 4:
                    raise RuntimeError("device lost")
                real(b)

            be.train_step = flaky
            await pilot.press("n", "n", "n")
            await wait_for(pilot, lambda: scr.run.view.step == 3, what="three steps")
            await settled(pilot, app)
            kept = [W.copy() for W, _ in be.get_params()]
            await pilot.press("space")
            await wait_for(pilot, lambda: scr.run.view.state == "failed", what="the failure")
            msg = str(scr.query_one("#message", Static).render())
            assert msg.startswith("error: the run failed: RuntimeError: device lost")
            assert "FAILED" in status(app)
            assert all((W == k).all() for (W, _), k in zip(be.get_params(), kept))

    asyncio.run(go())


def test_classification_dashboard_shows_accuracy():
    async def go():
        app = dashboard_app("xor")
        async with app.run_test(size=(100, 30)) as pilot:
            scr = app.screen
            await settled(pilot, app)
            await pilot.press("e")
            await wait_for(pilot, lambda: len(scr.query_one("#loss")._history) == 1, what="an epoch")
            assert "acc " in scr.query_one("#loss").title_text

    asyncio.run(go())


def test_help_lists_every_key():
    async def go():
        app = dashboard_app()
        async with app.run_test(size=(100, 30)) as pilot:
            await settled(pilot, app)
            await pilot.press("question_mark")
            assert isinstance(app.screen, HelpScreen)
            text = str(app.screen.query_one("#help-keys", Static).render())
            for word in ("space", "start / pause", "one batch", "end of this epoch", "restart with a new seed",
                         "restart with the same seed", "continue a run", "pace", "ΔW/W", "backprop", "quit",
                         "filter", "learning rate"):
                assert word in text
            await pilot.press("escape")
            assert isinstance(app.screen, DashboardScreen)

    asyncio.run(go())


def test_small_terminal_puts_the_right_panel_behind_a_key():
    async def go():
        app = dashboard_app()
        async with app.run_test(size=(80, 24)) as pilot:
            scr = app.screen
            await settled(pilot, app)
            assert scr.has_class("-narrow")
            assert scr.query_one("#loss").display and not scr.query_one("#right").display
            keys = [k for k, _, _ in scr.query_one("#keys").hints()]  # the key map, on two lines
            assert set(keys) >= {"space", "n", "e", "s", "r", "b", "o", "v", "p", "?", "q"}
            assert scr.query_one("#keys").size.height == 2
            await pilot.press("v")
            await pilot.pause()
            assert scr.query_one("#right").display and not scr.query_one("#loss").display
            await pilot.press("v")
            await pilot.pause()
            assert scr.query_one("#loss").display

    asyncio.run(go())


def test_backprop_key_opens_the_step_through_or_says_it_is_missing():
    import importlib.util

    async def go():
        app = dashboard_app()
        async with app.run_test(size=(100, 30)) as pilot:
            await settled(pilot, app)
            await pilot.press("b")
            await pilot.pause()
            if importlib.util.find_spec("dltui.tui.screens.backprop") is None:
                assert isinstance(app.screen, DashboardScreen)
                notes = [str(n.message) for n in app._notifications]
                assert any("backprop step-through not available" in n for n in notes)
            else:
                assert type(app.screen).__name__ == "BackpropScreen"

    asyncio.run(go())


def test_layer_table_and_learned_plot_get_data():
    async def go():
        app = dashboard_app()
        async with app.run_test(size=(100, 30)) as pilot:
            scr = app.screen
            await settled(pilot, app)
            await pilot.press("n")
            await wait_for(pilot, lambda: scr.run.view.stats_step == 1 and scr.run.view.params_step == 1,
                           what="stats and parameters for step 1")
            stats = scr.run.view.stats
            assert len(stats) == 2 and stats[0].n_out == 8
            # a single step reports its own update: ||W_after - W_before|| / ||W_after||
            assert all(s.update_ratio is not None and s.update_ratio > 0 for s in stats)
            W = scr.run.trainer.backend.get_params()[0][0]
            assert (scr.run.view.params[0][0] == W).all()

    asyncio.run(go())


def test_quit_stops_the_training_thread():
    async def go():
        app = dashboard_app(**{"training.epochs": 100000, "training.patience": 0})
        async with app.run_test(size=(100, 30)) as pilot:
            scr = app.screen
            await settled(pilot, app)
            await pilot.press("space")
            await wait_for(pilot, lambda: scr.run.view.step > 5, what="training")
            tr = scr.run.trainer
            await pilot.press("q")
        deadline = time.monotonic() + 10
        while tr.state != "finished" and time.monotonic() < deadline:
            time.sleep(0.02)
        assert tr.state == "finished"

    asyncio.run(go())


# ---------------------------------------------------------------- the command line

def test_no_terminal_says_use_train(capsys):
    from dltui.tui.cli import main

    assert main([]) == 2
    assert "dltui train" in capsys.readouterr().err
    assert main(["xor", "--start"]) == 2
    assert "dltui train" in capsys.readouterr().err
    assert main(["watch", "/no/such/run"]) == 2
    assert "no such run folder" in capsys.readouterr().err

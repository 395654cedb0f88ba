"""What a new user tripped on (issue 23), each driven on the screen with Textual's Pilot."""

from __future__ import annotations

import pytest

pytest.importorskip("textual")

from async_helpers import sync, wait_for  # noqa: E402
from dltui.tui.app import DltuiApp  # noqa: E402
from dltui.tui.screens.dashboard import DashboardScreen  # noqa: E402
from dltui.tui.screens.picker import PickerScreen  # noqa: E402
from textual import events  # noqa: E402
from textual.widgets import Input, OptionList  # noqa: E402


def options(app) -> list[str]:
    ol = app.screen.query_one("#presets", OptionList)
    return [str(ol.get_option_at_index(i).prompt).strip() for i in range(ol.option_count)]


@pytest.mark.parametrize("name", ["kinks-3-sigmoids", "circles-squares"])
@sync
async def test_typing_a_hyphenated_name_fast_on_the_list_finds_it(name):
    app = DltuiApp(scan_dir=None, freeze_clock=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        ol = app.screen.query_one("#presets", OptionList)
        for ch in name:  # all reach the list before the filter takes the focus, as in a terminal (tmux)
            ol.post_message(events.Key(ch if ch != "-" else "minus", ch))
        await pilot.pause()
        assert app.screen.query_one("#filter", Input).value == name  # q (quit) and d (data) inside a name too
        assert name in options(app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen), what="the dashboard")
        assert app.screen.spec.name == name


@sync
async def test_the_filter_is_fresh_after_p_from_a_dashboard():
    app = DltuiApp(scan_dir=None, freeze_clock=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press(*"spiral", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen), what="the dashboard")
        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, PickerScreen), what="the picker")
        await pilot.pause()
        await pilot.press(*"kinks-3")
        assert app.screen.query_one("#filter", Input).value == "kinks-3"
        assert "kinks-3-sigmoids" in options(app)


@pytest.mark.parametrize("preset", ["piecewise-sigmoid", "relu-pair-hard-sigmoid"])
@sync
async def test_the_status_line_keeps_the_preset_name_at_80x24_while_training(preset):
    from dltui.core.config.spec import load_preset
    from dltui.core.runs import LiveRun

    spec = load_preset(preset, {"training.epochs": 100000, "training.patience": 0})
    app = DltuiApp(run=LiveRun(spec), scan_dir=None, freeze_clock=True)
    async with app.run_test(size=(80, 24)) as pilot:
        scr = app.screen
        await pilot.pause()
        assert preset in str(scr.query_one("#status").render())
        await pilot.press("space")
        await wait_for(pilot, lambda: scr.run.view.state == "running" and scr.run.view.epoch >= 1, what="training")
        await wait_for(pilot, lambda: "RUNNING" in str(scr.query_one("#status").render()), what="the status")
        line = str(scr.query_one("#status").render())
        assert preset in line and "pace" in line and "RUNNING" in line, line
        await pilot.press("s")


@sync
async def test_the_unit_view_keeps_the_shaped_curve_on_the_plot():
    from dltui.core.config.spec import load_preset
    from dltui.core.runs import LiveRun
    from dltui.tui.widgets.shape_plot import ShapePlot, unit_terms

    spec = load_preset("piecewise-sigmoid", {"training.epochs": 5})
    app = DltuiApp(run=LiveRun(spec), scan_dir=None, freeze_clock=True)
    async with app.run_test(size=(100, 30)) as pilot:
        scr = app.screen
        await wait_for(pilot, lambda: scr.run.view.params is not None, what="weights")
        await pilot.press("u")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ShapeScreen", what="the unit view")
        shape = app.screen
        await wait_for(pilot, lambda: shape.params is not None, what="the unit view's weights")
        plot = shape.query_one(ShapePlot)
        plot.render()
        t = unit_terms(shape.params, plot.activations, plot.grid_in, plot.unit)  # epoch 0
        assert plot.ylim[0] <= t["out"].min() and t["out"].max() <= plot.ylim[1]
        await pilot.press(*["right_square_bracket"] * 7, "k", "k", "k")  # step 12.8: the output bias +38
        await pilot.pause()
        plot = shape.query_one(ShapePlot)
        data_top = plot.y_range[1]
        t = unit_terms(shape.params, plot.activations, plot.grid_in, plot.unit)
        assert t["out"].min() > data_top  # the model is now above every data point ...
        lo, hi = plot.ylim
        assert lo <= t["out"].min() and t["out"].max() <= hi  # ... and still on the plot
        assert lo <= plot.y_range[0]  # the data too
        text = plot.render().plain
        assert any(ch in text for ch in "▀▄▌▐▖▗▘▝▙▛▜▟█")  # the model's bold line is drawn


def _no_psutil(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "psutil", None)  # import psutil raises ImportError


def test_top_once_without_psutil_says_why_the_cpu_is_missing(monkeypatch, capsys):
    from dltui.tui.cli import main

    _no_psutil(monkeypatch)
    assert main(["top", "--once", "--interval", "0.1"]) == 0
    out = capsys.readouterr().out
    assert "CPU ? (no psutil)" in out and "pip install psutil" in out


@sync
async def test_g_without_psutil_says_why_the_cpu_is_missing(monkeypatch):
    from dltui.core.config.spec import load_preset
    from dltui.core.runs import LiveRun
    from dltui.tui.screens.system import SystemScreen
    from textual.widgets import Static

    _no_psutil(monkeypatch)
    app = DltuiApp(run=LiveRun(load_preset("xor", {"training.epochs": 5})), scan_dir=None, freeze_clock=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("g")  # from the dashboard
        await wait_for(pilot, lambda: isinstance(app.screen, SystemScreen), what="the system panel")
        body = lambda: str(app.screen.query_one("#sys-body", Static).render())  # noqa: E731
        await wait_for(pilot, lambda: "pip install psutil" in body(), what="the psutil hint")
        assert "CPU ? (no psutil)" in body()
        await pilot.press("escape")


@sync
async def test_t_without_tensorboardx_names_the_extra_whole(monkeypatch, tmp_path):
    import sys

    from async_helpers import folder_app
    from dltui.core.config.spec import load_preset

    monkeypatch.setitem(sys.modules, "tensorboardX", None)  # import tensorboardX raises ImportError
    app = folder_app(load_preset("xor", {"training.epochs": 5}), tmp_path / "run", tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("T")
        await wait_for(pilot, lambda: list(app._notifications), what="the notice")
        note = list(app._notifications)[-1]
        assert 'pip install "dltui[tensorboard]"' in note.message
        assert note.markup is False  # shown as written: Rich markup would eat "[tensorboard]"


@sync
async def test_the_backprop_screen_says_what_its_shapes_mean_and_keeps_its_side_column_whole():
    from dltui.core.config.spec import load_preset
    from dltui.core.runs import LiveRun
    from dltui.tui.widgets.grad_check import GradCheckPanel
    from dltui.tui.widgets.stage_view import StageView

    app = DltuiApp(run=LiveRun(load_preset("piecewise-sigmoid", {"training.epochs": 5})), scan_dir=None,
                   freeze_clock=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app.screen.run.view.params is not None, what="weights")
        await pilot.press("b")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "BackpropScreen", what="the step-through")
        view = app.screen.query_one(StageView)
        await wait_for(pilot, lambda: view.stage is not None, what="a stage")
        text = str(view.render())
        assert "[8×1, batch]" in text and "[rows×columns, batch]: one array for the whole mini-batch" in text
        panel = app.screen.query_one(GradCheckPanel)
        panel.show_torch, panel.numeric, panel.autograd = True, [], None  # as without torch
        lines = panel.render_checks().plain.splitlines()
        width = panel.content_size.width
        assert "(torch is not installed)" in lines and all(len(ln) <= width for ln in lines), (lines, width)


def _finished_run(path, epochs=1500):
    import json

    path.mkdir(parents=True)
    (path / "status.json").write_text(json.dumps({
        "state": "finished", "epoch": epochs, "end": {"reason": "completed", "best_val_loss": 0.01234},
        "started": {"preset": "spiral", "backend": "numpy", "device": "cpu", "epochs": epochs}}))
    (path / "metrics.jsonl").write_text(json.dumps({"epoch": epochs, "best_val_loss": 0.01234}) + "\n")


@pytest.mark.parametrize("size", [(80, 24), (100, 30)])
@sync
async def test_watch_runs_keeps_epoch_best_loss_and_age_whole_and_escape_comes_back(tmp_path, size):
    from dltui.tui.screens.runs_overview import RunsOverviewScreen, runs_app
    from textual.widgets import DataTable

    long = "sweeps/spiral-lr-sweep-20261208-013000-4242/optimizer.lr=0.003,training.seed=17"
    _finished_run(tmp_path / long)
    app = runs_app(tmp_path)
    async with app.run_test(size=size) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, RunsOverviewScreen), what="the list")
        table = app.screen.query_one(DataTable)
        await wait_for(pilot, lambda: table.row_count == 1, what="the run")
        await pilot.pause()
        shown = "".join(str(c) for c in table.get_row_at(0))
        assert "1500/1500" in shown and "0.01234" in shown
        name = str(table.get_row_at(0)[0])
        assert "…" in name and name.endswith("training.seed=17"[-8:])
        assert table.virtual_size.width <= table.size.width  # every column on screen, nothing cut
        await pilot.press("enter")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "WatchedFromList", what="the run")
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, RunsOverviewScreen), what="back to the list")


@sync
async def test_the_editors_command_line_is_shown_whole(tmp_path, monkeypatch):
    from dltui.core.config.spec import load_preset
    from dltui.core.runs import LiveRun
    from dltui.tui.screens.settings import SettingsScreen
    from textual.widgets import Static

    monkeypatch.chdir(tmp_path)  # the TOML is written here
    spec = load_preset("spiral", {"training.epochs": 3})
    app = DltuiApp(run=LiveRun(spec), scan_dir=None, freeze_clock=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("o")
        await wait_for(pilot, lambda: isinstance(app.screen, SettingsScreen), what="the editor")
        ed = app.screen
        ed.save_dir = tmp_path
        await pilot.press("right", "down", "right")  # a layer more, then another activation
        for _ in range(12):
            if ed.model.row.label == "learning rate":
                break
            await pilot.press("down")
        await pilot.press("right")
        await pilot.press("w")
        box = ed.query_one("#edit-written", Static)
        await wait_for(pilot, lambda: box.display and box.size.height > 0, what="the command line")
        await pilot.pause()
        from rich.text import Text

        text = Text(str(box.render()))
        needed = len(text.wrap(app.console, box.content_size.width))
        act = ed.model.spec().values["model"]["activation"]
        assert act != "tanh" and f"--set model.activation={act}" in text.plain and "optimizer.lr" in text.plain
        assert box.content_size.height >= needed, (box.content_size.height, needed)


@sync
async def test_smoothing_and_window_stay_on_the_loss_plot_while_a_run_goes():
    from dltui.core.config.spec import load_preset
    from dltui.core.runs import LiveRun

    spec = load_preset("xor", {"training.epochs": 100000, "training.patience": 500})
    app = DltuiApp(run=LiveRun(spec), scan_dir=None, freeze_clock=True)
    async with app.run_test(size=(100, 30)) as pilot:
        scr = app.screen
        await pilot.press("space")
        plot = scr.w_loss
        await wait_for(pilot, lambda: plot._history and plot._history[-1].epoch > 101, timeout=120,
                       what="101 epochs on the plot")
        await pilot.press("m", "z")  # smoothing 0.6, the last 100 epochs
        await wait_for(pilot, lambda: plot.smoothing and plot.window, what="the settings")
        top, bottom = plot.fitted_labels(plot.size.width - 2)
        assert "smooth 0.6" in bottom and "last 100" in bottom, bottom
        assert len(bottom) <= plot.size.width - 2
        assert "patience" in plot.title_text  # there was more to show: the settings kept their place
        await pilot.press("s")


@sync
async def test_layer_table_columns_do_not_come_and_go_as_the_numbers_change():
    import dataclasses

    from dltui.core.config.spec import load_preset
    from dltui.core.runs import LiveRun
    from dltui.tui.widgets.layer_table import LayerTable

    app = DltuiApp(run=LiveRun(load_preset("spiral", {"training.epochs": 5})), scan_dir=None, freeze_clock=True)
    async with app.run_test(size=(80, 24)) as pilot:
        scr = app.screen
        await pilot.press("n")
        await wait_for(pilot, lambda: scr.run.view.stats is not None and scr.run.view.stats_step == 1,
                       what="layer statistics")
        table = scr.query_one(LayerTable)
        stats = scr.run.view.stats
        wide = [dataclasses.replace(s, w_min=-1.23456e-7, w_max=9.87654e-7, w_mean=-1.2345e-7) for s in stats]
        narrow = [dataclasses.replace(s, w_min=-1.0, w_max=1.0, w_mean=0.0, w_std=0.5) for s in stats]
        seen = []
        for layers in (narrow, wide, narrow, wide, narrow):
            table.show_stats(layers)
            await pilot.pause()
            seen.append(list(table._shown))
        assert len(seen[1]) <= len(seen[0])  # wider numbers may push a column out ...
        assert seen[1:] == [seen[1]] * 4  # ... but it does not come back and go again at each refresh


@sync
async def test_a_watched_runs_accuracy_says_which_epoch_it_is(tmp_path):
    from dltui.tui.cli import main

    assert main(["train", "xor", "--epochs", "4", "--out", str(tmp_path / "run"), "--quiet"]) == 0
    app = DltuiApp(watch_dir=tmp_path / "run", scan_dir=None, freeze_clock=True)
    async with app.run_test(size=(100, 30)) as pilot:
        plot = app.screen.w_loss
        await wait_for(pilot, lambda: len(plot._history) == 4, what="the run's epochs")
        _, bottom = plot.fitted_labels(200)
        assert "val acc " in bottom and "% @ 4" in bottom, bottom


def test_predict_on_labelled_rows_says_so(tmp_path, capsys):
    import numpy as np
    from dltui.tui.cli import main

    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 2))
    rows = [f"{i},{a:.4f},{b:.4f},{a + 2 * b:.4f}" for i, (a, b) in enumerate(x)]
    train = tmp_path / "train.csv"
    train.write_text("id,a,b,y\n" + "\n".join(rows) + "\n")
    test = tmp_path / "test.csv"
    test.write_text("id,a,b\n" + "\n".join(r.rsplit(",", 1)[0] for r in rows[:10]) + "\n")
    run = tmp_path / "run"
    assert main(["train", "csv-regression", "--data", str(train), "--epochs", "3", "--out", str(run),
                 "--set", "data.drop=['id']", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["predict", str(run), "--data", str(train), "--out", str(tmp_path / "p.csv")]) == 0
    out = capsys.readouterr().out
    assert "wrote 60 predictions" in out and "has the target column 'y'" in out and "RMSE against it" in out
    assert main(["predict", str(run), "--data", str(test), "--out", str(tmp_path / "q.csv")]) == 0
    out = capsys.readouterr().out
    assert "wrote 10 predictions" in out and "target column" not in out  # a test file: no note

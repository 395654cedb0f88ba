"""C in the app: the dashboard compares this run with the other runs of its preset in its runs
folder, the picker the highlighted preset's runs; a clear note when there is nothing to compare."""

from __future__ import annotations

import pytest

pytest.importorskip("textual")

from async_helpers import sync, wait_for  # noqa: E402
from dltui.core import load_preset  # noqa: E402
from dltui.core.runs import LiveRun  # noqa: E402
from dltui.tui.app import DltuiApp  # noqa: E402
from dltui.tui.cli import main  # noqa: E402
from dltui.tui.screens.compare_key import preset_runs  # noqa: E402

SMALL = ["--epochs", "5", "--set", "model.hidden=[4]"]


def train(root, name, preset="piecewise-relu", seed=1):
    assert main(["train", preset, *SMALL, "--seed", str(seed), "--out", str(root / name)]) == 0


def notes(app) -> str:
    return " ".join(str(n.message) for n in app._notifications)


def test_preset_runs_this_run_first_then_the_presets_others_newest_first(tmp_path):
    root = tmp_path / "runs"
    train(root, "a", seed=1)
    train(root, "b", seed=2)
    train(root, "other", preset="piecewise-sigmoid")
    assert main(["sweep", "piecewise-relu", "--seeds", "2", "--jobs", "1", *SMALL,
                 "--out", str(root / "sw")]) == 0
    runs = preset_runs(root, "piecewise-relu", this=root / "a")
    names = [r.name for r in runs]
    assert names[0] == "a (this run)" and len(names) == 4
    assert set(names[1:]) == {"b", "sw/r0-s1", "sw/r0-s2"} and "other" not in " ".join(names)
    assert len(preset_runs(root, "piecewise-relu", limit=2)) == 2
    assert preset_runs(tmp_path / "nowhere", "piecewise-relu") == []


@sync
async def test_dashboard_C_opens_compare_with_this_run_or_says_there_is_nothing(tmp_path):
    from dltui.tui.screens.compare import CompareScreen
    from dltui.tui.screens.dashboard import DashboardScreen
    from textual.widgets import DataTable

    root = tmp_path / "runs"
    spec = load_preset("piecewise-relu", {"training.epochs": 5, "model.hidden": [4]})
    app = DltuiApp(run=LiveRun(spec, out_dir=str(root / "live")), scan_dir=None, freeze_clock=True,
                   runs_dir=str(root))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen), what="the dashboard")
        dash = app.screen
        await pilot.press("C")
        await wait_for(pilot, lambda: "nothing to compare" in notes(app), what="the note")
        assert "no other run of piecewise-relu" in notes(app) and "dltui sweep piecewise-relu" in notes(app)
        assert app.screen is dash
        await pilot.press("space")
        await wait_for(pilot, lambda: dash.run.view.ended, what="the run to end")
        train(root, "b", seed=2)
        train(root, "c", seed=3)
        await pilot.press("C")
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen), what="the compare screen")
        scr = app.screen
        assert [r.name for r in scr.runs][0] == "live (this run)" and len(scr.runs) == 3
        assert scr.query_one(DataTable).row_count == 3
        assert "seed 5201314 | 3 | 2" in str(scr.query_one("#cmp-diff").render())  # the preset's own, then b, c
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is dash, what="back to the dashboard")
    from dltui.tui.screens.help import help_text

    assert "compare this run with the other runs of its preset" in str(help_text(DltuiApp))


@sync
async def test_picker_C_compares_the_highlighted_presets_runs(tmp_path, monkeypatch):
    from dltui.tui.screens.compare import CompareScreen
    from dltui.tui.screens.picker import PickerScreen
    from textual.widgets import OptionList

    root = tmp_path / "runs"
    train(root, "x1", preset="xor", seed=1)
    train(root, "x2", preset="xor", seed=2)
    app = DltuiApp(scan_dir=None, freeze_clock=True, runs_dir=str(root))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, PickerScreen), what="the picker")
        picker = app.screen
        await pilot.pause()
        shown = picker.active_bindings["C"].binding
        assert shown.show and shown.description == "compare runs"  # in the footer
        ol = picker.query_one(OptionList)
        ol.highlighted = next(i for i in range(ol.option_count) if ol.get_option_at_index(i).id is not None
                              and picker.entries[int(ol.get_option_at_index(i).id)]["name"] == "moons")
        await pilot.pause()
        await pilot.press("C")
        await wait_for(pilot, lambda: "nothing to compare" in notes(app), what="the note")
        assert "no run of moons in" in notes(app)
        assert picker.query_one("#filter").value == ""  # C is a key, not typed into the filter
        ol.highlighted = next(i for i in range(ol.option_count) if ol.get_option_at_index(i).id is not None
                              and picker.entries[int(ol.get_option_at_index(i).id)]["name"] == "xor")
        await pilot.pause()
        await pilot.press("C")
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen), what="the compare screen")
        assert sorted(r.name for r in app.screen.runs) == ["x1", "x2"]
        await pilot.press("question_mark")
        await pilot.pause()
        assert "min-max band / thin lines" in str(app.screen.query_one("#help-keys").render())
        await pilot.press("escape", "escape")
        await wait_for(pilot, lambda: app.screen is picker, what="back to the picker")

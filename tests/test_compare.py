"""Compare: finished runs and sweep folders read back, grouped by setting, the settings that differ,
and the compare screen driven with Pilot (x-axis, band/lines, opening a run read-only)."""

from __future__ import annotations

import pytest

pytest.importorskip("textual")

from async_helpers import sync, wait_for  # noqa: E402
from dltui.core.experiments import compare as cmp  # noqa: E402
from dltui.core.experiments.sweep import label_of, plan, run_tasks  # noqa: E402
from dltui.tui.cli import main  # noqa: E402


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("cmp") / "sweep"
    rc = main(["sweep", "piecewise-relu", "--grid", "model.hidden=[4],[16]", "--seeds", "2", "--jobs", "1",
               "--epochs", "20", "--out", str(out)])
    assert rc == 0
    return out


def test_a_sweep_folder_reads_back_grouped_by_setting(sweep_dir):
    runs = cmp.load_targets([sweep_dir])
    assert [r.group for r in runs] == ["hidden=[4]"] * 2 + ["hidden=[16]"] * 2
    assert list(cmp.groups(runs)) == ["hidden=[4]", "hidden=[16]"]
    diff = cmp.differing(runs)
    assert diff["model.hidden"] == [[4], [4], [16], [16]] and diff["training.seed"] == [1, 2, 1, 2]
    assert "about.title" not in diff
    b = cmp.band(cmp.groups(runs)["hidden=[4]"], "epoch", "val_loss")
    assert len(b["x"]) == 20 and all(lo <= mid <= hi for lo, mid, hi in zip(b["lo"], b["mid"], b["hi"]))
    x, y = cmp.curve(runs[0], "updates", "train_loss")
    assert x[0] == 7 and len(y) == 20  # 205 rows / batch 32 = 7 updates an epoch
    assert runs[0].baseline is not None and cmp.numbers(runs[0])["state"] == "completed"


def test_compare_rejects_a_folder_that_holds_no_run(tmp_path, capsys):
    assert main(["compare", str(tmp_path)]) == 2
    assert "not a run folder" in capsys.readouterr().err
    assert main(["compare", str(tmp_path / "nope")]) == 2
    assert "nope: does not exist" in capsys.readouterr().err


def test_a_folder_of_runs_and_sweeps_stands_for_them_newest_first(sweep_dir, tmp_path):
    import os
    import shutil

    parent = tmp_path / "runs"
    parent.mkdir()
    one = next(p for p in sweep_dir.iterdir() if (p / "metrics.jsonl").exists())
    shutil.copytree(one, parent / "older")
    shutil.copytree(one, parent / "newer")
    (parent / "notes").mkdir()  # neither a run nor a sweep: left out
    os.utime(parent / "older", (1, 1))
    runs = cmp.load_targets([parent])
    assert [r.name for r in runs] == ["newer", "older"]


def test_compare_without_a_terminal_prints_rounded_numbers(sweep_dir, capsys):
    assert main(["compare", str(sweep_dir)]) == 0
    out = capsys.readouterr().out
    import re

    assert out.count("best val") == 4
    vals = re.findall(r"(?:best val|final train) ([0-9.e+-]+)", out)
    assert len(vals) == 8 and all(v == f"{float(v):.4g}" for v in vals)  # 4 significant digits


def footer_text(app) -> str:
    from dltui.tui.widgets.key_hints import KeyHints

    return str(app.screen.query_one(KeyHints).render()).replace("\u00a0", " ")


def test_settings_that_differ_leave_out_none_and_words_and_are_short():
    runs = [cmp.LoadedRun(None, f"r{i}", {"about": {"title": f"t{i}"}, "data": {"needs": f"give a file {i}"},
                                          "model": {"hidden": [4 * (i + 1)], "init": None if i else "he"},
                                          "optimizer": {"lr": 0.1 / (i + 1)}}, []) for i in range(9)]
    diff = cmp.differing(runs)
    assert set(diff) == {"model.hidden", "optimizer.lr"}
    line = cmp.differing_line(diff, 80)
    assert len(line) <= 80 and line == "hidden [4] | [8] | … | [36]; lr 0.1 | 0.05 | … | 0.01111"


@sync
async def test_compare_screen_overlays_settings_and_opens_a_run_read_only(sweep_dir, tmp_path):
    from dltui.tui.commands.compare_cmd import compare_app
    from dltui.tui.screens.compare import CompareScreen
    from dltui.tui.screens.dashboard import DashboardScreen
    from textual.widgets import DataTable

    single = tmp_path / "one"
    run_tasks(plan("piecewise-relu", [], [3], single, {"training.epochs": 15}), None)
    runs = cmp.load_targets([sweep_dir]) + cmp.load_targets([next(single.iterdir())])
    app = compare_app(runs, freeze_clock=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen), what="the compare screen")
        scr = app.screen
        title = lambda: str(scr.query_one("#cmp-title").render())  # noqa: E731
        assert "5 runs · 3 settings" in title() and "val loss by epoch" in title() and "band" in title()
        assert [s["label"] for s in scr.series()][:2] == ["hidden=[4] (2 seeds)", "hidden=[16] (2 seeds)"]
        assert scr.query_one(DataTable).row_count == 5
        diff = str(scr.query_one("#cmp-diff").render())
        assert "hidden [4] | [16]" in diff and "None" not in diff and "needs" not in diff
        assert "hidden=[4] (2 seeds)" in str(scr.query_one("#cmp-legend").render())
        await pilot.press("x")
        assert "val loss by update" in title()
        await pilot.press("b")
        assert "thin lines" in title()
        colors = [s["color"] for s in scr.series()]
        assert colors[0] == colors[1] != colors[2]  # the seeds of a setting share its colour
        await pilot.press("v")
        assert "train loss" in title()
        assert all(s.get("marker", "braille") == "braille" for s in scr.series())  # no rows of dots
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen), what="the run's dashboard")
        assert app.screen.run.read_only
        assert "back to compare" in footer_text(app) and "presets" not in footer_text(app)
        opened = app.screen
        await pilot.press("C")  # no comparison over the run opened from one
        await pilot.pause()
        assert app.screen is opened
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is scr, what="back to the compare screen")
        assert scr.query_one(DataTable).cursor_row == 1
    assert label_of({"model.hidden": [4]}) == "hidden=[4]"


@sync
async def test_compare_keys_in_the_footer_and_help_and_the_table_fits_80_columns(sweep_dir):
    from dltui.tui.commands.compare_cmd import compare_app
    from dltui.tui.screens.compare import CompareScreen
    from textual.widgets import DataTable

    runs = cmp.load_targets([sweep_dir])
    app = compare_app(runs, freeze_clock=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen), what="the compare screen")
        scr = app.screen
        assert "open run" in footer_text(app)
        table = scr.query_one(DataTable)
        assert sum(c.get_render_width(table) for c in table.columns.values()) <= 80
        assert "best val" in [str(c.label) for c in table.columns.values()]
        await pilot.press("question_mark")
        await pilot.pause()
        help_text = str(app.screen.query_one("#help-keys").render())
        assert "compare" in help_text and "min-max band / thin lines" in help_text
        assert "open the selected run" in help_text


def test_no_color_gives_each_series_its_own_marker_named_in_the_legend(sweep_dir, monkeypatch):
    from dltui.tui.screens.compare import CompareScreen
    from dltui.tui.widgets.compare_plot import int_ticks, legend_text

    monkeypatch.setenv("NO_COLOR", "1")
    scr = CompareScreen(cmp.load_targets([sweep_dir]))
    series = scr.series()
    assert len({s["marker"] for s in series}) == len(series) == 2
    legend = legend_text(series, True).plain
    assert f"{series[0]['marker'] * 2} hidden=[4]" in legend and f"{series[1]['marker'] * 2} hidden=[16]" in legend
    assert int_ticks(0, 750.8) == [0, 200, 400, 600] and int_ticks(1, 3) == [1, 2, 3]


def test_the_table_keeps_only_columns_that_fit_beside_a_long_run_name():
    from dltui.tui.screens.compare import fit_columns

    rows = [{"run": "xor-20261202-144238-29745 (this run)", "best_val_loss": 0.007606, "train_loss": 0.0005913,
             "val_acc": 1.0, "epochs": 200, "state": "completed", "best_epoch": 191}]
    cols = fit_columns(rows, 80)
    widths = [max(len(h), len(str(rows[0].get(k, "")))) + 2 for k, h, _ in cols]
    assert sum(widths) + 2 <= 80 and [c[0] for c in cols][:2] == ["run", "best_val_loss"]
    assert "state" in [c[0] for c in fit_columns(rows, 100)]

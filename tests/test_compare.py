"""Compare: finished runs and sweep folders read back, grouped by setting, the settings that differ,
and the compare screen driven with Pilot (x-axis, band/lines, opening a run read-only)."""

from __future__ import annotations

import pytest

pytest.importorskip("textual")

from async_helpers import sync, wait_for  # noqa: E402
from dltui.core import compare as cmp  # noqa: E402
from dltui.core.sweep import label_of, plan, run_tasks  # noqa: E402
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


@sync
async def test_compare_screen_overlays_settings_and_opens_a_run_read_only(sweep_dir, tmp_path):
    from dltui.tui.screens.compare import CompareScreen, compare_app
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
        assert "5 runs · 3 settings" in title() and "per epoch" in title() and "band" in title()
        assert [s["label"] for s in scr.series()][:2] == ["hidden=[4] (2 seeds)", "hidden=[16] (2 seeds)"]
        assert scr.query_one(DataTable).row_count == 5
        assert "model.hidden: [4] | [16]" in str(scr.query_one("#cmp-diff").render())
        await pilot.press("x")
        assert "per updates" in title()
        await pilot.press("b")
        assert "thin lines" in title()
        colors = [s["color"] for s in scr.series()]
        assert colors[0] == colors[1] != colors[2]  # the seeds of a setting share its colour
        await pilot.press("v")
        assert "train loss" in title()
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen), what="the run's dashboard")
        assert app.screen.run.read_only
    assert label_of({"model.hidden": [4]}) == "hidden=[4]"

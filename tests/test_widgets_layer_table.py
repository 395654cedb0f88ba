"""LayerTable: one row per layer from a real trainer's statistics; selection posts LayerSelected."""


import pytest

pytest.importorskip("textual")

from async_helpers import sync  # noqa: E402
from dltui.core.config.spec import load_preset  # noqa: E402
from dltui.core.training.trainer import Trainer  # noqa: E402
from dltui.tui.widgets.layer_table import LayerTable, cells, num, sparkline  # noqa: E402
from textual.app import App  # noqa: E402


def trained(preset="piecewise-sigmoid", **over):
    spec = load_preset(preset, {"training.epochs": 3, **over})
    t = Trainer(spec, "numpy")
    t.backend.mark()
    t.fit()
    return t


@pytest.fixture(scope="module")
def three_layers():
    t = trained(**{"model.hidden": [8, 4]})
    return t, tuple(t.backend.layer_stats())


class TableApp(App):
    def __init__(self, stats):
        super().__init__()
        self.stats = stats
        self.selected: list[int] = []

    def compose(self):
        yield LayerTable()

    def on_mount(self):
        self.query_one(LayerTable).show_stats(self.stats)

    def on_layer_table_layer_selected(self, message: LayerTable.LayerSelected):
        self.selected.append(message.index)


def cell(table: LayerTable, row: int, key: str) -> str:
    return table.get_cell(str(row), key).plain


def test_num_and_sparkline_formats():
    assert num(0.000123) == "1.2e-4"
    assert num(-0.81234) == "-0.81"
    assert num(12.345, 3) == "12.3"
    assert num(345.6) == "346"
    assert num(float("nan")) == "nan"
    assert num(None) == "–"
    assert sparkline((0, 1, 2, 4)) == " ▂▄█"
    assert sparkline((0, 0)) == "··"


@sync
async def test_one_row_per_layer_with_its_statistics(three_layers):
    _, stats = three_layers
    app = TableApp(stats)
    async with app.run_test(size=(120, 12)) as pilot:
        await pilot.pause()
        table = app.query_one(LayerTable)
        assert table.row_count == 3
        assert [cell(table, s.index, "shape") for s in stats] == ["1→8", "8→4", "4→1"]
        assert [cell(table, s.index, "act") for s in stats] == ["sigmoid", "sigmoid", "linear"]
        for s in stats:
            assert cell(table, s.index, "w_norm") == num(s.w_norm, 3)
            assert cell(table, s.index, "g_norm") == num(s.g_norm, 3)
            assert cell(table, s.index, "mean_std") == f"{num(s.w_mean)}±{num(s.w_std)}"
            assert cell(table, s.index, "min_max") == f"{num(s.w_min)}/{num(s.w_max)}"
            assert cell(table, s.index, "ratio") == num(s.update_ratio, 1)
            assert cell(table, s.index, "w_hist") == sparkline(s.w_hist)
            assert len(cell(table, s.index, "g_hist")) == 8
        assert cell(table, 1, "inactive") == f"sat {stats[0].inactive:.0%}"
        assert cell(table, 3, "inactive") == "–"  # the output layer has no activation to saturate


@sync
async def test_dead_relus_are_counted_per_unit():
    t = trained("piecewise-relu")
    stats = tuple(t.backend.layer_stats())
    app = TableApp(stats)
    async with app.run_test(size=(120, 10)) as pilot:
        await pilot.pause()
        table = app.query_one(LayerTable)
        dead = round(stats[0].inactive * stats[0].n_out)
        assert cell(table, 1, "inactive") == f"{dead}/16 dead"


@sync
async def test_arrow_keys_and_click_post_the_selected_layer(three_layers):
    _, stats = three_layers
    app = TableApp(stats)
    async with app.run_test(size=(120, 12)) as pilot:
        table = app.query_one(LayerTable)
        table.focus()
        await pilot.pause()
        assert app.selected == [1]  # the first layer is selected when the table fills
        await pilot.press("down")
        await pilot.press("down")
        await pilot.press("up")
        await pilot.pause()
        assert app.selected == [1, 2, 3, 2]
        assert table.selected_layer == 2
        await pilot.click(LayerTable, offset=(4, 3))  # header is line 0; layer 3 is line 3
        await pilot.pause()
        assert app.selected[-1] == 3
        await pilot.press("enter")  # enter on the highlighted row selects it again
        await pilot.pause()
        assert app.selected[-1] == 3 and len(app.selected) == 6


@sync
async def test_update_in_place_keeps_the_cursor(three_layers):
    t, stats = three_layers
    app = TableApp(stats)
    async with app.run_test(size=(120, 12)) as pilot:
        table = app.query_one(LayerTable)
        table.focus()
        await pilot.press("down")
        await pilot.pause()
        # train a few more epochs and show the new statistics
        t2 = trained(**{"model.hidden": [8, 4], "training.epochs": 8})
        new = tuple(t2.backend.layer_stats())
        assert new[1].w_norm != stats[1].w_norm
        table.show_stats(new)
        await pilot.pause()
        assert table.cursor_row == 1
        assert cell(table, 2, "w_norm") == num(new[1].w_norm, 3)
        assert app.selected == [1, 2]  # an update is not a new selection


@sync
async def test_narrow_table_drops_min_max_first(three_layers):
    _, stats = three_layers
    app = TableApp(stats)
    async with app.run_test(size=(120, 10)) as pilot:
        await pilot.pause()
        table = app.query_one(LayerTable)
        assert [c.key.value for c in table.ordered_columns][:6] == [
            "index", "shape", "act", "w_norm", "mean_std", "min_max"]
        await pilot.resize_terminal(80, 10)
        await pilot.pause()
        keys = [c.key.value for c in table.ordered_columns]
        assert "min_max" not in keys
        assert {"index", "shape", "g_norm", "ratio", "inactive", "w_hist", "g_hist"} <= set(keys)
        assert table.virtual_size.width <= 80


@sync
async def test_memory_stays_flat_over_hundreds_of_updates(three_layers):
    """Each stats update makes every cached render stale (DataTable keys them by its update count); the
    table must not keep them: 150 more redraws add no memory (before the fix: ~7 MB, caches filling)."""
    import dataclasses
    import gc
    import tracemalloc

    t, stats = three_layers
    app = TableApp(stats)
    async with app.run_test(size=(120, 10)) as pilot:
        table = app.query_one(LayerTable)

        async def redraws(n, k0):
            for k in range(k0, k0 + n):  # new numbers each time, as a training run gives
                table.show_stats(tuple(dataclasses.replace(s, w_norm=s.w_norm + k * 1e-3) for s in stats))
                await pilot.pause()

        await redraws(50, 0)
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        await redraws(150, 50)
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
        assert grown < 300_000, f"{grown / 1e6:.1f} MB kept by 150 redraws"
        last = dataclasses.replace(stats[0], w_norm=stats[0].w_norm + 199e-3)
        assert cell(table, 1, "w_norm") == cells(last)["w_norm"].plain  # still drawn from the new numbers

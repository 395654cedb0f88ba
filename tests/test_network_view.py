"""The network view (issue 23): every unit's picture and every weight, live, driven with Textual's Pilot.

Waits poll the app with generous deadlines (no wall-clock bounds)."""

from __future__ import annotations

import pytest

pytest.importorskip("textual")

from async_helpers import sync, wait_for  # noqa: E402
from dltui.core.config.spec import load_preset  # noqa: E402
from dltui.core.runs import LiveRun  # noqa: E402
from dltui.tui.app import DltuiApp  # noqa: E402
from dltui.tui.widgets.network_view import MAX_CARDS, NetworkCards, NetworkView  # noqa: E402


def app_for(preset: str, **overrides) -> DltuiApp:
    spec = load_preset(preset, {"training.epochs": 50, **overrides})
    return DltuiApp(run=LiveRun(spec), scan_dir=None, freeze_clock=True)


def cards(app) -> str:
    view = app.screen.query_one(NetworkView)
    return view.cards_text(view.query_one(NetworkCards).content_size.width).plain


def info(app) -> str:
    return str(app.screen.query_one("#net-info").render())


async def open_network(pilot, app) -> NetworkView:
    scr = app.screen
    await wait_for(pilot, lambda: scr.run.view.params is not None, what="the first weights")
    await pilot.press("w")
    view = scr.query_one(NetworkView)
    await wait_for(pilot, lambda: view.params is not None and view.drawn > 0, what="the network drawn")
    return view


@sync
async def test_every_unit_and_edge_of_spiral_shows_and_changes_while_training():
    app = app_for("spiral")
    async with app.run_test(size=(100, 30)) as pilot:
        scr = app.screen
        view = await open_network(pilot, app)
        assert scr.query_one("#right").active == "tab-network" and view.has_focus
        text = cards(app)
        labels = [f"{layer}.{j}" for layer in (1, 2) for j in range(1, 17)] + ["p(0)", "p(1)"]
        assert all(f"{label} " in text for label in labels)  # every hidden unit and output: a card
        assert "hidden 2 · 16 tanh" in text and "output · 2 class probabilities" in text
        assert any(ch in text for ch in "━─╍╌")  # edges drawn as glyphs
        for line in text.splitlines():
            assert len(line) <= view.query_one(NetworkCards).content_size.width
        await pilot.press("full_stop")  # the first incoming edge of unit 1.1
        W = view.params[0][0]
        assert view.edge == 0 and f"w {W[0, 0]:+.4g}" in info(app) and "∂L/∂w" in info(app)
        assert "edge x1 → unit 1.1" in info(app)
        await pilot.press("right", "down")  # unit 1.2, then the next layer: 2.2
        assert view.sel == (1, 1) and view.edge is None
        before = text
        await pilot.press("space")  # train: the pictures follow the weights
        await wait_for(pilot, lambda: scr.run.view.epoch >= 3, what="training")
        await pilot.press("space")
        await wait_for(pilot, lambda: cards(app) != before, what="the cards to change")


@sync
async def test_the_network_is_computed_only_while_it_is_shown():
    app = app_for("xor")
    async with app.run_test(size=(100, 30)) as pilot:
        scr = app.screen
        view = await open_network(pilot, app)
        await pilot.press("v")  # back to the learned panel
        assert scr.query_one("#right").active == "tab-learned"
        drawn = view.drawn
        await pilot.press("space")
        await wait_for(pilot, lambda: scr.run.view.epoch >= 5, what="training")
        await pilot.pause(0.3)
        assert view.drawn == drawn


@sync
async def test_wide_layers_and_wide_inputs_summarise():
    app = app_for("features-relu", **{"data.n_features": 117, "model.hidden": [56]})
    async with app.run_test(size=(100, 30)) as pilot:
        view = await open_network(pilot, app)
        text = cards(app)
        assert f"+{56 - (MAX_CARDS - 1)} more units" in text
        assert "117 in" in text  # a fan-in too wide for a card: its count and signs
        assert "inputs (117)" in text
        width = view.query_one(NetworkCards).content_size.width
        assert all(len(line) <= width for line in text.splitlines())


@sync
async def test_80x24_pages_by_layer_and_a_click_selects_an_edge():
    app = app_for("spiral")
    async with app.run_test(size=(80, 24)) as pilot:
        scr = app.screen
        view = await open_network(pilot, app)
        assert scr.query_one("#right").display and not scr.query_one("#loss").display
        top = view.scroll_y
        await pilot.press("down")  # the next layer comes into view
        await wait_for(pilot, lambda: view.scroll_y > top, what="a scroll to layer 2")
        assert view.sel[0] == 1
        await pilot.press("up")
        await wait_for(pilot, lambda: view.scroll_y == top, what="back to layer 1")
        band = view.bands[0]
        y, x0, _x1, _y1, unit, edge = next(h for h in band.hits if h[5] == 1)  # unit 1.1's edge from x2
        await pilot.click(NetworkCards, offset=(x0, y))
        assert view.sel == unit and view.edge == 1 and "edge x2 →" in info(app)


@sync
async def test_enter_opens_the_single_unit_view():
    app = app_for("piecewise-sigmoid")
    async with app.run_test(size=(100, 30)) as pilot:
        await open_network(pilot, app)
        await pilot.press("right", "right", "enter")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ShapeScreen", what="the unit view")
        assert app.screen.unit == (0, 2)
    app = app_for("xor")
    async with app.run_test(size=(100, 30)) as pilot:
        scr = app.screen
        await open_network(pilot, app)
        await pilot.press("right", "enter")
        await pilot.pause()
        assert scr.query_one("#right").active == "tab-learned" and scr.w_learned.unit == (0, 1)


@sync
async def test_the_network_is_the_default_panel_where_it_fits():
    app = app_for("xor")
    async with app.run_test(size=(150, 50)) as pilot:
        scr = app.screen
        await wait_for(pilot, lambda: scr.run.view.params is not None, what="weights")
        await pilot.pause()
        assert scr.query_one("#right").active == "tab-network"
    app = app_for("spiral")
    async with app.run_test(size=(100, 30)) as pilot:
        scr = app.screen
        await pilot.pause()
        assert scr.query_one("#right").active == "tab-learned"  # 16 + 16 units do not fit beside the loss


@sync
async def test_decision_regions_sit_beside_the_loss_at_80x24():
    app = app_for("xor")
    async with app.run_test(size=(80, 24)) as pilot:
        scr = app.screen
        mini = scr.query_one("#mini-learned")
        await wait_for(pilot, lambda: mini.params is not None, what="the regions' weights")
        assert scr.has_class("-narrow") and mini.display and scr.query_one("#loss").display
        assert mini.region.width >= 30 and mini.mode == "regions"
        text = mini.render().plain
        assert "p(class 1)" in text and "x1" in text
        first = mini.params
        await pilot.press("space")  # they follow the training
        await wait_for(pilot, lambda: mini.params is not first and scr.run.view.epoch >= 2, what="new weights")
    app = app_for("piecewise-sigmoid")  # a curve: the loss plot alone (its picture is behind v)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert not app.screen.query_one("#mini-learned").display


@sync
async def test_playground_regression_sets_draw_their_value_over_the_plane():
    app = app_for("multi-gaussian")
    async with app.run_test(size=(100, 30)) as pilot:
        scr = app.screen
        await wait_for(pilot, lambda: scr.w_learned.params is not None, what="weights")
        assert scr.w_learned.mode == "regions"
        assert "output value" in scr.w_learned.render().plain

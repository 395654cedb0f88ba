"""The lesson views of LearnedPlot: the views series drawn day by day over the validation period
(real red, predicted blue), and a ReLU pair drawn unit by unit so it sums to one hard sigmoid."""

import numpy as np
import pytest

pytest.importorskip("textual")

from async_helpers import sync  # noqa: E402
from dltui.core.config.spec import load_preset  # noqa: E402
from dltui.core.training.trainer import Trainer  # noqa: E402
from dltui.tui.widgets.learned_plot import PAIR, PREDICTED, REAL, LearnedPlot  # noqa: E402
from textual.app import App  # noqa: E402


class PlotApp(App):
    def compose(self):
        yield LearnedPlot()


def trained(preset, epochs=3, **over):
    spec = load_preset(preset, {"training.epochs": epochs, **over})
    t = Trainer(spec, "numpy")
    t.fit()
    return spec, t


def styles_in(text) -> set[str]:
    return {str(span.style) for span in text.spans}


@sync
async def test_views_series_shows_real_and_predicted_over_the_validation_days():
    spec, t = trained("views-linear", 5)
    app = PlotApp()
    async with app.run_test(size=(90, 20)) as pilot:
        plot = app.query_one(LearnedPlot)
        plot.configure(t.data, spec)
        assert plot.mode == "series"
        plot.show_params(t.backend.get_params())
        await pilot.pause()
        text = plot.render()
        head = text.plain.split("\n")[0]
        assert "real" in head and "predicted" in head and "validation days 801-1000" in head
        pred = t.backend.predict(t.data.x_val)[:, 0]
        rmse = float(np.sqrt(np.mean((pred - t.data.y_val[:, 0]) ** 2)))
        assert f"RMSE {rmse:.3g}" in head
        assert {REAL, PREDICTED} <= styles_in(text)
        assert "day" in text.plain.split("\n")[-1] or "day" in text.plain


@sync
async def test_relu_pair_is_drawn_unit_by_unit():
    spec, t = trained("relu-pair-hard-sigmoid", 5)
    app = PlotApp()
    async with app.run_test(size=(90, 20)) as pilot:
        plot = app.query_one(LearnedPlot)
        plot.configure(t.data, spec)
        assert plot.mode == "curve"
        plot.show_params(t.backend.get_params())
        await pilot.pause()
        text = plot.render()
        assert "relu 1" in text.plain and "relu 2" in text.plain and "hard sigmoid" in text.plain
        assert set(PAIR) <= styles_in(text)
        c = plot.contributions
        np.testing.assert_allclose(c.bias + c.units.sum(1), c.prediction, atol=1e-12)


@sync
async def test_other_relu_nets_keep_the_grey_units():
    spec, t = trained("piecewise-relu", 2)
    app = PlotApp()
    async with app.run_test(size=(90, 20)) as pilot:
        plot = app.query_one(LearnedPlot)
        plot.configure(t.data, spec)
        plot.show_params(t.backend.get_params())
        await pilot.pause()
        text = plot.render()
        assert "16 units" in text.plain and not set(PAIR) & styles_in(text)


def test_loss_title_gives_the_test_loss_beside_the_best_epoch():
    from dltui.core import events as ev
    from dltui.tui.widgets.loss_plot import loss_title

    row = ev.EpochEnded(epoch=3, step=9, train_loss=0.5, val_loss=0.4, train_metric=None, val_metric=None,
                        best_epoch=2, best_val_loss=0.3, patience_left=None, lr=0.01, elapsed=1.0,
                        steps_per_second=1.0)
    assert loss_title([row], "regression", 0, 0.35) == "best 0.3 @ 2, test 0.35"
    assert loss_title([row], "regression", 0) == "best 0.3 @ 2"


def test_the_dashboard_reports_the_test_loss_when_the_run_ends():
    import asyncio

    from async_helpers import wait_for
    from dltui.core.runs import LiveRun
    from dltui.core.training.evaluation import test_figures
    from dltui.tui.app import DltuiApp
    from textual.widgets import Static

    spec = load_preset("xor", {"training.epochs": 4, "data.test_ratio": 0.2})

    async def go():
        app = DltuiApp(run=LiveRun(spec), scan_dir=None, freeze_clock=True)
        async with app.run_test(size=(100, 30)) as pilot:
            scr = app.screen
            await pilot.press("space")
            await wait_for(pilot, lambda: scr.run.view.state == "finished", what="the end of the run")
            await wait_for(pilot, lambda: scr.query_one("#loss").test_loss is not None, what="the loss plot")
            test = scr.run.view.test_loss
            tr = scr.run.trainer
            assert test == test_figures(tr.backend, tr.data, tr.spec.values["loss"]["name"])[0]
            assert f"test {test:.4g}" in scr.query_one("#loss").title_text
            assert f"test loss of those weights {test:.4g}" in str(scr.query_one("#message", Static).render())

    asyncio.run(go())

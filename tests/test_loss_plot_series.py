"""The loss plot's data: x-axis in epochs / updates / seconds, TensorBoard smoothing, a window, the
batch trace, and a redraw whose work does not grow with the run."""

from __future__ import annotations

import pytest

pytest.importorskip("textual")

from dltui.core import events as ev  # noqa: E402
from dltui.tui.widgets.loss_plot import axis_ticks, ema, plot_series  # noqa: E402


def row(i: int, bpe: int = 4) -> ev.EpochEnded:
    return ev.EpochEnded(epoch=i, step=i * bpe, train_loss=1.0 / i, val_loss=2.0 / i, train_metric=None,
                         val_metric=None, best_epoch=i, best_val_loss=2.0 / i, patience_left=None, lr=0.1,
                         elapsed=0.5 * i, steps_per_second=8.0)


def test_ema_is_tensorboards_debiased_average():
    assert ema([1.0, 2.0, 3.0], 0.0) == [1.0, 2.0, 3.0]
    s = ema([4.0, 4.0, 4.0], 0.9)
    assert s == pytest.approx([4.0, 4.0, 4.0])  # debiased: a constant stays constant from the first point
    s = ema([0.0, 10.0], 0.5)  # acc 0 -> 5; debias 5 / (1 - 0.25)
    assert s[1] == pytest.approx(5 / 0.75)


def test_axes_map_epochs_updates_and_seconds():
    h = [row(i) for i in range(1, 11)]
    batches = [(s, 1.0) for s in range(1, 41)]
    ep = plot_series(h, batches, 4, axis="epoch", log=False)
    up = plot_series(h, batches, 4, axis="update", log=False)
    sec = plot_series(h, batches, 4, axis="seconds", log=False)
    assert ep["train"][-1] == (10, pytest.approx(0.1)) and up["train"][-1][0] == 40 and sec["train"][-1][0] == 5.0
    assert ep["batch"][-1][0] == 10 and up["batch"][-1][0] == 40 and sec["batch"][-1][0] == pytest.approx(5.0)
    assert ep["best_x"] == 10 and up["best_x"] == 40 and sec["best_x"] == 5.0
    assert plot_series(h, [], 4)["batch"] == []


def test_window_shows_only_the_last_epochs():
    h = [row(i) for i in range(1, 501)]
    w = plot_series(h, [(s, 1.0) for s in range(1, 2001)], 4, window=100, log=False)
    assert w["train"][0][0] == 401 and w["xlim"][0] >= 400
    assert min(x for x, _ in w["batch"]) > 399


def test_redraw_work_stays_bounded_for_long_runs():
    h = [row(i) for i in range(1, 100_001)]
    s = plot_series(h, [(i, 1.0) for i in range(1, 5000)], 4, points=200)
    assert len(s["train"]) <= 202 and len(s["val"]) <= 202 and len(s["batch"]) <= 402


def test_axis_ticks_are_round_and_short():
    ticks, labels = axis_ticks(0, 20000)
    assert ticks[0] == 0 and labels[-1].endswith("k")


def test_before_the_first_epoch_the_batches_are_shown():
    s = plot_series([], [(1, 0.5), (2, 0.4), (3, 0.3)], 7, log=False)
    assert [y for _, y in s["batch"]] == [0.5, 0.4, 0.3] and s["train"] == []


def test_the_best_epoch_is_marked_on_the_loss_it_kept():
    h = [row(i) for i in range(1, 11)]
    h[-1] = ev.EpochEnded(**{**h[-1].__dict__, "best_epoch": 6, "best_val_loss": 2.0 / 6})
    s = plot_series(h, [], 4, axis="update", log=False)
    assert s["best_x"] == 24 and s["best"] == (24, pytest.approx(2.0 / 6))


def test_the_legend_names_the_best_epoch_and_the_ghost_is_drawn_once_per_setting():
    import asyncio

    from dltui.tui.widgets import loss_plot as lp
    from textual.app import App

    class LossApp(App):
        def compose(self):
            yield lp.LossPlot()

    calls = []
    real = lp.plot_series

    def counting(history, *a, **k):
        calls.append(len(history))
        return real(history, *a, **k)

    async def go():
        async with LossApp().run_test(size=(70, 18)) as pilot:
            plot = pilot.app.query_one(lp.LossPlot)
            h = [row(i) for i in range(1, 41)]
            plot.set_ghost([row(i) for i in range(1, 301)])
            plot.show_history(h[:5], batches_per_epoch=4)
            lp.plot_series = counting
            try:
                for n in (10, 20, 40):
                    plot.show_history(h[:n], batches_per_epoch=4)
                assert calls.count(300) == 0  # the ghost's 300 rows: drawn when set, not on each redraw
                plot.cycle_axis()
                assert calls.count(300) == 1  # a new setting redraws it once
            finally:
                lp.plot_series = real
            await pilot.pause()
            assert "best @ 40" in str(plot.render())

    asyncio.run(go())


def test_a_best_epoch_the_bounded_history_no_longer_keeps_is_still_marked():
    from dltui.core.runs.history import History

    h = History((row(i) for i in range(1, 20_001)), recent=100, older=100)
    last = h[-1]
    h.append(ev.EpochEnded(**{**last.__dict__, "epoch": 20_001, "step": 4 * 20_001, "best_epoch": 12_345,
                              "best_val_loss": 0.5}))
    assert all(e.epoch != 12_345 for e in h)
    ep = plot_series(h, [], 4, log=False)
    up = plot_series(h, [], 4, axis="update", log=False)
    sec = plot_series(h, [], 4, axis="seconds", log=False)
    assert ep["best"] == (12_345, 0.5) and up["best_x"] == 4 * 12_345
    assert sec["best_x"] == pytest.approx(0.5 * 12_345, rel=0.01)
    assert plot_series(h, [], 4, window=100)["best_x"] is None  # outside the window: not drawn

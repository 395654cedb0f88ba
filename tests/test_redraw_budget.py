"""The UI thread's CPU budget at max pace (tui/redraw.py): the costly redraws are spaced out while the
UI takes more than its share, brought back when it takes little, never for a paced run; and the
dashboard's timer obeys the factor (and redraws everything at once when the run pauses)."""

from __future__ import annotations

import time

import pytest

pytest.importorskip("textual")

from async_helpers import sync, wait_for  # noqa: E402
from dltui.core.config.spec import load_preset  # noqa: E402
from dltui.core.runs import LiveRun  # noqa: E402
from dltui.tui.app import DltuiApp  # noqa: E402
from dltui.tui.redraw import BUDGET, MAX_SLOW, MIN_SPAN, START_SLOW, RedrawBudget  # noqa: E402


class Clocks:
    """A wall clock and a UI-thread CPU clock the test moves by hand."""

    def __init__(self):
        self.wall = self.cpu = 0.0

    def spend(self, seconds: float, share: float) -> None:
        self.wall += seconds
        self.cpu += seconds * share


def run_for(b: RedrawBudget, c: Clocks, seconds: float, share: float, tick: float = 0.1) -> float:
    f = b.factor(True)
    for _ in range(round(seconds / tick)):
        c.spend(tick, share)
        f = b.factor(True)
    return f


def budget(c: Clocks) -> RedrawBudget:
    return RedrawBudget(cpu=lambda: c.cpu, clock=lambda: c.wall)


def test_a_costly_ui_is_spaced_out_up_to_the_cap_and_a_cheap_one_back_to_base():
    c = Clocks()
    b = budget(c)
    assert b.factor(True) == START_SLOW  # before anything is measured
    assert run_for(b, c, MIN_SPAN / 2, BUDGET * 2) == START_SLOW  # too short a span to judge
    f = run_for(b, c, 2.5, BUDGET * 2)  # the UI takes twice its share: drawn half as often
    assert f == pytest.approx(START_SLOW * 2) and b.share == pytest.approx(BUDGET * 2)
    assert run_for(b, c, 120, 0.5) == MAX_SLOW  # whatever it costs, never slower than the cap
    f = run_for(b, c, 120, BUDGET / 10)  # a cheap UI (a small terminal): back to the base intervals
    assert f == 1.0


def test_within_budget_the_factor_holds_and_a_paced_run_is_never_slowed():
    c = Clocks()
    b = budget(c)
    assert run_for(b, c, 30, BUDGET * 0.75) == START_SLOW  # between half the budget and the budget: hold
    assert b.factor(False) == 1.0  # paced, paused or ended: the base intervals
    c.spend(100, 0.9)  # whatever the UI did meanwhile is not counted against the next run at max
    assert b.factor(True) == START_SLOW  # and the factor found so far is where it starts again
    assert run_for(b, c, MIN_SPAN + 1, BUDGET * 0.75) == START_SLOW


class FixedBudget:
    def __init__(self, slow: float):
        self.slow = slow
        self.asked = []

    def factor(self, limited: bool) -> float:
        self.asked.append(limited)
        return self.slow if limited else 1.0


@sync
async def test_the_dashboard_draws_the_costly_parts_by_the_factor_and_everything_on_pause():
    spec = load_preset("piecewise-sigmoid", {"training.epochs": 100_000, "training.patience": 0})
    app = DltuiApp(run=LiveRun(spec, pace=0.0), scan_dir=None, freeze_clock=True)
    async with app.run_test(size=(100, 30)) as pilot:
        scr = app.screen
        await wait_for(pilot, lambda: scr.run.view.state == "paused", what="the paused dashboard")
        await pilot.press("space")
        await wait_for(pilot, lambda: scr.run.view.state == "running", what="the run to start")
        scr.redraw_budget = fixed = FixedBudget(1000.0)  # the costly redraws: once in 25 minutes
        scr._last_plot = scr._stats_shown = time.monotonic()  # as if both had just been drawn
        drawn = {"loss": 0, "stats": 0}
        show_loss, show_stats = scr._show_loss, scr._show_stats
        scr._show_loss = lambda: (drawn.__setitem__("loss", drawn["loss"] + 1), show_loss())
        scr._show_stats = lambda: (drawn.__setitem__("stats", drawn["stats"] + 1), show_stats())
        start = scr.run.view.epoch
        await wait_for(pilot, lambda: scr.run.view.epoch >= start + 300, what="300 epochs at max pace")
        status = str(scr.query_one("#status").render())
        assert True in fixed.asked and "RUNNING" in status  # the status line still follows the run
        assert drawn == {"loss": 0, "stats": 0}
        await pilot.press("space")
        await wait_for(pilot, lambda: scr.run.view.state == "paused" and drawn["loss"] >= 1 and drawn["stats"] >= 1,
                       what="the pause to redraw the plot and the layer table")
        assert scr.w_loss._history[-1] is scr.run.view.history[-1]  # the plot shows the last epoch that ended


@sync
async def test_a_new_run_drops_the_old_runs_pending_redraws():
    """Layer stats waiting for their interval when the run is replaced (r, R, an edit): the new run has
    no stats yet, and its first idle tick must not draw the old flag (it crashed on stats=None)."""
    spec = load_preset("piecewise-sigmoid", {"training.epochs": 5})
    app = DltuiApp(run=LiveRun(spec), scan_dir=None, freeze_clock=True)
    async with app.run_test(size=(100, 30)) as pilot:
        scr = app.screen
        await wait_for(pilot, lambda: scr.run.view.state == "paused", what="the paused dashboard")
        scr._stats_dirty = scr._loss_dirty = True  # drawn at the next due tick, had the run gone on
        old = scr.run
        assert scr._new_run(spec, start=False)
        assert scr.run is not old and scr.run.view.stats is None
        await pilot.pause(0.5)  # a few ticks of the new run
        assert app.is_running and not scr._stats_dirty and scr.run.view.state == "paused"

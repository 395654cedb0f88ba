"""When the dashboard redraws what, and a CPU budget for the UI thread while a run trains at max pace.

The training loop runs on a thread of the same process, so every millisecond the UI thread spends
drawing is a millisecond the trainer waits for Python's GIL. Unpaced, the dashboard's base redraw
intervals took 13% of the wall clock on the UI thread in a real terminal at 100x30 (py-spy), and the
app trained at 0.82-0.84 of headless `dltui train`; drawing scales with the screen's size.
``RedrawBudget`` measures the UI thread's own CPU time (``time.thread_time``) and, while a run trains at
max pace, spaces out the costly redraws (loss plot, layer table, learned plot) by a factor between 1
and ``MAX_SLOW`` so that the UI thread stays near ``BUDGET`` of the wall clock; the status line keeps
its 0.2 s. Paced runs sleep between steps, so nothing is slowed for them, and a pause or the
end of a run redraws everything at once.
"""

from __future__ import annotations

import time

TICK = 1 / 10  # how often the dashboard drains the run's events
# While training runs, the costly views are redrawn at most this often (seconds, times the budget's factor)
STATS_EVERY = 1.0  # layer statistics (asked for only while the table is visible)
PARAMS_EVERY = 1.0  # parameters for the learned plot / matrices (only while visible)
PLOT_EVERY = 1.5  # the loss plot
STATUS_EVERY = 0.2  # the status line (epoch, batch, steps/s): never slowed
STATS_SLACK = 0.8  # layer stats asked for every STATS_EVERY arrive a tick or so later: they are shown when
# this share of the interval has passed since the last shown (unasked ones, from the layers log, wait)

BUDGET = 0.05  # the UI thread's share of the wall clock while training at max pace
START_SLOW = 2.0  # the factor a dashboard starts with (the loss plot every 3 s); then measured and kept
MAX_SLOW = 6.0  # the costly redraws at most this many times further apart (the loss plot: every 9 s)
MIN_SPAN = 2.0  # seconds the share is measured over, at least (and at least one loss-plot cycle)


class RedrawBudget:
    """``factor(limited)``, called on every tick on the UI thread: how many times the costly redraw
    intervals are stretched now. ``limited``: a run trains at max pace (otherwise 1, and the factor
    found so far is kept for the next stretch at max pace: a restart or a continue starts with it)."""

    def __init__(self, budget: float = BUDGET, start: float = START_SLOW, max_slow: float = MAX_SLOW,
                 cycle: float = PLOT_EVERY, cpu=time.thread_time, clock=time.monotonic):
        self.budget, self.max_slow, self.cycle, self.cpu, self.clock = budget, max_slow, cycle, cpu, clock
        self.slow = start
        self.share: float | None = None  # the UI thread's share of the wall clock in the last span measured
        self._from: tuple[float, float] | None = None  # (wall, cpu) where the span being measured began

    def factor(self, limited: bool) -> float:
        if not limited:
            self._from = None
            return 1.0
        now, cpu = self.clock(), self.cpu()
        if self._from is None:
            self._from = (now, cpu)
            return self.slow
        t0, c0 = self._from
        if now - t0 < max(MIN_SPAN, self.cycle * self.slow):  # a span with every redraw in it at least once
            return self.slow
        self.share, self._from = (cpu - c0) / (now - t0), (now, cpu)
        if self.share > self.budget:  # drawing cost scales about as 1 / factor
            self.slow = min(self.max_slow, self.slow * self.share / self.budget)
        elif self.share < self.budget / 2:
            self.slow = max(1.0, self.slow / 1.5)
        return self.slow

"""Pace: how fast the training loop may go, in optimizer updates per second (0 = as fast as it can).

A paced loop sleeps between steps (a condition wait, so a control wakes it at once: no busy wait and
no key waits for the next step). ``PACE_LEVELS`` are the steps the app's `-`/`+` keys move through;
``auto_pace`` picks the pace at which a generated-data lesson takes about ``AUTO_SECONDS``.
"""

from __future__ import annotations

import math
import time

PACE_LEVELS = (1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0, 3000.0, 10000.0)
MAX = 0.0  # no pacing
AUTO_SECONDS = 20.0  # generated-data lessons default to a pace at which a run takes about this long
YIELD_EVERY = 0.05  # seconds: in the app, the training thread lets the UI thread take the GIL at least this often
MIN_SLEEP = 0.001  # shorter waits are saved up (a sleep costs about as much as a small step)
LATE_RESET = 0.25  # a loop this late (a slow step, a pause) starts a fresh schedule: no burst to catch up


def pace_text(rate: float) -> str:
    """'max', '30/s', '1k/s', '2.5k/s'."""
    if not rate:
        return "max"
    if rate >= 1000:
        k = rate / 1000
        return f"{k:.0f}k/s" if k >= 10 or k == int(k) else f"{k:.1f}k/s"
    return f"{rate:.0f}/s" if rate >= 10 or rate == int(rate) else f"{rate:.1f}/s"


def parse_pace(value) -> float:
    """'max' -> 0.0; a positive number of updates per second -> float. ValueError otherwise."""
    if isinstance(value, str):
        v = value.strip().lower().removesuffix("/s")
        if v in ("max", "0", ""):
            return MAX
        try:
            value = float(v)
        except ValueError:
            raise ValueError(f"pace {value!r}: expected 'max' or a number of updates per second > 0") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ValueError(f"pace {value!r}: expected 'max' or a number of updates per second > 0")
    return float(value)


def pace_value(value):
    """A preset's ``[training] pace``: 'auto', 'max' or a rate > 0 (ValueError otherwise)."""
    if value in ("auto", "max"):
        return value
    return parse_pace(value) or "max"


def next_level(rate: float, direction: int) -> float:
    """The next pace up (``direction`` 1, towards max) or down (-1, slower) from ``rate``."""
    if direction > 0:
        if not rate:
            return MAX
        faster = [p for p in PACE_LEVELS if p > rate * 1.0001]
        return faster[0] if faster else MAX
    if not rate:
        return PACE_LEVELS[-1]
    slower = [p for p in PACE_LEVELS if p < rate / 1.0001]
    return slower[-1] if slower else PACE_LEVELS[0]


def auto_pace(total_updates: int, seconds: float = AUTO_SECONDS) -> float:
    """The pace at which ``total_updates`` take about ``seconds``, rounded to 2 significant digits."""
    raw = max(total_updates, 1) / seconds
    mag = 10 ** math.floor(math.log10(raw))
    return max(round(raw / mag, 1) * mag, 0.5)


class Pacer:
    """The schedule of a paced loop: ``delay()`` after each step says how long to sleep before the next."""

    def __init__(self, rate: float = MAX, clock=time.perf_counter):
        self.rate, self.clock = rate, clock
        self._next: float | None = None
        self.yield_at = 0.0  # when the unpaced loop next lets the UI thread take the GIL (between_steps)

    def set(self, rate: float) -> None:
        self.rate, self._next = rate, None

    def reset(self) -> None:
        """After a pause or a step by hand: the next step is due one interval from now."""
        self._next = None

    def delay(self) -> float:
        """Seconds until the next step is due (0 when unpaced or late)."""
        if not self.rate:
            self._next = None
            return 0.0
        now = self.clock()
        if self._next is None or now - self._next > LATE_RESET:
            self._next = now
        self._next += 1.0 / self.rate
        return max(0.0, self._next - now)

    def remaining(self) -> float:
        return 0.0 if self._next is None else max(0.0, self._next - self.clock())


def preset_pace(values: dict, batches_per_epoch: int) -> float:
    """The pace the app starts a run at: the preset's ``[training] pace``; 'auto' is about
    ``AUTO_SECONDS`` a run for generated data and max for a CSV."""
    pace = values["training"].get("pace", "auto")
    if pace == "max":
        return MAX
    if pace == "auto":
        if values["data"]["kind"] == "csv":
            return MAX
        rate = auto_pace(values["training"]["epochs"] * max(batches_per_epoch, 1))
        return MAX if rate > PACE_LEVELS[-1] else rate  # faster than the fastest level: a long run, go at max
    return float(pace)

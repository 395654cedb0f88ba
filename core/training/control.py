"""The trainer's command surface, safe from any thread: pause, resume, toggle, step a batch or an
epoch, stop, ask for layer statistics, run a function on the training thread, set the pace.

One lock (a condition) guards every flag; every command goes through ``_changing`` (take the lock,
change, wake the loop), and the loop asks through ``wait_turn`` (between batches) and
``wait_for_control`` (pacing's sleep). Nothing else reads or writes the flags.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager

from .pacing import MIN_SLEEP, Pacer


def run_one(fn: Callable, arg, fut: Future) -> None:
    try:
        fut.set_result(fn(arg))
    except BaseException as e:  # noqa: BLE001 - handed to the caller
        fut.set_exception(e)


class Control:
    def __init__(self, *, running: bool = True, pace: float = 0.0, yield_every: float = 0.0):
        self._cond = threading.Condition()
        self._running = running
        self._budget = 0  # batches still allowed while paused (step_batch)
        self._epoch_budget = False  # run to the end of this epoch while paused (step_epoch)
        self._stop = False
        self._calls: deque[tuple[Callable, Future]] = deque()
        self._step_waiters: list[tuple[int, Future]] = []
        self._step_target = 0
        self._stats_requested = False
        self._live = False  # a loop is running: calls wait for it
        self.pacer = Pacer(pace)  # updates per second while running freely (0: max)
        self.yield_every = yield_every  # seconds between GIL yields while unpaced (0: none)

    @contextmanager
    def _changing(self) -> Iterator[None]:
        """The one lock-and-notify: change flags under the lock, then wake a waiting loop."""
        with self._cond:
            yield
            self._cond.notify_all()

    # ------------------------------------------------------------ commands (any thread)
    def pause(self) -> None:
        with self._changing():
            self._running = False

    def resume(self) -> None:
        with self._changing():
            self._running = True

    def toggle(self) -> bool:
        """Start/pause; True when now running."""
        with self._changing():
            self._running = not self._running
            return self._running

    @property
    def running(self) -> bool:
        return self._running

    @property
    def stopped(self) -> bool:
        return self._stop

    @property
    def stats_requested(self) -> bool:
        return self._stats_requested

    def stop(self) -> None:
        with self._changing():
            self._stop = True

    def step_epoch(self) -> None:
        with self._changing():
            self._running, self._epoch_budget = False, True

    def step_batch(self, n: int, with_stats: bool, step: int, finished: bool) -> Future:
        """Pause and let n more batches run (the loop is at ``step``). The future gives the step number
        once they have run (or the last step, if the run ends first)."""
        fut: Future = Future()
        with self._changing():
            self._running = False
            self._budget += n
            self._stats_requested |= with_stats
            self._step_target = max(self._step_target, step) + n  # counts a batch already in flight
            self._step_waiters.append((self._step_target, fut))
            if finished:
                self._resolve(step, final=True)
        return fut

    def request_stats(self) -> None:
        with self._changing():
            self._stats_requested = True

    def set_pace(self, rate: float) -> None:
        """Updates per second while running (0: as fast as it can); wakes a loop sleeping between steps."""
        with self._changing():
            self.pacer.set(rate)

    def call(self, fn: Callable, arg) -> Future:
        """``fn(arg)`` on the training thread between batches; at once if no loop is running."""
        fut: Future = Future()
        with self._changing():
            if self._live:
                self._calls.append((fn, fut))
                return fut
        run_one(fn, arg, fut)
        return fut

    # ------------------------------------------------------------ the loop's side
    def begin(self) -> None:
        with self._changing():
            self._live = True

    def end(self, arg, step: int) -> None:
        """The loop is over: the calls still queued run now, every step future is answered."""
        with self._changing():
            calls, self._calls = list(self._calls), deque()
            self._live = False
            self._resolve(step, final=True)
        for fn, fut in calls:
            run_one(fn, arg, fut)

    def again(self) -> None:
        """Before another fit (continue): running, nothing pending."""
        with self._changing():
            self._stop, self._running, self._budget, self._epoch_budget = False, True, 0, False

    def take_stats_request(self) -> bool:
        asked, self._stats_requested = self._stats_requested, False
        return asked

    def run_calls(self, arg) -> None:
        while True:
            with self._cond:
                if not self._calls:
                    return
                fn, fut = self._calls.popleft()
            run_one(fn, arg, fut)

    def may_run(self) -> bool | None:
        """True: the next batch may run (a step's budget is spent); False: stop; None: wait."""
        with self._cond:
            if self._stop:
                return False
            if self._running or self._epoch_budget:
                return True
            if self._budget > 0:
                self._budget -= 1
                return True
        return None

    def wait(self, timeout: float = 0.1) -> None:
        """Sleep while paused until something changes (or ``timeout``)."""
        with self._cond:
            if not (self._stop or self._running or self._epoch_budget or self._budget or self._calls
                    or self._stats_requested):
                self._cond.wait(timeout)

    def epoch_done(self) -> None:
        with self._cond:
            self._epoch_budget = False

    def steps_done(self, step: int) -> None:
        if self._step_waiters:
            with self._cond:
                self._resolve(step)

    def _resolve(self, step: int, final: bool = False) -> None:
        waiting = []
        for target, fut in self._step_waiters:
            if final or step >= target:
                if not fut.done():
                    fut.set_result(step)
            else:
                waiting.append((target, fut))
        self._step_waiters = waiting

    def wait_for_control(self, timeout: float, arg) -> bool:
        """Pacing's sleep between steps, woken by any command: False once stopped, paused or unpaced."""
        with self._cond:
            if not (self._stop or self._calls or not self._running or not self.pacer.rate):
                self._cond.wait(timeout)
        self.run_calls(arg)
        return not self._stop and self._running and bool(self.pacer.rate)

    def between_steps(self, arg) -> None:
        """Paced (and running freely): sleep until the next step is due, woken by any command. Unpaced:
        let the other threads (the UI) take the GIL every ``yield_every`` seconds (a clock read a step:
        cheaper than a sleep(0) every few steps, which on a busy machine hands the CPU to others too)."""
        pacer = self.pacer
        wait = pacer.delay() if pacer.rate and self._running else 0.0
        if wait < MIN_SLEEP:  # unpaced, or faster than a millisecond a step: the schedule runs ahead
            if self.yield_every:
                now = time.perf_counter()
                if now >= pacer.yield_at:
                    time.sleep(0)
                    pacer.yield_at = now + self.yield_every
            return
        while wait > 0 and self.wait_for_control(wait, arg):
            wait = pacer.remaining()

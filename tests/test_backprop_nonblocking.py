"""The step-through never waits on the trainer: with a trainer slow to answer (its trace blocks until
the test lets it go), keys still act at once, and after `t` the screen traces again when the run
reports the step - not by polling."""

from __future__ import annotations

import threading

import pytest

pytest.importorskip("textual")

from async_helpers import sync, wait_for  # noqa: E402
from dltui.core import load_preset  # noqa: E402
from dltui.core.backends.numpy_backend import NumpyBackend  # noqa: E402
from dltui.core.data.dataset import load_dataset  # noqa: E402
from dltui.core.runs import LiveRun  # noqa: E402
from dltui.core.training.trainer import Trainer  # noqa: E402
from dltui.tui.screens.backprop import BackpropScreen  # noqa: E402
from textual.app import App  # noqa: E402


class SlowToTrace(NumpyBackend):
    """A backend whose trace waits (on the training thread) until ``release`` is set."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.release = threading.Event()
        self.traces_started = 0

    def trace(self, x, y):
        self.traces_started += 1
        assert self.release.wait(30), "the test never released the trace"
        return super().trace(x, y)


class Host(App):
    def __init__(self, run):
        super().__init__()
        self.run_ = run

    def on_mount(self) -> None:
        self.push_screen(BackpropScreen(self.run_, torch_check=False))


def slow_trainer() -> tuple[Trainer, SlowToTrace, threading.Thread]:
    spec = load_preset("piecewise-sigmoid", {"training.epochs": 1000})
    data = load_dataset(spec)
    be = SlowToTrace(spec, data.n_features, data.n_outputs)
    t = Trainer(spec, backend=be, data=data, start_paused=True)
    th = threading.Thread(target=t.fit, daemon=True)
    th.start()
    return t, be, th


async def press_held(pilot, key: str, be) -> bool:
    """Press ``key`` while the trainer still holds the trace back; True when the key was handled
    before the trace was released (a key that waited for the trace would hang here: the release
    comes only after it)."""
    await pilot.press(key)
    return not be.release.is_set()


@sync
async def test_keys_act_while_the_trainer_is_slow_to_trace():
    trainer, be, th = slow_trainer()
    try:
        app = Host(LiveRun.wrap(trainer))
        async with app.run_test(size=(100, 30)) as pilot:
            scr = app.screen
            await wait_for(pilot, lambda: be.traces_started == 1, what="the trace to reach the trainer")
            assert scr.tracing and scr.trace is None  # the trainer holds the trace back
            assert await press_held(pilot, "right", be) and scr.index == 1
            assert await press_held(pilot, "u", be) and scr.order[scr.index][0] == "update"
            assert scr.trace is None and be.traces_started == 1  # still held back: the keys did not wait
            be.release.set()
            await wait_for(pilot, lambda: scr.trace is not None and not scr.tracing, what="the trace")
            first = scr.trace

            # `t`: one step on these rows; the re-trace is asked for when the run reports the step
            be.release.clear()
            await pilot.press("t")
            await wait_for(pilot, lambda: be.traces_started == 2, what="the re-trace after the step")
            assert trainer.step == 1 and scr.tracing
            assert await press_held(pilot, "f", be) and scr.index == 0
            be.release.set()
            await wait_for(pilot, lambda: not scr.tracing, what="the second trace")
            assert scr.trace is not first and scr.trace.extra["batch"]["which"] == "given"
            assert scr.trace.extra["batch"]["row_ids"] == first.extra["batch"]["row_ids"]
            assert "step 1" in scr.title_text().plain
    finally:
        be.release.set()
        trainer.stop()
        th.join(5)


class FailsToTrace(NumpyBackend):
    def trace(self, x, y):
        raise FloatingPointError("overflow in the forward pass")


@sync
async def test_a_trace_that_fails_is_shown_and_the_keys_still_work():
    spec = load_preset("xor", {"training.epochs": 5})
    data = load_dataset(spec)
    trainer = Trainer(spec, backend=FailsToTrace(spec, data.n_features, data.n_outputs), data=data)
    app = Host(LiveRun.wrap(trainer))
    async with app.run_test(size=(100, 30)) as pilot:
        scr = app.screen
        await wait_for(pilot, lambda: not scr.tracing, what="the failed trace")
        assert scr.trace is None
        assert scr.error == "Could not trace this batch: FloatingPointError: overflow in the forward pass"
        await pilot.press("right")
        assert scr.index == 1

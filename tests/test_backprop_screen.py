"""The backprop step-through screen, driven with Textual's Pilot, and two snapshots at 100x30."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import numpy as np
import pytest

pytest.importorskip("textual")

from async_helpers import sync, wait_for  # noqa: E402
from dltui.core import Trainer, load_preset  # noqa: E402
from dltui.core.engine.stages import stage_order  # noqa: E402
from dltui.core.runs import LiveRun  # noqa: E402
from dltui.tui.screens.backprop import BackpropScreen  # noqa: E402
from dltui.tui.widgets.grad_check import GradCheckPanel  # noqa: E402
from dltui.tui.widgets.network_diagram import NetworkDiagram  # noqa: E402
from dltui.tui.widgets.stage_view import StageView  # noqa: E402
from textual.app import App  # noqa: E402

F64 = {"training.dtype": "float64"}


class BackpropApp(App):
    def __init__(self, trainer, **screen_kw):
        super().__init__()
        self.trainer, self.screen_kw = trainer, screen_kw

    def on_mount(self) -> None:
        self.push_screen(BackpropScreen(LiveRun.wrap(self.trainer), **self.screen_kw))


async def traced(pilot) -> None:
    """Wait until the screen has its trace (it arrives as a message, off the UI thread)."""
    await wait_for(pilot, lambda: not pilot.app.screen.tracing, what="the trace")


def expected_formula(kind: str, layer: int | None, L: int) -> str:
    if kind == "forward":
        return f"z({layer}) = W({layer}) a({layer - 1}) + b({layer})"
    if kind == "loss":
        return "C = mean"
    if kind == "backward":
        return f"δ({L}) = " if layer == L else f"δ({layer}) = σ'(z({layer})) ⊙ W({layer + 1})ᵀ δ({layer + 1})"
    if kind == "gradients":
        return f"∂C/∂W({layer}) = δ({layer}) a({layer - 1})ᵀ"
    return f"ΔW({layer}) = −lr"


def started(preset: str, overrides: dict, **kw) -> tuple[Trainer, threading.Thread]:
    """A trainer whose loop runs in a thread, paused before its first batch."""
    t = Trainer(load_preset(preset, overrides), start_paused=True, **kw)
    th = threading.Thread(target=t.fit, daemon=True)
    th.start()
    deadline = time.monotonic() + 30
    while t.state != "paused" and time.monotonic() < deadline:
        time.sleep(0.01)
    assert t.state == "paused"
    return t, th


@sync
async def test_walk_every_stage_forward_and_back():
    trainer = Trainer(load_preset("spiral", F64))  # not started: Trainer.call runs at once
    app = BackpropApp(trainer)
    async with app.run_test(size=(100, 30)) as pilot:

        await traced(pilot)
        screen = app.screen
        assert isinstance(screen, BackpropScreen)
        L = 3
        order = stage_order(L)
        assert len(order) == 4 * L + 1
        diagram, view = screen.query_one(NetworkDiagram), screen.query_one(StageView)

        def check(k: int) -> None:
            kind, layer = order[k]
            assert screen.index == k
            assert diagram.current_layer == (L if layer is None else layer)
            assert diagram.direction == {"forward": "forward", "backward": "backward", "loss": "loss"}.get(
                kind, "weights")
            assert view.stage.kind == kind and view.stage.layer == layer
            assert expected_formula(kind, layer, L) in view.stage.formula
            shown = view.render_stage(view.stage).plain
            assert view.stage.formula in shown
            assert all(b.label in shown for b in view.stage.blocks if b.new)

        formulas = []
        for k in range(len(order)):
            check(k)
            formulas.append(view.stage.formula)
            await pilot.press("right")
        check(len(order) - 1)  # stays on the last stage
        for k in range(len(order) - 1, -1, -1):
            check(k)
            await pilot.press("left")
        check(0)
        assert len(set(formulas)) == len(formulas)  # every stage says something different

        # jumps
        for key, kind in (("b", "backward"), ("g", "gradients"), ("u", "update"), ("f", "forward")):
            await pilot.press(key)
            assert screen.index == next(i for i, (k, _) in enumerate(order) if k == kind)

        # the check panel: backprop vs finite differences, small relative error
        await app.workers.wait_for_complete()
        await pilot.pause()
        panel = screen.query_one(GradCheckPanel)
        assert panel.numeric and panel.worst is not None and panel.worst < 1e-6
        text = panel.render_checks().plain
        assert "✓" in text and "✗" not in text


@sync
async def test_choosing_the_sample_changes_the_numbers_not_the_batch():
    trainer = Trainer(load_preset("piecewise-sigmoid", F64))
    app = BackpropApp(trainer, torch_check=False)
    async with app.run_test(size=(100, 30)) as pilot:

        await traced(pilot)
        screen = app.screen
        tr = screen.trace
        view = screen.query_one(StageView)
        z = next(b for b in view.stage.blocks if b.label == "z(1)")
        np.testing.assert_array_equal(z.value, tr.layers[0].z[0])
        await pilot.press("right_square_bracket", "right_square_bracket")
        assert screen.sample == 2 and screen.trace is tr
        z = next(b for b in view.stage.blocks if b.label == "z(1)")
        np.testing.assert_array_equal(z.value, tr.layers[0].z[2])
        assert "sample 3/32" in screen.title_text().plain
        await pilot.press("left_square_bracket", "left_square_bracket", "left_square_bracket")
        assert screen.sample == 31  # wraps around


@sync
async def test_train_step_and_trace_again_then_back():
    trainer, thread = started("piecewise-sigmoid", F64)
    try:
        app = BackpropApp(trainer, torch_check=False)
        async with app.run_test(size=(100, 30)) as pilot:

            await traced(pilot)
            screen = app.screen
            before = screen.trace
            await pilot.press("t")
            deadline = time.monotonic() + 30  # generous: only a hung step should hit it
            while screen.trace is before and time.monotonic() < deadline:
                await pilot.pause(0.02)
            assert trainer.step == 1
            after = screen.trace
            assert after is not before
            W_now = trainer.call(lambda be: be.get_params()[0][0]).result(timeout=5)
            np.testing.assert_array_equal(after.layers[0].W, W_now)
            assert not np.array_equal(after.layers[0].W, before.layers[0].W)
            np.testing.assert_array_equal(after.x, before.x)  # the same mini-batch, traced again
            assert after.C != before.C
            await pilot.press("escape")
            await pilot.pause()
            assert not isinstance(app.screen, BackpropScreen)
    finally:
        trainer.stop()
        thread.join(5)


@sync
async def test_opening_pauses_a_running_trainer():
    trainer, thread = started("piecewise-sigmoid", {**F64, "training.epochs": 100000})
    trainer.resume()
    try:
        while trainer.step < 3:
            time.sleep(0.01)
        app = BackpropApp(trainer, torch_check=False)
        async with app.run_test(size=(80, 24)) as pilot:

            await traced(pilot)
            assert not trainer.running
            s1 = trainer.step
            await pilot.pause(0.2)
            assert trainer.step == s1
            # the trace matches the network the trainer holds now
            W = trainer.call(lambda be: be.get_params()[1][0]).result(timeout=5)
            np.testing.assert_array_equal(app.screen.trace.layers[1].W, W)
    finally:
        trainer.stop()
        thread.join(5)


@sync
async def test_step_without_a_training_loop_says_so():
    trainer = Trainer(load_preset("xor", F64))
    app = BackpropApp(trainer, torch_check=False)
    async with app.run_test(size=(80, 24)) as pilot:

        await traced(pilot)
        before = app.screen.trace
        await pilot.press("t")
        await pilot.pause()
        assert trainer.step == 0 and app.screen.trace is before
        assert any("not running" in n.message for n in app._notifications)


def _snapshot_app(monkeypatch):
    """piecewise-sigmoid in float64 at its initial weights. The finite-difference errors are real and
    checked here, but shown as 0: their last digit depends on the CPU's summation order."""
    import dltui.tui.screens.backprop as bp
    from dltui.core.engine.gradcheck import finite_difference_check

    def stable_check(trace, *a, **kw):
        checks = finite_difference_check(trace, *a, **kw)
        assert max(c.rel_err for c in checks) < 1e-6
        return [replace(c, rel_err=0.0) for c in checks]

    monkeypatch.setattr(bp, "finite_difference_check", stable_check)
    return BackpropApp(Trainer(load_preset("piecewise-sigmoid", F64)), torch_check=False)


async def _settle(pilot):
    await traced(pilot)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def test_snapshot_forward_stage(snap_compare, monkeypatch):
    app = _snapshot_app(monkeypatch)
    assert snap_compare(app, press=["right"], terminal_size=(100, 30), run_before=_settle)


def test_snapshot_backward_stage(snap_compare, monkeypatch):
    app = _snapshot_app(monkeypatch)
    assert snap_compare(app, press=["b", "right"], terminal_size=(100, 30), run_before=_settle)

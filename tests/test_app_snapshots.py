"""Snapshots of the picker, a paused dashboard and the help screen (pytest-textual-snapshot).

Fixed sizes (100x30 and 80x24), fixed seeds, a frozen clock (no elapsed time, rate or ETA on
screen). Update with `pytest tests/test_app_snapshots.py --snapshot-update` after a deliberate
change, and look at the SVGs in tests/__snapshots__/.
"""

from __future__ import annotations

import time

import pytest

pytest.importorskip("textual")
pytest.importorskip("pytest_textual_snapshot")

from dltui.core.spec import load_preset  # noqa: E402
from dltui.tui.app import DltuiApp  # noqa: E402
from dltui.tui.runner import LiveRun  # noqa: E402


async def wait_for(pilot, cond, timeout: float = 20.0) -> None:
    t0 = time.monotonic()
    while not cond():
        assert time.monotonic() - t0 < timeout, "timed out"
        await pilot.pause(0.02)


def paused_after(keys: list[str]):
    """run_before: press keys, then wait until the view, the layer stats and the parameters all show
    the trainer's final step."""

    async def run_before(pilot) -> None:
        scr = pilot.app.screen
        await wait_for(pilot, lambda: scr.run.view.state == "paused")
        for k in keys:
            await pilot.press(k)
            await wait_for(pilot, lambda: scr.run.trainer.state == "paused" and not scr.run._epoch_in_flight
                           and scr.run.view.step == scr.run.trainer.step and scr.run.view.state == "paused")
        v = scr.run.view
        await wait_for(pilot, lambda: v.stats_step == v.step and (v.params_step == v.step
                                                                  or not scr._visible("#right")))
        await pilot.pause(0.3)

    return run_before


def dashboard(preset: str, **overrides) -> DltuiApp:
    return DltuiApp(run=LiveRun(load_preset(preset, overrides)), scan_dir=None, freeze_clock=True)


def test_picker_100x30(snap_compare):
    assert snap_compare(DltuiApp(scan_dir=None, freeze_clock=True), terminal_size=(100, 30))


def test_picker_80x24_filtered(snap_compare):
    assert snap_compare(DltuiApp(scan_dir=None, freeze_clock=True), terminal_size=(80, 24),
                        press=["slash", "p", "l", "a", "y", "enter", "down"])


def test_dashboard_xor_two_epochs_100x30(snap_compare):
    assert snap_compare(dashboard("xor"), terminal_size=(100, 30), run_before=paused_after(["e", "e"]))


def test_dashboard_piecewise_80x24(snap_compare):
    assert snap_compare(dashboard("piecewise-sigmoid"), terminal_size=(80, 24),
                        run_before=paused_after(["e", "n", "n", "n"]))


def test_help_100x30(snap_compare):
    assert snap_compare(DltuiApp(scan_dir=None, freeze_clock=True), terminal_size=(100, 30),
                        press=["question_mark"])

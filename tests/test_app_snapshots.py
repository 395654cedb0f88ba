"""Snapshots of the picker, a paused dashboard and the help screen (pytest-textual-snapshot).

Fixed sizes (100x30 and 80x24), fixed seeds, a frozen clock (no elapsed time, rate or ETA on
screen), and presets defined here, so that new or retuned shipped presets do not change the
pictures. Update with `pytest tests/test_app_snapshots.py --snapshot-update` after a deliberate
change, and look at the SVGs in tests/__snapshots__/.
"""

from __future__ import annotations

import dataclasses

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

import pytest

pytest.importorskip("textual")
pytest.importorskip("pytest_textual_snapshot")

from async_helpers import wait_for  # noqa: E402
from dltui.core.config.spec import spec_from_dict  # noqa: E402
from dltui.core.runs import LiveRun  # noqa: E402
from dltui.tui.app import DltuiApp  # noqa: E402
from dltui.tui.screens import picker  # noqa: E402

PRESETS = {
    "snap-curve": ("lecture", """
[about]
title = "A curve from sigmoids"
topic = "lecture"
note = "A constant plus a sum of hard sigmoids makes a piecewise-linear curve."
[data]
kind = "piecewise"
kinks = 3
n_samples = 200
noise = 0.05
seed = 7
valid_ratio = 0.2
[model]
hidden = [6]
activation = "sigmoid"
init = "xavier"
[loss]
name = "mse"
[optimizer]
name = "adam"
lr = 0.03
[training]
epochs = 300
batch_size = 32
patience = 100
seed = 11
"""),
    "snap-xor": ("playground", """
[about]
title = "XOR, four blobs"
topic = "playground"
note = "No straight line separates XOR; one hidden layer of a few ReLUs can."
[data]
kind = "xor"
n_samples = 300
noise = 0.2
seed = 3
valid_ratio = 0.2
[model]
hidden = [8]
activation = "relu"
[loss]
name = "cross_entropy"
[optimizer]
name = "adam"
lr = 0.01
[training]
epochs = 200
batch_size = 30
seed = 5
"""),
    "snap-csv": ("hw01", """
[about]
title = "A CSV regression"
topic = "hw01"
note = "Your own table: pick the target column and train."
[data]
kind = "csv"
path = ""
target = "y"
needs = "a CSV with a header row and a numeric column y"
valid_ratio = 0.2
[model]
hidden = [16]
activation = "relu"
[loss]
name = "mse"
[optimizer]
name = "sgd"
lr = 0.01
momentum = 0.9
[training]
epochs = 100
batch_size = 64
seed = 1
"""),
}


def spec(name: str):
    return spec_from_dict(tomllib.loads(PRESETS[name][1]), name, "<test>")


@pytest.fixture
def test_presets(monkeypatch):
    """The picker lists only the presets above."""
    entries = [{"name": n, "path": n, "topic": t, "order": i, "title": spec(n).values["about"]["title"]}
               for i, (n, (t, _)) in enumerate(PRESETS.items())]
    monkeypatch.setattr(picker, "preset_entries", lambda extra=(), scan_dir=None: list(entries))
    monkeypatch.setattr(picker.PickerScreen, "spec_of", lambda self, e: spec(e["name"]))




def paused_after(keys: list[str]):
    """run_before: press keys, then wait until the view, the layer stats and the parameters all show
    the trainer's final step. The layer statistics are then asked for once more while paused: a
    request that met a running batch carries an update ratio, one served while paused does not, and
    which one came last depends on timing."""

    async def run_before(pilot) -> None:
        scr = pilot.app.screen
        run = scr.run
        await wait_for(pilot, lambda: run.view.state == "paused")
        for k in keys:
            await pilot.press(k)
            await wait_for(pilot, lambda: run.state == "paused" and not run.busy
                           and run.view.step == run.trainer.step and run.view.state == "paused")
        v = run.view
        await wait_for(pilot, lambda: not run.stats_pending and v.stats_step == v.step)
        v.stats_step = -1
        await wait_for(pilot, lambda: v.stats_step == v.step and (v.params_step == v.step
                                                                  or not scr.shows_part("#right")))
        await pilot.pause(0.3)

    return run_before


def dashboard(preset: str) -> DltuiApp:
    return DltuiApp(run=LiveRun(spec(preset)), scan_dir=None, freeze_clock=True)


def test_picker_100x30(snap_compare, test_presets):
    assert snap_compare(DltuiApp(scan_dir=None, freeze_clock=True), terminal_size=(100, 30))


def test_picker_80x24_csv_preset(snap_compare, test_presets):
    assert snap_compare(DltuiApp(scan_dir=None, freeze_clock=True), terminal_size=(80, 24),
                        press=["slash", "c", "s", "v", "enter", "enter"])


def test_dashboard_xor_two_epochs_100x30(snap_compare):
    assert snap_compare(dashboard("snap-xor"), terminal_size=(100, 30), run_before=paused_after(["e", "e"]))


def test_dashboard_curve_80x24(snap_compare):
    assert snap_compare(dashboard("snap-curve"), terminal_size=(80, 24),
                        run_before=paused_after(["e", "n", "n", "n"]))


def test_help_100x30(snap_compare):
    async def help_over_dashboard(pilot) -> None:
        await paused_after([])(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(dashboard("snap-curve"), terminal_size=(100, 30), run_before=help_over_dashboard)


def backprop_after_t():
    """run_before: open the step-through, train one step with `t`, wait for the new trace."""

    async def run_before(pilot) -> None:
        await paused_after(["e"])(pilot)
        await pilot.press("b")
        await wait_for(pilot, lambda: type(pilot.app.screen).__name__ == "BackpropScreen")
        bp = pilot.app.screen
        await wait_for(pilot, lambda: bp.trace is not None and not bp.tracing)
        await pilot.press("t")
        await wait_for(pilot, lambda: bp.trace is not None and not bp.tracing
                       and bp.trace.extra.get("batch", {}).get("which") == "given")
        await pilot.pause(0.3)

    return run_before


async def mask_gradient_errors(pilot) -> None:
    """The gradient check's relative errors are rounding noise (1e-7 on one CPU, 7e-7 on another):
    assert they pass, then show each as 1e-7 so the picture checks the rest of the screen."""
    from dltui.tui.widgets.grad_check import GOOD, GradCheckPanel

    panel = pilot.app.screen.query_one(GradCheckPanel)
    await wait_for(pilot, lambda: panel.numeric and not [w for w in pilot.app.workers
                                                         if w.group == "gradcheck" and not w.is_finished],
                   what="the gradient check of the trace on screen")
    checks = panel.numeric + (panel.autograd or [])
    assert checks and all(c.rel_err < GOOD for c in checks), [c.rel_err for c in checks]
    panel.set_checks([dataclasses.replace(c, rel_err=1e-7) for c in panel.numeric],
                     None if panel.autograd is None else [dataclasses.replace(c, rel_err=1e-7)
                                                          for c in panel.autograd])
    await pilot.pause()


@pytest.mark.parametrize("size", [(100, 30), (80, 24)])
def test_backprop_after_t_shows_the_loss_and_lr(snap_compare, size):
    app = dashboard("snap-curve")

    async def check(pilot) -> None:
        await backprop_after_t()(pilot)
        title = pilot.app.screen.title_text().plain
        assert "C = " in title and "(just trained)" in title and "lr 0.03" in title
        await mask_gradient_errors(pilot)

    assert snap_compare(app, terminal_size=size, run_before=check)

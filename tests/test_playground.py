"""Issue 11, the Playground loop: the preset editor (each field restarts the run with the new spec, the
ghost curve, `w` writes a TOML that reproduces the run, invalid edits change nothing), every neuron
visible (a unit's heatmap is its activation), shaping a unit by hand (c·Δσ exactly, the trainer takes
the weights), the target's own pieces and the set-params control."""

from __future__ import annotations

import json
import shlex
import time

import numpy as np
import pytest

pytest.importorskip("textual")

from async_helpers import sync, wait_for  # noqa: E402
from dltui.core.config.spec import load_preset  # noqa: E402
from dltui.core.data.dataset import load_dataset  # noqa: E402
from dltui.core.engine import curves  # noqa: E402
from dltui.core.errors import DataError, SpecError  # noqa: E402
from dltui.core.runs import Control, LiveRun  # noqa: E402
from dltui.core.training.trainer import Trainer  # noqa: E402
from dltui.tui.app import DltuiApp  # noqa: E402
from dltui.tui.cli import main as cli_main  # noqa: E402
from dltui.tui.screens.dashboard import DashboardScreen  # noqa: E402
from dltui.tui.screens.preset_edit import PresetEdit  # noqa: E402
from dltui.tui.screens.settings import SettingsScreen  # noqa: E402
from dltui.tui.screens.shape import ShapeScreen  # noqa: E402
from dltui.tui.widgets.learned_plot import LearnedPlot  # noqa: E402
from textual.app import App  # noqa: E402


def at(edit: PresetEdit, label: str) -> PresetEdit:
    edit.cursor = [r.label for r in edit.rows()].index(label)
    return edit


# ---------------------------------------------------------------- the editor's model: each field


@pytest.mark.parametrize("label, act, key, expect", [
    ("hidden layers", "change+", "model.hidden", [16, 16, 16]),
    ("hidden layers", "change-", "model.hidden", [16]),
    ("layer 2", "change+", "model.hidden", [16, 17]),
    ("layer 1", "toggle", "model.activation", ["identity", "tanh"]),
    ("activation", "change-", "model.activation", "leaky_relu"),
    ("noise", "change+", "data.noise", 0.2),
    ("validation ratio", "change+", "data.valid_ratio", 0.3),
    ("data seed", "toggle", "data.seed", 1),
    ("batch size", "change+", "training.batch_size", 64),
    ("learning rate", "change-", "optimizer.lr", 3e-3),
    ("optimizer", "change+", "optimizer.name", "adamw"),
    ("L1", "change+", "optimizer.l1", 1e-5),
    ("L2 (weight decay)", "change+", "optimizer.weight_decay", 1e-5),
    ("epochs", "change-", "training.epochs", 300),
])
def test_each_field_changes_its_key_and_only_it(label, act, key, expect):
    base = load_preset("spiral")
    e = at(PresetEdit(base), label)
    ok = e.toggle() if act == "toggle" else e.change(1 if act.endswith("+") else -1)
    assert ok and not e.error
    section, name = key.split(".")
    assert e.spec().values[section][name] == expect
    changed = [k for k in e._diff(base.values)]
    assert changed == [key]


def test_inputs_toggle_one_by_one_and_the_data_set_brings_its_loss():
    e = at(PresetEdit(load_preset("spiral")), "inputs")
    e.change(1), e.change(1)  # to x1^2
    assert e.toggle() and e.spec().values["data"]["inputs"] == ["x1", "x2", "x1^2", "sin(x1)", "sin(x2)"]
    at(e, "data set").change(1)
    v = e.spec().values
    assert v["data"]["kind"] == "moons" and v["loss"]["name"] == "cross_entropy"
    at(e, "data set").change(1)  # Playground's regression sets on the plane: mse, the inputs kept
    v = e.spec().values
    assert v["data"]["kind"] == "plane" and v["loss"]["name"] == "mse" and "sin(x1)" in v["data"]["inputs"]
    at(e, "data set").change(1)
    assert e.spec().values["data"]["kind"] == "multi_gaussian"
    at(e, "data set").change(1)  # the first 1-D curve: a regression set, so mse, and no inputs row
    v = e.spec().values
    assert v["data"]["kind"] == "piecewise" and v["loss"]["name"] == "mse" and "inputs" not in v["data"]
    assert "inputs" not in [r.kind for r in e.rows()] and e.row.label == "data set"  # the cursor stays


def test_invalid_edits_change_nothing_and_say_what_the_cli_says():
    base = load_preset("spiral")
    e = at(PresetEdit(base), "learning rate")
    assert not e.set_text("-1")
    with pytest.raises(SpecError) as cli:
        load_preset("spiral", {"optimizer.lr": -1})
    assert e.error == str(cli.value) and e.values == base.values and e.changes() == []
    one = load_preset("spiral", {"data.inputs": ["x1"]})
    e = at(PresetEdit(one), "inputs")
    assert e.input_cursor == 0 and not e.toggle()  # x1 off: no input left
    with pytest.raises(DataError) as cli:
        load_dataset(load_preset("spiral", {"data.inputs": []}))
    assert e.error == str(cli.value) and e.values == one.values
    e = at(PresetEdit(base), "layer 1")
    assert not e.set_text("0") and "layer 1" in e.error and e.hidden == [16, 16]


def test_the_command_line_and_the_toml_file_give_the_edited_preset(tmp_path):
    e = PresetEdit(load_preset("spiral"))
    at(e, "hidden layers").change(1)
    at(e, "learning rate").change(1)
    cmd = e.command()
    assert cmd.startswith("dltui train spiral --set")
    args = shlex.split(cmd)[2:]
    from dltui.core.config.spec import parse_override
    sets = [args[i + 1] for i, a in enumerate(args) if a == "--set"]
    assert load_preset("spiral", dict(parse_override(s) for s in sets)).values == e.spec().values
    path = e.write(tmp_path)
    assert load_preset(path).values == e.spec().values
    assert e.write(tmp_path) != path  # never overwrites
    at(e, "data set").change(5)  # a 1-D curve (past moons, plane, multi gaussian): --set cannot drop keys
    assert e.command() is None
    assert load_preset(e.write(tmp_path)).values["data"]["kind"] == e.values["data"]["kind"]


# ---------------------------------------------------------------- the editor in the app


def app_for(preset, **over):
    spec = load_preset(preset, {"training.epochs": 3, **over})
    return DltuiApp(run=LiveRun(spec), scan_dir=None, freeze_clock=True)


@sync
async def test_spiral_add_a_layer_tanh_x1sq_x2sq_by_keys_restarts_with_a_ghost():
    app = app_for("spiral", **{"model.activation": "relu"})
    async with app.run_test(size=(80, 24)) as pilot:
        scr = app.screen
        await pilot.press("e")
        await wait_for(pilot, lambda: len(scr.run.view.history) == 1, what="one epoch")
        old_history, old_run = list(scr.run.view.history), scr.run
        await pilot.press("o")
        await wait_for(pilot, lambda: isinstance(app.screen, SettingsScreen), what="the editor")
        await pilot.press("right")  # hidden layers: add one
        await pilot.press("down")  # activation (all layers)
        for _ in range(2):
            await pilot.press("right")  # relu -> leaky_relu -> tanh
        await pilot.press("down", "down", "down", "down")  # layer 1..3, then inputs
        await pilot.press("right", "right", "space", "right", "space")  # x1^2, x2^2 on
        assert app.screen.model.error == ""
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen), what="the dashboard")
        run = scr.run
        assert run is not old_run and run.trainer.step == 0
        v = run.trainer.spec.values
        assert v["model"]["hidden"] == [16, 16, 16] and v["model"]["activation"] == "tanh"
        assert v["data"]["inputs"] == ["x1", "x2", "x1^2", "x2^2", "sin(x1)", "sin(x2)"]
        assert scr.w_loss.ghost == old_history
        msg = str(scr.query_one("#message").render())
        assert "restarted" in msg and "hidden [16, 16] → [16, 16, 16]" in msg and "+x1^2 +x2^2" in msg
        await pilot.press("e")
        await wait_for(pilot, lambda: len(scr.run.view.history) == 1, what="an epoch of the new run")
        assert scr.w_loss.ghost == old_history  # the ghost stays while the new run trains


@sync
async def test_an_invalid_typed_value_shows_the_message_and_changes_nothing():
    app = app_for("spiral")
    async with app.run_test(size=(100, 30)) as pilot:
        scr = app.screen
        old = scr.run
        await pilot.press("o")
        await wait_for(pilot, lambda: isinstance(app.screen, SettingsScreen), what="the editor")
        ed = app.screen
        while ed.model.row.label != "learning rate":
            await pilot.press("down")
        await pilot.press("1", "0", "0", "0", "enter")  # lr 1000: above the allowed 100
        assert "[optimizer] lr = 1000" in str(ed.query_one("#settings-error").render())
        assert ed.model.changes() == []
        await pilot.press("enter")  # clears the message
        await pilot.press("enter")  # nothing changed: no restart
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen), what="the dashboard")
        assert scr.run is old


@sync
async def test_w_writes_a_toml_that_dltui_train_accepts_and_that_reproduces_the_run(tmp_path, capsys):
    app = app_for("xor", **{"training.epochs": 2})
    async with app.run_test(size=(100, 30)) as pilot:
        scr = app.screen
        await pilot.press("o")
        await wait_for(pilot, lambda: isinstance(app.screen, SettingsScreen), what="the editor")
        ed = app.screen
        ed.save_dir = tmp_path
        await pilot.press("right", "down", "down", "down", "down", "right")  # a layer; layer 2 + 1 unit
        await pilot.press("w")
        path = ed.written
        assert path is not None and str(path) in str(ed.query_one("#edit-written").render())
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen), what="the dashboard")
        await pilot.press("space")
        await wait_for(pilot, lambda: scr.run.view.state == "finished", timeout=60, what="the run's end")
        app_losses = [e.train_loss for e in scr.run.view.history]
    out = tmp_path / "run"
    assert cli_main(["train", str(path), "--out", str(out)]) == 0
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    cli_losses = [r["train_loss"] for r in rows if "train_loss" in r]
    assert len(cli_losses) == len(app_losses) == 2
    np.testing.assert_allclose(cli_losses, app_losses, rtol=1e-6)


# ---------------------------------------------------------------- every neuron visible


class PlotApp(App):
    def compose(self):
        yield LearnedPlot()


def trained(preset, epochs=2, **over):
    spec = load_preset(preset, {"training.epochs": epochs, **over})
    t = Trainer(spec, "numpy")
    t.fit()
    return spec, t


@sync
async def test_a_units_heatmap_is_its_activation_on_the_grid():
    spec, t = trained("spiral")
    d = t.data
    params = t.backend.get_params()
    async with PlotApp().run_test(size=(60, 20)) as pilot:
        plot = pilot.app.query_one(LearnedPlot)
        plot.configure(d, spec)
        plot.show_params(params)
        assert plot.select_unit(1) == "unit 1.1"
        for _ in range(16 + 3):
            plot.select_unit(1)
        assert plot.unit == (1, 3)
        text = plot.render().plain
        ny, nx = plot.heat.shape
        (a, b), (c, e) = plot.x1_range, plot.x2_range
        x1 = a + (np.arange(nx) + 0.5) * (b - a) / nx
        x2 = e - (np.arange(ny) + 0.5) * (e - c) / ny
        g1, g2 = np.meshgrid(x1, x2)
        feats = [g1, g2, np.sin(g1), np.sin(g2)]  # the spiral preset's inputs, by hand
        x = np.stack([f.ravel() for f in feats], 1)
        (W1, b1), (W2, b2) = [(np.asarray(W, float), np.asarray(bb, float)) for W, bb in params[:2]]
        unit = np.tanh(np.tanh(x @ W1.T + b1) @ W2.T + b2)[:, 3].reshape(ny, nx)
        np.testing.assert_allclose(plot.heat, unit, atol=1e-5)
        assert "unit 2.4 tanh" in text.split("\n")[0]
        # the glyph density follows the value: the most active cell is drawn denser than the least
        plot.points = "val"
        body = [line[6:6 + nx] for line in plot.render().plain.split("\n")[1:1 + ny]]
        ramp = " .:-=+*#%@"
        hi, lo = np.unravel_index(unit.argmax(), unit.shape), np.unravel_index(unit.argmin(), unit.shape)
        if body[hi[0]][hi[1]] in ramp and body[lo[0]][lo[1]] in ramp:
            assert ramp.index(body[hi[0]][hi[1]]) > ramp.index(body[lo[0]][lo[1]])


@sync
async def test_the_output_is_shaded_by_confidence_discretized_on_d_and_points_cycle():
    spec, t = trained("xor")
    d = t.data
    async with PlotApp().run_test(size=(60, 20)) as pilot:
        plot = pilot.app.query_one(LearnedPlot)
        plot.configure(d, spec)
        plot.show_params(t.backend.get_params())
        plot.render()
        p = curves.class_probabilities(plot.params, plot.activations, d.features.encode(
            curves.plane(plot.x1_range, plot.x2_range, *plot.heat.shape[::-1])))[:, 1]
        np.testing.assert_allclose(plot.heat.ravel(), p, atol=1e-9)
        assert "p(class 1)" in plot.render().plain.split("\n")[0]
        assert plot.toggle_discrete() and "predicted class" in plot.render().plain.split("\n")[0]
        assert [plot.cycle_points() for _ in range(3)] == ["val", "both", "train"]
        plot.points = "val"
        lines = plot.render().plain.split("\n")
        assert "O X validation" in lines[0] and not any(ch in "ox" for line in lines[1:-1] for ch in line[6:])


# ---------------------------------------------------------------- shaping a unit by hand


@sync
async def test_a_nudged_unit_changes_the_output_by_exactly_c_delta_sigma_and_the_run_takes_it():
    spec = load_preset("piecewise-sigmoid", {"training.epochs": 3})
    app = DltuiApp(run=LiveRun(spec), scan_dir=None, freeze_clock=True)
    async with app.run_test(size=(100, 30)) as pilot:
        scr = app.screen
        await pilot.press("e")
        await wait_for(pilot, lambda: len(scr.run.view.history) == 1 and scr.run.view.state == "paused",
                       what="an epoch")
        await wait_for(pilot, lambda: scr.run.view.params_step == scr.run.view.step, what="the weights")
        await pilot.press("u", "u", "u")  # 1-D: the first u opens the unit view at unit 1.1; then 1.3
        await wait_for(pilot, lambda: isinstance(app.screen, ShapeScreen), what="the unit view")
        sh = app.screen
        assert sh.unit == (0, 2)
        before = [(W.copy(), b.copy()) for W, b in sh.params]
        x = np.array([[0.37]])
        out0 = curves.predict(before, spec.activations, x)[0, 0]
        w, b, c = before[0][0][2, 0], before[0][1][2], before[1][0][0, 2]
        await pilot.press("b", "b", "B", "b")  # + 2 steps of 0.1 in all
        delta = 0.2
        out1 = curves.predict(sh.params, spec.activations, x)[0, 0]
        sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
        assert out1 - out0 == pytest.approx(c * (sig(w * 0.37 + b + delta) - sig(w * 0.37 + b)), abs=1e-6)
        await pilot.press("c")
        out2 = curves.predict(sh.params, spec.activations, x)[0, 0]
        assert out2 - out1 == pytest.approx(0.1 * sig(w * 0.37 + b + delta), abs=1e-6)
        be = scr.run.trainer.backend
        await wait_for(pilot, lambda: np.allclose(be.get_params()[0][1], sh.params[0][1], atol=1e-6),
                       what="the trainer to take the weights")
        assert "train loss" in str(sh.query_one("#shape-head").render())
        await pilot.press("space")
        await wait_for(pilot, lambda: scr.run.trainer.step > scr.run.view.batches_per_epoch, what="training")
        await pilot.press("space", "escape")
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen), what="the dashboard")
        assert scr.w_learned.unit == (0, 2)


def test_set_params_is_a_declared_control_and_the_trainer_takes_the_weights():
    spec = load_preset("piecewise-sigmoid", {"training.epochs": 2})
    run = LiveRun(spec)
    assert run.controls & Control.SET_PARAMS
    run.open()
    try:
        params = [(W * 0 + 0.5, b * 0 - 0.25) for W, b in run.trainer.backend.get_params()]
        run.set_params(params).result(timeout=20)
        got = run.trainer.backend.get_params()
        assert all(np.allclose(W, 0.5) and np.allclose(b, -0.25) for W, b in got)
        assert run.view.params_label == "edited by hand"
        step = run.step_batch().result(timeout=20)
        assert step == 1 and not np.allclose(run.trainer.backend.get_params()[0][0], 0.5)
    finally:
        run.close()


def test_the_targets_pieces_sum_to_the_target():
    spec = load_preset("piecewise-sigmoid")
    d = load_dataset(spec)
    fn = d.target_fn
    x = np.linspace(-3, 3, 301)
    const, parts = curves.hard_sigmoid_parts(fn.xs, fn.ys, x)
    assert parts.shape[1] == spec.values["data"]["kinks"] + 1
    np.testing.assert_allclose(const + parts.sum(1), fn(x), atol=1e-12)
    # each piece is a hard sigmoid: flat, one straight ramp, flat
    for k in range(parts.shape[1]):
        assert parts[0, k] == 0 and parts[-1, k] == pytest.approx(fn.ys[k + 1] - fn.ys[k])


@sync
async def test_the_editor_keeps_the_cursor_row_in_view_on_a_short_terminal():
    app = app_for("spiral", **{"model.hidden": [8, 8, 8, 8]})
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("o")
        await wait_for(pilot, lambda: isinstance(app.screen, SettingsScreen), what="the editor")
        rows = app.screen.query_one("#edit-rows")
        n = len(app.screen.model.rows())
        assert rows.size.height < n  # 4 layers and the inputs: more rows than fit at 80x24
        for _ in range(n):
            label = app.screen.model.row.label
            assert f"▶ {label}" in rows.render().plain
            await pilot.press("down")
        assert app.screen.model.row.label == "device"


@sync
async def test_the_unit_view_asks_for_weights_a_few_times_a_second_while_training_and_not_when_paused():
    spec = load_preset("piecewise-sigmoid", {"training.epochs": 100000, "training.patience": 0})
    app = DltuiApp(run=LiveRun(spec, pace=300), scan_dir=None, freeze_clock=True)
    async with app.run_test(size=(100, 30)) as pilot:
        scr = app.screen
        await pilot.press("e")
        await wait_for(pilot, lambda: len(scr.run.view.history) == 1 and scr.run.view.state == "paused",
                       what="an epoch")
        await pilot.press("u")
        await wait_for(pilot, lambda: isinstance(app.screen, ShapeScreen) and app.screen.params is not None,
                       what="the unit view")
        sh, asks = app.screen, []

        class Counted:  # the unit view's own asks (the dashboard below has its own timer)
            def __getattr__(self, name, run=sh.run):
                return getattr(run, name)

            def want_params(self, run=sh.run):
                asks.append(time.monotonic())
                run.want_params()

        sh.run = Counted()
        await pilot.pause(1.0)
        assert asks == []  # paused: the weights do not change, nothing is asked
        await pilot.press("space")
        await wait_for(pilot, lambda: sh.run.view.state == "running", what="running")
        t0 = time.monotonic()
        await pilot.pause(2.0)
        n = len([t for t in asks if t >= t0])
        span = time.monotonic() - t0
        assert 2 <= n <= span / 0.25 + 2  # a few times a second (was every 0.1 s tick)
        seen = sh._seen
        await wait_for(pilot, lambda: sh._seen is not seen, what="new weights shown while training")


@sync
async def test_the_unit_view_jumps_layers_and_shows_a_deep_layers_units_as_curves():
    app = app_for("deep-8x3")
    async with app.run_test(size=(100, 30)) as pilot:
        scr = app.screen
        await wait_for(pilot, lambda: scr.run.view.params is not None, what="the weights")
        await pilot.press("u")
        await wait_for(pilot, lambda: isinstance(app.screen, ShapeScreen), what="the unit view")
        sh = app.screen
        assert sh.unit == (0, 0)
        await pilot.press("l", "u")
        assert sh.unit == (1, 1)
        text = sh.query_one("#shape-plot").render().plain
        assert "layer 2: its 8 units as curves of x" in text
        await pilot.press("c")  # a middle layer has no single c
        assert "only the last hidden layer" in str(sh.query_one("#shape-msg").render())
        await pilot.press("L", "L")
        assert sh.unit == (2, 0)
        assert "model = bias + Σ units" in sh.query_one("#shape-plot").render().plain


@sync
async def test_the_ghost_is_drawn_behind_the_new_curve_with_its_own_label():
    from dltui.core.events import EpochEnded
    from dltui.tui.widgets.loss_plot import LossPlot

    def hist(losses):
        return [EpochEnded(epoch=i + 1, step=i + 1, train_loss=v, val_loss=v, train_metric=None, val_metric=None,
                           best_epoch=1, best_val_loss=losses[0], patience_left=None, lr=0.01, elapsed=0.0,
                           steps_per_second=0.0) for i, v in enumerate(losses)]

    class LossApp(App):
        def compose(self):
            yield LossPlot()

    async with LossApp().run_test(size=(60, 16)) as pilot:
        plot = pilot.app.query_one(LossPlot)
        plot.show_history(hist([1.0, 0.5]))
        plot.set_ghost(hist([2.0, 1.0, 0.3, 0.1, 0.05]))
        await pilot.pause()
        text = str(plot.render())
        assert "before" in text and "train" in text
        plot.set_ghost([])
        await pilot.pause()
        assert "before" not in str(plot.render())


FIELDS = [("hidden layers", "right", "model", "hidden"), ("activation", "right", "model", "activation"),
          ("layer 1", "right", "model", "hidden"), ("layer 2", "space", "model", "activation"),
          ("inputs", "space", "data", "inputs"), ("data set", "right", "data", "kind"),
          ("noise", "right", "data", "noise"), ("validation ratio", "right", "data", "valid_ratio"),
          ("data seed", "space", "data", "seed"), ("batch size", "right", "training", "batch_size"),
          ("learning rate", "left", "optimizer", "lr"), ("optimizer", "right", "optimizer", "name"),
          ("L1", "right", "optimizer", "l1"), ("L2 (weight decay)", "right", "optimizer", "weight_decay"),
          ("epochs", "right", "training", "epochs")]


@sync
async def test_each_field_edited_in_the_app_restarts_the_run_with_it():
    app = app_for("spiral")
    async with app.run_test(size=(100, 30)) as pilot:
        scr = app.screen
        for label, key, section, name in FIELDS:
            old_run, old = scr.run, scr.run.trainer.spec.values[section][name]
            await pilot.press("o")
            await wait_for(pilot, lambda: isinstance(app.screen, SettingsScreen), what="the editor")
            ed = app.screen
            while ed.model.row.label != label:
                await pilot.press("down")
            await pilot.press(key)
            want = ed.model.values[section][name]
            assert want != old and not ed.model.error, label
            await pilot.press("enter")
            await wait_for(pilot, lambda old_run=old_run: scr.run is not old_run, what=f"a restart for {label}")
            assert scr.run.trainer.spec.values[section][name] == want, label
            assert "restarted: " in str(scr.query_one("#message").render())


@sync
async def test_dashboard_keys_u_U_d_i_drive_the_learned_panel_on_a_2d_set():
    app = app_for("xor")
    async with app.run_test(size=(80, 24)) as pilot:
        scr = app.screen
        await wait_for(pilot, lambda: scr.run.view.params is not None, what="the weights")
        plot = scr.query_one(LearnedPlot)
        await pilot.press("u")
        assert plot.unit == (0, 0) and "unit 1.1" in str(scr.query_one("#message").render())
        assert scr.shows_part("#right")  # at 80x24 the panel is brought into view
        await pilot.press("U", "U")
        assert plot.unit == (len(plot.hidden) - 1, plot.hidden[-1] - 1)  # wrapped past the output
        await pilot.press("u", "d", "i")
        assert plot.unit is None and plot.discrete and plot.points == "val"
        await pilot.pause()
        notes = [str(n.message) for n in app._notifications]
        assert notes == ["points: val"]  # d's notice was replaced by i's: notices never stack
        assert "predicted class" in plot.render().plain.split("\n")[0]


def test_a_ramp_target_is_one_hard_sigmoid_and_knows_it():
    from dltui.core.data.dataset import GENERATORS

    g = GENERATORS["step"].fn(np.random.default_rng(0), position=0.5, width=1.5)
    x = np.linspace(-3, 3, 601)
    np.testing.assert_allclose(g.target_fn(x), np.clip((x - 0.5) / 1.5 + 0.5, 0, 1), atol=1e-12)
    const, parts = curves.hard_sigmoid_parts(g.target_fn.xs, g.target_fn.ys, x)
    assert const == 0 and parts.shape[1] == 1
    np.testing.assert_allclose(const + parts.sum(1), g.target_fn(x), atol=1e-12)


@sync
async def test_a_finished_runs_unit_can_be_shaped_and_the_network_takes_it():
    app = app_for("piecewise-sigmoid", **{"training.epochs": 1})
    async with app.run_test(size=(100, 30)) as pilot:
        scr = app.screen
        await pilot.press("space")
        await wait_for(pilot, lambda: scr.run.view.state == "finished", what="the end of the run")
        await pilot.press("u")
        await wait_for(pilot, lambda: isinstance(app.screen, ShapeScreen) and app.screen.params is not None,
                       what="the unit view")
        sh = app.screen
        await pilot.press("k")
        assert "the run has ended" in str(sh.query_one("#shape-msg").render())
        be = scr.run.trainer.backend
        await wait_for(pilot, lambda: np.allclose(be.get_params()[-1][1], sh.params[-1][1], atol=1e-6),
                       what="the network to take the output bias")


def test_points_key_on_a_1d_run_keeps_the_curve_drawn():
    """`i` on a curve (1-D) run cycles the 2-D point choice without touching the curve's data points
    (they once shared one attribute, and `i` crashed the app)."""
    import asyncio

    from dltui.core.runs import LiveRun
    from dltui.tui.app import DltuiApp
    from dltui.tui.screens.dashboard import DashboardScreen

    async def go():
        app = DltuiApp(run=LiveRun(load_preset("piecewise-relu", {"training.epochs": 2})), scan_dir=None,
                       freeze_clock=True)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("i")
            await pilot.pause()
            plot = app.screen.query_one("#learned")
            assert isinstance(app.screen, DashboardScreen) and plot.points == "val"
            assert len(plot.curve_points[0]) > 0

    asyncio.run(go())

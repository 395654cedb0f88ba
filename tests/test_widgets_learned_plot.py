"""LearnedPlot and its NumPy helpers (core/curves.py): unit contributions, decision regions."""

import dataclasses
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("textual")

from async_helpers import sync  # noqa: E402
from dltui.core.config.spec import load_preset  # noqa: E402
from dltui.core.engine import curves  # noqa: E402
from dltui.core.training.trainer import Trainer  # noqa: E402
from dltui.tui.widgets.learned_plot import POINT_MARKS, QUADRANTS, REGION_CHARS, Canvas, LearnedPlot  # noqa: E402
from textual.app import App  # noqa: E402

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"




def trained(preset, epochs=3, **over):
    spec = load_preset(preset, {"training.epochs": epochs, **over})
    t = Trainer(spec, "numpy")
    t.fit()
    return spec, t


class PlotApp(App):
    def compose(self):
        yield LearnedPlot()


# ---------------------------------------------------------------- the NumPy helpers


@pytest.mark.parametrize("hidden", [[8], [6, 5]])
def test_bias_plus_unit_contributions_is_the_models_prediction(hidden):
    spec, t = trained("piecewise-sigmoid", **{"model.hidden": hidden})
    d = t.data
    grid = curves.grid_1d(d.raw_train, 200)
    x = d.features.encode(grid)
    c = curves.unit_contributions(t.backend.get_params(), spec.activations, x)
    assert c.units.shape == (200, hidden[-1])
    assert c.activation == "sigmoid"
    np.testing.assert_allclose(c.bias + c.units.sum(1), c.prediction, atol=1e-12)
    np.testing.assert_allclose(c.prediction, t.backend.predict(x)[:, 0], atol=1e-5)  # float32 backend
    W2, b2 = t.backend.get_params()[-1]
    assert c.bias == pytest.approx(float(b2[0]))
    if len(hidden) == 1:  # one hidden layer: unit j is c_j * sigmoid(b_j + w_j x)
        W1, b1 = t.backend.get_params()[0]
        j = 3
        expect = W2[0, j] / (1 + np.exp(-(x[:, 0] * W1[j, 0] + b1[j])))
        np.testing.assert_allclose(c.units[:, j], expect, atol=1e-6)


def test_contributions_use_the_normalised_inputs():
    spec, t = trained("piecewise-relu", **{"data.normalize": True})
    d = t.data
    assert d.features.mean is not None
    grid = curves.grid_1d(d.raw_train, 50)
    c = curves.unit_contributions(t.backend.get_params(), spec.activations, d.features.encode(grid))
    np.testing.assert_allclose(c.prediction, t.backend.predict(d.features.encode(grid))[:, 0], atol=1e-5)
    assert grid[0, 0] == pytest.approx(d.raw_train[:, 0].min())  # the grid is in raw x, not normalised


def test_linear_model_has_no_units():
    spec, t = trained("piecewise-sigmoid", **{"model.hidden": []})
    x = t.data.x_train[:10]
    c = curves.unit_contributions(t.backend.get_params(), spec.activations, x)
    assert c.units.shape == (10, 0)
    np.testing.assert_allclose(c.prediction, t.backend.predict(x)[:, 0], atol=1e-5)


@pytest.mark.parametrize("preset", ["xor", "spiral"])
def test_decision_regions_are_the_models_argmax(preset):
    spec, t = trained(preset, 5)
    d = t.data
    x1, x2 = curves.padded_range(d.raw_train[:, 0]), curves.padded_range(d.raw_train[:, 1])
    g = curves.decision_grid(t.backend.get_params(), spec.activations, d.features.encode, x1, x2, 40, 20)
    assert g.classes.shape == (20, 40)
    g1, g2 = np.meshgrid(g.x1, g.x2)
    centres = np.stack([g1.ravel(), g2.ravel()], 1)
    expect = t.backend.predict(d.features.encode(centres)).argmax(1).reshape(20, 40)
    assert (g.classes == expect).mean() > 0.999  # float32 ties at the boundary may differ
    assert g.x2[0] > g.x2[-1]  # row 0 is the top of the picture
    rows, cols = curves.cell_of(d.raw_train, g)
    assert np.all(np.abs(g.x1[cols] - d.raw_train[:, 0]) <= (g.x1[1] - g.x1[0]) / 2 + 1e-9)
    assert np.all(np.abs(g.x2[rows] - d.raw_train[:, 1]) <= (g.x2[0] - g.x2[1]) / 2 + 1e-9)


# ---------------------------------------------------------------- the character canvas


def test_canvas_marks_land_in_their_cells():
    cv = Canvas(10, 5, (0.0, 10.0), (0.0, 5.0))
    cv.marks(np.array([0.5, 9.5, 4.2, 20.0]), np.array([4.5, 0.5, 2.7, 1.0]), "o", "red")  # 20: outside
    rows = [cv.row_text(r).plain for r in range(5)]
    assert rows[0] == "o" + " " * 9
    assert rows[4] == " " * 9 + "o"
    assert rows[2] == " " * 4 + "o" + " " * 5
    assert sum(row.count("o") for row in rows) == 3


def test_canvas_lines_are_continuous_and_bold_lines_use_blocks():
    cv = Canvas(20, 5, (0.0, 1.0), (0.0, 1.0))
    x = np.linspace(0, 1, 200)
    cv.line(x, x, "green")  # the diagonal: every column has dots, rising to the right
    rows = [cv.row_text(r).plain for r in range(5)]
    assert all(any(row[c] != " " for row in rows) for c in range(20))
    assert rows[0][-1] != " " and rows[-1][0] != " " and rows[0][0] == " "
    assert all("\u2800" < ch <= "\u28ff" for row in rows for ch in row if ch != " ")
    cv.line(x, np.full_like(x, 0.5), "cyan", bold=True)  # a bold horizontal line over the middle row
    middle = cv.row_text(2).plain
    assert set(middle) <= set(QUADRANTS[1:]) and len(set(middle)) == 1
    assert np.all(cv.top[2] != "")


def test_canvas_ignores_nan_and_far_away_values():
    cv = Canvas(8, 4, (0.0, 1.0), (0.0, 1.0))
    x = np.linspace(0, 1, 50)
    cv.line(x, np.full_like(x, np.nan), "red")
    cv.line(x, np.full_like(x, 1e9), "red")
    cv.points(np.array([np.nan, 0.5]), np.array([0.5, np.inf]), "red")
    assert not cv.bits.any() and not np.any(cv.top != "")


# ---------------------------------------------------------------- the widget


@sync
async def test_curve_mode_draws_target_data_model_and_units():
    spec, t = trained("piecewise-sigmoid")
    app = PlotApp()
    async with app.run_test(size=(70, 18)) as pilot:
        plot = app.query_one(LearnedPlot)
        plot.configure(t.data, spec)
        assert plot.mode == "curve"
        plot.show_params(t.backend.get_params())
        await pilot.pause()
        text = plot.render().plain
        legend = text.split("\n")[0]
        for word in ("model", "target", "data", "bias", "8 units"):
            assert word in legend
        assert f"bias {plot.contributions.bias:.2g}" in legend
        assert "▀" in text or "▄" in text  # the model's line (hd marker)
        assert any("\u2800" < ch <= "\u28ff" for ch in text)  # braille: target, data, units
        np.testing.assert_allclose(plot.contributions.prediction,
                                   t.backend.predict(plot.grid_in)[:, 0], atol=1e-5)


@sync
@pytest.mark.parametrize("width", [40, 52, 78])
async def test_curve_legend_wraps_between_entries_and_nothing_is_cut(width):
    """The legend (model, target, data, bias, units, the selected unit) at the learned panel's widths at
    100 (about 52) and 80 columns (78, shown by v): every entry whole, on as many lines as it needs, and
    the plot keeps its height."""
    spec, t = trained("piecewise-sigmoid")
    app = PlotApp()
    async with app.run_test(size=(width, 16)) as pilot:
        plot = app.query_one(LearnedPlot)
        plot.configure(t.data, spec)
        plot.show_params(t.backend.get_params())
        plot.select_unit(1)  # a unit selected: the longest legend
        await pilot.pause()
        lines = plot.render().plain.split("\n")
        assert len(lines) <= 16 and all(len(line) <= width for line in lines)
        top = " ".join(lines[:3])
        assert "…" not in top
        for word in ("model", "target", "data", f"bias {plot.contributions.bias:.2g}", "8 units c·sigmoid",
                     "unit 1.1"):
            assert word in top
        assert (width < 60) == (not lines[1].lstrip().startswith(("│", "-", "0", "1")))  # wrapped when narrow


@sync
async def test_redraw_follows_new_weights():
    spec, t = trained("piecewise-sigmoid")
    app = PlotApp()
    async with app.run_test(size=(70, 18)) as pilot:
        plot = app.query_one(LearnedPlot)
        plot.configure(t.data, spec)
        params = t.backend.get_params()
        plot.show_params(params)
        before = plot.contributions.prediction.copy()
        shifted = [(W, b) for W, b in params[:-1]] + [(params[-1][0], params[-1][1] + 1.0)]
        plot.show_params(shifted)
        await pilot.pause()
        np.testing.assert_allclose(plot.contributions.prediction, before + 1.0, atol=1e-9)


@sync
async def test_regions_mode_shades_predictions_and_marks_points():
    spec, t = trained("xor", 5)
    d = t.data
    app = PlotApp()
    async with app.run_test(size=(60, 20)) as pilot:
        plot = app.query_one(LearnedPlot)
        plot.configure(d, spec)
        assert plot.mode == "regions"
        plot.toggle_discrete()  # the predicted class only (the default shades the confidence)
        plot.show_params(t.backend.get_params())
        await pilot.pause()
        lines = plot.render().plain.split("\n")
        g = plot.decision
        ny, nx = g.classes.shape
        acc = (t.backend.predict(d.x_train).argmax(1) == d.y_train).mean()
        assert f"acc {acc:.0%}" in lines[0]
        body = [line[6:6 + nx] for line in lines[1:1 + ny]]
        rows, cols = curves.cell_of(d.raw_train, g)
        with_point = set(zip(rows.tolist(), cols.tolist()))
        for r in range(ny):
            for c in range(nx):
                ch = body[r][c]
                if (r, c) in with_point:
                    assert ch in POINT_MARKS[:2]
                else:
                    assert ch == REGION_CHARS[g.classes[r, c]]
        # each point's marker is its class (one point per cell where the cell is not shared)
        for (r, c), y in zip(zip(rows.tolist(), cols.tolist()), d.y_train.tolist()):
            if sum(1 for rc in zip(rows.tolist(), cols.tolist()) if rc == (r, c)) == 1:
                assert body[r][c] == POINT_MARKS[y]
        assert lines[-1].split()[1] == "x1"


@sync
async def test_classification_without_a_2d_picture_shows_a_confusion_matrix():
    spec, t = trained("xor", 5)
    d = dataclasses.replace(t.data, raw_train=None, raw_val=None)
    app = PlotApp()
    async with app.run_test(size=(60, 12)) as pilot:
        plot = app.query_one(LearnedPlot)
        plot.configure(d, spec)
        assert plot.mode == "confusion"
        plot.show_params(t.backend.get_params())
        await pilot.pause()
        lines = plot.render().plain.split("\n")
        pred = t.backend.predict(d.x_val).argmax(1)
        assert f"accuracy {(pred == d.y_val).mean():.1%}" in lines[0]
        counts = [[int(v) for v in line.split()[2:]] for line in lines[2:4]]
        assert counts[0][0] == int(((pred == 0) & (d.y_val == 0)).sum())
        assert counts[1][0] == int(((pred == 0) & (d.y_val == 1)).sum())
        assert sum(map(sum, counts)) == len(d.y_val)


@sync
async def test_hw01_shows_predicted_vs_true_on_validation():
    csv = DATA / "hw01_2022" / "covid.train.csv"
    if not csv.exists():
        pytest.skip(f"HW1 data not found at {csv}")
    spec, t = trained("hw01-covid", 3, **{"data.path": str(csv)})
    app = PlotApp()
    async with app.run_test(size=(70, 18)) as pilot:
        plot = app.query_one(LearnedPlot)
        plot.configure(t.data, spec)
        assert plot.mode == "scatter"
        plot.show_params(t.backend.get_params())
        await pilot.pause()
        text = plot.render().plain
        pred = t.backend.predict(t.data.x_val)[:, 0]
        rmse = float(np.sqrt(np.mean((pred - t.data.y_val[:, 0]) ** 2)))
        assert f"RMSE {rmse:.3g}" in text.split("\n")[0]
        assert "tested_positive" in text.split("\n")[0]
        assert "•" in text


@sync
async def test_before_configure_it_says_what_will_appear():
    app = PlotApp()
    async with app.run_test(size=(50, 8)) as pilot:
        plot = app.query_one(LearnedPlot)
        plot.show_params([(np.zeros((1, 1)), np.zeros(1))])  # ignored: no run configured
        await pilot.pause()
        assert "appears" in plot.render().plain


@sync
async def test_weights_of_another_network_are_refused_with_a_message():
    spec, t = trained("piecewise-sigmoid")
    app = PlotApp()
    async with app.run_test(size=(60, 10)) as pilot:
        plot = app.query_one(LearnedPlot)
        plot.configure(t.data, spec)
        assert "waiting" in plot.render().plain
        wrong = [(np.zeros((4, 3)), np.zeros(4)), (np.zeros((1, 4)), np.zeros(1))]  # 3 inputs, not 1
        plot.show_params(wrong)
        await pilot.pause()
        assert plot.params is None and "do not fit" in plot.render().plain
        plot.show_params(t.backend.get_params())
        await pilot.pause()
        assert "model" in plot.render().plain.split("\n")[0]

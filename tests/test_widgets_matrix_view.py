"""MatrixView: W and dW of a layer, scaled, truncated for wide layers, side by side or stacked."""


import numpy as np
import pytest

pytest.importorskip("textual")

from async_helpers import sync  # noqa: E402
from dltui.core.config.spec import load_preset  # noqa: E402
from dltui.core.training.trainer import Trainer  # noqa: E402
from dltui.tui.widgets.matrix_view import MatrixView, pick, scale_of  # noqa: E402
from textual.app import App  # noqa: E402


class MatrixApp(App):
    def compose(self):
        yield MatrixView()


def shown(view: MatrixView) -> list[str]:
    return view.render().plain.split("\n")


def test_pick_keeps_first_and_last():
    assert pick(5, 8) == [0, 1, 2, 3, 4]
    assert pick(10, 5) == [0, 1, None, 8, 9]
    assert pick(10, 6) == [0, 1, 2, None, 8, 9]


def test_scale_is_a_power_of_ten_only_outside_ordinary_weights():
    assert scale_of(np.array([[0.5, -2.0]])) == 0
    assert scale_of(np.array([[0.12]])) == 0
    assert scale_of(np.array([[3e-4, -1e-5]])) == -4
    assert scale_of(np.array([[250.0]])) == 2
    assert scale_of(np.array([[9.999e-3]])) == -2  # rounds to 10.00e-3 -> 1.00e-2
    assert scale_of(np.zeros((2, 2))) == 0


@sync
async def test_small_layer_shows_every_entry_side_by_side():
    spec = load_preset("piecewise-sigmoid", {"training.epochs": 3})
    t = Trainer(spec, "numpy")
    t.fit()
    W, _ = t.backend.get_params()[1]  # the output layer: 1 x 8
    dW = t.backend.net.linears[1].dW.copy()
    app = MatrixApp()
    async with app.run_test(size=(110, 10)) as pilot:
        view = app.query_one(MatrixView)
        view.show("layer 2 (8→1)", W, dW)
        await pilot.pause()
        lines = shown(view)
        assert lines[0] == "layer 2 (8→1)"
        assert "W [1×8]" in lines[1] and "∇W [1×8]" in lines[1]  # side by side
        assert "…" not in "".join(lines)
        sw, sg = scale_of(W), scale_of(dW)
        row = lines[3]
        w_part, g_part = row.split("│")
        assert w_part.split()[1:] == [f"{v / 10.0**sw:.2f}" if v else "0" for v in W[0]]
        assert g_part.split()[1:] == [f"{v / 10.0**sg:.2f}" if v else "0" for v in dW[0]]


@sync
async def test_wide_layer_is_truncated_with_its_full_shape_stated():
    rng = np.random.default_rng(0)
    W = rng.standard_normal((20, 60))
    W[0, 0], W[0, 59], W[19, 0] = 1.25, -2.5, 0.75
    dW = rng.standard_normal((20, 60)) * 1e-3
    app = MatrixApp()
    async with app.run_test(size=(80, 16)) as pilot:
        view = app.query_one(MatrixView)
        view.show("layer 1", W, dW)
        await pilot.pause()
        text = "\n".join(shown(view))
        assert "W [20×60]" in text and "∇W [20×60]" in text
        assert "5/60 cols" in text and "/20 rows" in text
        assert "…" in text and "⋮" in text
        assert "×1e-3" in text  # the gradient's common scale
        lines = shown(view)
        w_row1 = next(line for line in lines[3:] if line.split()[:1] == ["1"]).split("│")[0].split()
        assert w_row1[1] == "1.25" and w_row1[-1] == "-2.50"  # first and last column
        w_last = next(line for line in lines if line.split()[:1] == ["20"]).split("│")[0].split()
        assert w_last[1] == "0.75"  # the last row is kept too
        index_line = lines[2]
        assert index_line.split()[0] == "1" and index_line.split()[-1] == "60"
        assert all(len(line) <= 80 for line in lines)


@sync
async def test_stacks_when_side_by_side_would_show_less():
    W = np.arange(12, dtype=float).reshape(1, 12) / 10
    app = MatrixApp()
    async with app.run_test(size=(80, 14)) as pilot:
        view = app.query_one(MatrixView)
        view.show("t", W, -W)
        await pilot.pause()
        lines = shown(view)
        heads = [i for i, line in enumerate(lines) if line.startswith(("W [", "∇W ["))]
        assert len(heads) == 2 and heads[1] > heads[0] + 2  # one above the other
        assert "…" not in "".join(lines)  # all 12 columns fit when stacked
        assert lines[heads[1] + 2].split()[1:] == ["0"] + [f"{-v:.2f}" for v in W[0, 1:]]


@sync
async def test_before_a_layer_is_chosen_it_says_so():
    app = MatrixApp()
    async with app.run_test(size=(60, 10)) as pilot:
        await pilot.pause()
        assert "select a layer" in app.query_one(MatrixView).render().plain


@sync
async def test_a_one_column_layer_keeps_its_scale_in_view():
    W = np.linspace(-1, 1, 8).reshape(8, 1)
    app = MatrixApp()
    async with app.run_test(size=(50, 14)) as pilot:
        view = app.query_one(MatrixView)
        view.show("layer 1 (1→8)", W, W * 1e-3)
        await pilot.pause()
        lines = shown(view)
        assert "W [8×1]" in lines[1] and "∇W [8×1] ×1e-3" in lines[1]  # side by side, nothing cut
        assert [line.split("│")[1].split()[1] for line in lines[3:11]] == [f"{v:.2f}" for v in W[:, 0]]

"""Snapshots of the three dashboard widgets in small fixed-size apps with fixed data.

The data come from seeded generators and seeded initial weights (no training), so the
pictures do not depend on the machine. Update with ``pytest --snapshot-update`` after a
deliberate change, and look at the SVGs before committing them.
"""

import numpy as np
import pytest

pytest.importorskip("textual")
pytest.importorskip("pytest_textual_snapshot")

from dltui.core.backends.base import (
    initial_params,  # noqa: E402
    make_layer_stats,  # noqa: E402
)
from dltui.core.config.spec import load_preset  # noqa: E402
from dltui.core.data.dataset import load_dataset  # noqa: E402
from dltui.tui.widgets.layer_table import LayerTable  # noqa: E402
from dltui.tui.widgets.learned_plot import LearnedPlot  # noqa: E402
from dltui.tui.widgets.matrix_view import MatrixView  # noqa: E402
from textual.app import App  # noqa: E402
from textual.containers import Horizontal  # noqa: E402


def fixed_layers():
    rng = np.random.default_rng(7)
    sizes, acts = [16, 12, 8, 1], ["relu", "sigmoid", "identity"]
    out = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        W = rng.standard_normal((n_out, n_in)) * 0.5
        dW = rng.standard_normal((n_out, n_in)) * 10.0 ** -(i + 2)
        prev = W - dW * 0.1
        a = rng.standard_normal((32, n_out))
        a = np.maximum(a, 0) if acts[i] == "relu" else 1 / (1 + np.exp(-4 * a))
        if acts[i] == "relu":
            a[:, :3] = 0.0  # three dead units
        out.append((make_layer_stats(i + 1, acts[i], W, np.zeros(n_out), dW, prev, a), W, dW))
    return out


class WeightsApp(App):
    CSS = "LayerTable { border: round $accent; } MatrixView { border: round $accent; }"

    def compose(self):
        yield LayerTable()
        yield MatrixView()

    def on_mount(self):
        self.layers = fixed_layers()
        self.query_one(LayerTable).show_stats(tuple(s for s, _, _ in self.layers))

    def on_layer_table_layer_selected(self, message):
        s, W, dW = self.layers[message.index - 1]
        self.query_one(MatrixView).show(f"layer {s.index} ({s.n_in}→{s.n_out})", W, dW)


class LearnedApp(App):
    CSS = "LearnedPlot { border: round $accent; }"

    def compose(self):
        with Horizontal():
            yield LearnedPlot(id="curve")
            yield LearnedPlot(id="regions")

    def on_mount(self):
        for wid, preset in (("#curve", "piecewise-sigmoid"), ("#regions", "xor")):
            spec = load_preset(preset, {"training.dtype": "float64"})
            data = load_dataset(spec)
            params = initial_params(spec, data.n_features, data.n_outputs)
            if preset == "xor":
                params = xor_solution()
            plot = self.query_one(wid, LearnedPlot)
            plot.configure(data, spec)
            plot.show_params(params)


def xor_solution():
    """8 ReLUs that solve XOR by hand: |x1 + x2| - |x1 - x2| > 0 exactly when x1 * x2 > 0."""
    W1 = np.zeros((8, 2))
    W1[:4] = [[1, 1], [-1, -1], [1, -1], [-1, 1]]
    W2 = np.zeros((2, 8))
    W2[1, :4] = [1, 1, -1, -1]
    return [(W1, np.zeros(8)), (W2, np.array([0.0, -0.5]))]


def test_layer_table_and_matrix_at_80x24(snap_compare):
    assert snap_compare(WeightsApp(), terminal_size=(80, 24), press=["down"])


def test_learned_plots_at_100x20(snap_compare):
    assert snap_compare(LearnedApp(), terminal_size=(100, 20))


def test_learned_plots_read_without_colour(snap_compare, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")  # Textual's NoColor filter: markers and shading must carry it
    assert snap_compare(LearnedApp(), terminal_size=(100, 20))

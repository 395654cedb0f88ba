"""One hidden unit of a 1-D net, drawn so a person can shape it by hand (the lecture's figure of how
w, b and c reshape a sigmoid): the target, the data, every unit's contribution c·σ(b + w x) in grey, the
chosen one bold, the output bias and their sum, the model. For the piecewise presets the target's own
decomposition can be laid over it: the constant plus one hard sigmoid per linear piece.

For a unit of an earlier hidden layer (2+ hidden layers) the plot is that layer's units as curves of x
(depth made visible). ``show(params, unit)`` redraws; ``target_parts`` toggles the decomposition.
"""

from __future__ import annotations

import numpy as np
from dltui.core.engine import curves
from dltui.tui.widgets.learned_plot import (
    BIAS,
    CURVE_POINTS,
    DATA,
    MODEL,
    SELECTED,
    TARGET,
    UNITS,
    Canvas,
    _plot_area,
    framed,
    units_as_curves,
)
from rich.text import Text
from textual.widget import Widget

PARTS = "green"  # the target's own pieces


def unit_terms(params, activations, x_in: np.ndarray, unit: tuple[int, int]) -> dict:
    """For the chosen unit (layer, j): its activation a(x), its output weight c (last hidden layer only),
    the network's output, the output bias, and every last-layer contribution c_k·a_k(x)."""
    layer, j = unit
    acts = curves.forward_all(params, activations, x_in)
    last = len(params) - 2
    c = float(params[-1][0][0, j]) if layer == last else None
    return {"a": acts[layer][:, j], "c": c, "out": acts[-1][:, 0], "bias": float(params[-1][1][0]),
            "terms": acts[last] * params[-1][0][0][None, :], "layer_acts": acts[layer]}


class ShapePlot(Widget):
    DEFAULT_CSS = "ShapePlot { height: 1fr; width: 1fr; text-wrap: nowrap; text-overflow: clip; }"

    def __init__(self, data, spec, **kw):
        super().__init__(**kw)
        self.data, self.activations = data, list(spec.activations)
        self.grid = curves.grid_1d(data.raw_train, CURVE_POINTS)
        self.grid_in = data.features.encode(self.grid)
        fn = data.target_fn
        self.target = None if fn is None else np.asarray(fn(self.grid[:, 0]), float)
        self.knots = (fn.xs, fn.ys) if hasattr(fn, "xs") else None  # a piecewise target knows its pieces
        self.target_parts = False
        self.params = None
        self.unit: tuple[int, int] = (0, 0)
        ys = [np.asarray(data.y_train, float).ravel()] + ([self.target] if self.target is not None else [])
        self.y_range = curves.padded_range(np.concatenate(ys), 0.15)
        self.ylim = self.y_range  # the range last drawn (plot_range)

    def show(self, params, unit: tuple[int, int]) -> None:
        self.params, self.unit = params, unit
        self.refresh()

    def render(self) -> Text:
        if self.params is None:
            return Text("waiting for the network's weights", style="dim")
        w, h = self.content_size.width, self.content_size.height
        t = unit_terms(self.params, self.activations, self.grid_in, self.unit)
        x = self.grid[:, 0]
        if t["c"] is None:
            return self._layer(x, t, w, h)
        legend = Text()
        legend.append("▀▄ model = bias + Σ units", style=MODEL)
        legend.append(f"  ⠒ this unit c·{self.activations[self.unit[0]]}", style=SELECTED)
        legend.append(f"  ⠒ bias {t['bias']:.2g}", style=BIAS)
        if self.target is not None and not (self.target_parts and self.knots is not None):
            legend.append("  ⠒ target", style=TARGET)
        pieces = self.target_parts and self.knots is not None
        if pieces:
            const, parts = curves.hard_sigmoid_parts(*self.knots, x)
            parts = parts[:, np.abs(parts).max(0) > 0]  # a flat piece adds nothing
            legend.append(f"  ⠒ target = {const:.2g} + {parts.shape[1]} hard sigmoids", style=PARTS)
        self.ylim = self.plot_range(t)
        canvas = Canvas(*_plot_area(w, h, legend), (float(x[0]), float(x[-1])), self.ylim)
        for k in range(t["terms"].shape[1]):
            if k != self.unit[1]:
                canvas.line(x, t["terms"][:, k], UNITS)
        if pieces:
            canvas.line(x, np.full_like(x, const), PARTS)
            for k in range(parts.shape[1]):
                canvas.line(x, parts[:, k], PARTS)
        elif self.target is not None:
            canvas.line(x, self.target, TARGET)
        canvas.line(x, np.full_like(x, t["bias"]), BIAS)
        canvas.points(np.asarray(self.data.raw_train[:, 0], float), np.asarray(self.data.y_train, float).ravel(), DATA)
        canvas.line(x, t["c"] * t["a"], SELECTED, bold=True)
        canvas.line(x, t["out"], MODEL, bold=True)
        return framed(legend, canvas, "x", w)

    def plot_range(self, t: dict) -> tuple[float, float]:
        """The data's range, widened to the model, this unit's term and the bias: the curve being shaped
        stays on the plot even where it is far from the data (an untrained net, a big nudge; issue 23)."""
        shaped = np.concatenate([t["out"], t["c"] * t["a"], [t["bias"]]])
        shaped = shaped[np.isfinite(shaped)]
        if not len(shaped) or (shaped.min() >= self.y_range[0] and shaped.max() <= self.y_range[1]):
            return self.y_range
        lo, hi = curves.padded_range(np.concatenate([shaped, self.y_range]), 0.05)
        return min(lo, self.y_range[0]), max(hi, self.y_range[1])

    def _layer(self, x, t, w: int, h: int) -> Text:
        acts, j = t["layer_acts"], self.unit[1]
        legend = Text()
        legend.append(f"layer {self.unit[0] + 1}: its {acts.shape[1]} units as curves of x", style=UNITS)
        legend.append(f"  ▀▄ unit {self.unit[0] + 1}.{j + 1}", style=SELECTED)
        return units_as_curves(x, acts, j, legend, w, h, SELECTED)

"""What the network has learned, drawn as the lecture draws it.

- 1-D regression (a curve generator): the target curve, the training points, the model's
  prediction, and each last-hidden unit's contribution c_j * a_j(x) plus the output bias —
  "a constant plus a sum of (hard) sigmoids" — with a legend (plotext).
- 2-D classification (a Playground generator): the decision regions on a character grid,
  shaded per predicted class, with the training points over them as o / x markers, so the
  picture reads without colour.
- Other data (CSV such as HW1, multi-feature): predicted vs true on the validation split
  (regression) or a confusion matrix (classification).

``configure(data, spec)`` once per run, then ``show_params(params)`` for the current weights.
All maths is NumPy in ``dltui.core.curves``, on small grids, cheap enough for the UI thread.
"""

from __future__ import annotations

import numpy as np
from dltui.core import curves
from dltui.core.data import Dataset
from dltui.core.spec import Spec
from rich.text import Text
from textual_plotext import PlotextPlot

CURVE_POINTS = 200
MAX_POINTS = 400  # training points drawn in the 1-D plot / predicted-vs-true (subsampled beyond)
REGION_CHARS = " ░▒▓·"
POINT_MARKS = "ox+*#"
CLASS_COLORS = ["dodger_blue1", "dark_orange", "green3", "magenta", "yellow"]
REGION_BG = ["#16304a", "#4a2e10", "#123d1a", "#3d123d", "#3d3d12"]


class LearnedPlot(PlotextPlot):
    """The 'what the net learned' panel; the mode follows the data (see the module doc)."""

    DEFAULT_CSS = """
    LearnedPlot {
        width: 1fr;
        height: 1fr;
        min-height: 6;
        text-wrap: nowrap;
        text-overflow: clip;
    }
    """

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.mode = "none"  # none | curve | regions | scatter | confusion
        self.data: Dataset | None = None
        self.activations: list[str] = []
        self.params: list[tuple[np.ndarray, np.ndarray]] | None = None
        self.message = "the plot appears when a run is set up"
        self.contributions: curves.Contributions | None = None
        self.decision: curves.DecisionGrid | None = None
        self.legend = Text("")
        self.border_title = "what the net learned"

    # ------------------------------------------------------------ data in
    def configure(self, data: Dataset, spec: Spec) -> None:
        """Choose how to draw this run's data and precompute the grids."""
        self.data, self.activations, self.params = data, list(spec.activations), None
        self.contributions = self.decision = None
        raw = data.raw_train
        ncol = None if raw is None or raw.ndim != 2 else raw.shape[1]
        if data.task == "regression" and ncol == 1:
            self.mode = "curve"
            self.grid = curves.grid_1d(raw, CURVE_POINTS)
            self.grid_in = data.features.encode(self.grid)
            fn = data.target_fn
            self.target = None if fn is None else np.asarray(fn(self.grid[:, 0]), float)
            keep = _subsample(len(raw), MAX_POINTS)
            self.points = (raw[keep, 0].astype(float), np.asarray(data.y_train)[keep, 0].astype(float))
            ys = [self.points[1]] + ([self.target] if self.target is not None else [])
            self.y_range = curves.padded_range(np.concatenate(ys), 0.15)
        elif data.task == "classification" and ncol == 2:
            self.mode = "regions"
            self.x1_range = curves.padded_range(raw[:, 0], 0.05)
            self.x2_range = curves.padded_range(raw[:, 1], 0.05)
        elif data.task == "regression":
            self.mode = "scatter" if len(data.x_val) else "none"
            self.message = "no validation rows to compare predictions with"
        else:
            self.mode = "confusion" if len(data.x_val) else "none"
            self.message = "no validation rows to compare predictions with"
        self._redraw()

    def show_params(self, params: list[tuple[np.ndarray, np.ndarray]]) -> None:
        """Redraw for these weights ([(W [out, in], b [out]), ...], e.g. ``backend.get_params()``)."""
        if self.data is None:
            return
        self.params = [(np.asarray(W, np.float64), np.asarray(b, np.float64)) for W, b in params]
        if self.mode == "curve":
            self.contributions = curves.unit_contributions(self.params, self.activations, self.grid_in)
        self._redraw()

    # ------------------------------------------------------------ drawing
    def _redraw(self) -> None:
        if self.mode in ("curve", "scatter"):
            self.plt.clear_figure()
            if self.params is not None:
                (self._draw_curve if self.mode == "curve" else self._draw_scatter)()
        self.refresh()

    def _draw_curve(self) -> None:
        plt, c = self.plt, self.contributions
        x = self.grid[:, 0]
        units = c.units.shape[1]
        for j in range(units):
            plt.plot(x, c.units[:, j], marker="braille", color="gray")
        plt.plot(x, np.full_like(x, c.bias), marker="braille", color="yellow")
        plt.scatter(*self.points, marker="braille", color="white")
        if self.target is not None:
            plt.plot(x, self.target, marker="braille", color="green")
        plt.plot(x, c.prediction, marker="hd", color="cyan")
        plt.ylim(*self.y_range)
        plt.xlim(float(x[0]), float(x[-1]))
        legend = Text(no_wrap=True, overflow="crop")
        legend.append("▀▄ model", style="bold cyan")
        if self.target is not None:
            legend.append("  ⠒ target", style="green")
        legend.append("  ⠂ data", style="bright_white")
        legend.append(f"  ⠒ bias {c.bias:.2g}", style="yellow")
        if units:
            legend.append(f"  ⠒ {units} units c·{c.activation}", style="grey62")
        self.legend = legend

    def _draw_scatter(self) -> None:
        plt, d = self.plt, self.data
        pred = curves.predict(self.params, self.activations, d.x_val)[:, 0]
        true = np.asarray(d.y_val, float).reshape(-1)
        rmse = float(np.sqrt(np.mean((pred - true) ** 2)))
        lo, hi = curves.padded_range(true, 0.05)
        keep = _subsample(len(true), MAX_POINTS)
        plt.plot([lo, hi], [lo, hi], marker="braille", color="gray")
        plt.scatter(true[keep], pred[keep], marker="•", color="cyan")
        plt.xlim(lo, hi)
        plt.ylim(lo, hi)
        self.rmse = rmse
        legend = Text(no_wrap=True, overflow="crop")
        legend.append(f"• validation RMSE {rmse:.3g}", style="bold cyan")
        legend.append(f"  x true, y predicted {d.features.target}", style="dim")
        legend.append("  ⠒ ideal", style="grey62")
        self.legend = legend

    def render(self):
        size = self.content_size
        if self.mode in ("curve", "scatter") and self.params is not None:
            h = max(size.height - 1, 3)
            self._plot.plotsize(size.width, h)
            self._plot._set_size(size.width, h)  # as PlotextPlot.render does (plotext resize quirk)
            self._plot.theme(self._get_plotext_theme_name(self.app.theme))
            legend = self.legend.copy()
            legend.truncate(size.width, overflow="ellipsis")
            return Text("\n").join([legend, Text.from_ansi(self._plot.build())])
        if self.data is None or self.params is None or self.mode == "none":
            return Text(self.message, style="dim")
        if self.mode == "regions":
            return self.regions_text(size.width, size.height)
        return self.confusion_text()

    # ------------------------------------------------------------ 2-D decision regions
    def regions_text(self, width: int, height: int) -> Text:
        """Decision regions at one grid cell per character, the training points on top."""
        d = self.data
        label_w = 6
        nx, ny = max(width - label_w, 8), max(height - 2, 3)
        nx, ny = min(nx, 160), min(ny, 80)
        g = curves.decision_grid(self.params, self.activations, d.features.encode, self.x1_range,
                                 self.x2_range, nx, ny)
        self.decision = g
        k = max(d.n_outputs, 2)
        rows, cols = curves.cell_of(d.raw_train, g)
        labels = np.asarray(d.y_train, int)
        counts = np.zeros((ny, nx, k), int)
        np.add.at(counts, (rows, cols, labels), 1)
        has_point = counts.sum(2) > 0
        point_class = counts.argmax(2)
        pred_train = curves.predict(self.params, self.activations, d.x_train).argmax(1)
        acc = float((pred_train == labels).mean()) if len(labels) else float("nan")

        legend = Text()
        for c in range(k):
            legend.append(f"{POINT_MARKS[c % 5]}", style=f"bold {CLASS_COLORS[c % 5]}")
            legend.append(f" class {c}  ")
        legend.append("predicted", style="dim")
        for c in range(1, k):
            legend.append(" ")
            legend.append(REGION_CHARS[c % 5], style=f"{CLASS_COLORS[c % 5]} on {REGION_BG[c % 5]}")
            legend.append(f" {c}", style="dim")
        legend.append(f"  acc {acc:.0%}", style="bold")
        legend.truncate(width, overflow="ellipsis")
        out = Text(no_wrap=True, overflow="crop")
        out.append_text(legend)
        out.append("\n")
        for r in range(ny):
            yl = ""
            if r == 0:
                yl = _tick(g.x2_range[1])
            elif r == ny - 1:
                yl = _tick(g.x2_range[0])
            elif r == ny // 2:
                yl = "x2"
            out.append(f"{yl:>{label_w - 1}}│", style="dim")
            for col in range(nx):
                cls = int(g.classes[r, col])
                bg = f" on {REGION_BG[cls % 5]}"
                if has_point[r, col]:
                    pc = int(point_class[r, col])
                    out.append(POINT_MARKS[pc % 5], style=f"bold {CLASS_COLORS[pc % 5]}{bg}")
                else:
                    out.append(REGION_CHARS[cls % 5], style=f"{CLASS_COLORS[cls % 5]}{bg}")
            out.append("\n")
        left, right = _tick(g.x1_range[0]), _tick(g.x1_range[1])
        axis = f"{left}{'x1':^{max(nx - len(left) - len(right), 2)}}{right}"
        out.append(" " * label_w + axis, style="dim")
        return out

    # ------------------------------------------------------------ classification without a 2-D picture
    def confusion_text(self) -> Text:
        d = self.data
        pred = curves.predict(self.params, self.activations, d.x_val).argmax(1)
        true = np.asarray(d.y_val, int)
        k = max(d.n_outputs, 2)
        m = np.zeros((k, k), int)
        np.add.at(m, (true, pred), 1)
        acc = float((pred == true).mean())
        w = max(5, len(str(m.max())) + 1)
        out = Text(f"validation: accuracy {acc:.1%} (rows true, columns predicted)\n", style="bold")
        out.append(" " * 8 + "".join(f"{c:>{w}}" for c in range(k)) + "\n", style="dim")
        for i in range(k):
            out.append(f"{'true ' + str(i):>8}", style="dim")
            for j in range(k):
                out.append(f"{m[i, j]:>{w}}", style="bold green" if i == j else ("red" if m[i, j] else "dim"))
            out.append("\n")
        return out


def _subsample(n: int, k: int) -> np.ndarray:
    return np.arange(n) if n <= k else np.linspace(0, n - 1, k).astype(int)


def _tick(v: float) -> str:
    return f"{v:.3g}"

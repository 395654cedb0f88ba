"""What the network has learned, drawn as the lecture draws it.

- 1-D regression (a curve generator): the target curve, the training points, the model's
  prediction, and each last-hidden unit's contribution c_j * a_j(x) plus the output bias —
  "a constant plus a sum of (hard) sigmoids" — with a legend, on a braille canvas.
- 2-D classification (a Playground generator): the decision regions on a character grid,
  shaded per predicted class, with the training points over them as o / x markers, so the
  picture reads without colour. 2-D regression (Playground's plane, multi gaussian): the
  predicted value over the plane, on the training targets' scale.
- A series (the views generator): real and predicted values day by day over the validation
  period, the lecture's red/blue figure.
- Two ReLUs on a 1-D curve: each unit in its own colour, so the pair visibly sums to one hard
  sigmoid.
- Other data (CSV such as HW1, multi-feature): predicted vs true on the validation split
  (regression) or a confusion matrix (classification).

``configure(data, spec)`` once per run, then ``show_params(params)`` for the current weights.
All maths is NumPy in ``dltui.core.engine.curves``, on small grids, cheap enough for the UI thread.
"""

from __future__ import annotations

import re

import numpy as np
from dltui.core.config.spec import Spec
from dltui.core.data.dataset import Dataset
from dltui.core.engine import curves
from dltui.tui.widgets import unit_views
from rich.text import Text
from textual.widget import Widget

CURVE_POINTS = 200
MAX_POINTS = 400  # training points drawn in the 1-D plot / predicted-vs-true (subsampled beyond)
REGION_CHARS = " ░▒▓·"
POINT_MARKS = "ox+*#"
CLASS_COLORS = ["dodger_blue1", "dark_orange", "green3", "magenta", "yellow"]
REGION_BG = ["#16304a", "#4a2e10", "#123d1a", "#3d123d", "#3d3d12"]
MODEL, TARGET, DATA, BIAS, UNITS = "bold cyan", "green", "bright_white", "yellow", "grey50"
SELECTED = "bold red"  # the unit chosen with u / U
PAIR = ("magenta", "dark_orange")  # the two units of a ReLU pair
REAL, PREDICTED = "red", "bold dodger_blue1"  # the lecture's colours for the views series
BRAILLE_BITS = np.array([[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]], np.uint8)
QUADRANTS = " ▘▝▀▖▌▞▛▗▚▐▜▄▙▟█"  # index: upper-left 1, upper-right 2, lower-left 4, lower-right 8
QUAD_BITS = np.array([[1, 2], [4, 8]], np.uint8)


class LearnedPlot(Widget):
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
        self.mode = "none"  # none | curve | regions | series | scatter | confusion
        self.data: Dataset | None = None
        self.activations: list[str] = []
        self.params: list[tuple[np.ndarray, np.ndarray]] | None = None
        self.message = "the plot appears when a run is set up"
        self.contributions: curves.Contributions | None = None
        self.decision: curves.DecisionGrid | None = None
        self.border_title = "what the net learned"
        self.unit: tuple[int, int] | None = None  # the hidden unit shown (layer, index), None: the output
        self.discrete = False  # 2-D output: the predicted class only, not the confidence
        self.points = "train"  # 2-D: which points are drawn: train | val | both
        self.hidden: list[int] = []
        self.heat: np.ndarray | None = None  # the values last shaded on the plane (tests compare them)

    # ------------------------------------------------------------ data in
    def configure(self, data: Dataset, spec: Spec) -> None:
        """Choose how to draw this run's data and precompute the grids."""
        self.data, self.activations, self.params = data, list(spec.activations), None
        self.hidden = list(spec.values["model"]["hidden"])
        self.unit = self.unit if self.unit in self.units() else None
        self.contributions = self.decision = None
        self.message = "waiting for the network's weights"
        raw = data.raw_train
        ncol = None if raw is None or raw.ndim != 2 else raw.shape[1]
        if data.task == "regression" and ncol == 1:
            self.mode = "curve"
            self.grid = curves.grid_1d(raw, CURVE_POINTS)
            self.grid_in = data.features.encode(self.grid)
            fn = data.target_fn
            self.target = None if fn is None else np.asarray(fn(self.grid[:, 0]), float)
            keep = _subsample(len(raw), MAX_POINTS)
            self.curve_points = (raw[keep, 0].astype(float), np.asarray(data.y_train)[keep, 0].astype(float))
            ys = [self.curve_points[1]] + ([self.target] if self.target is not None else [])
            self.y_range = curves.padded_range(np.concatenate(ys), 0.15)
        elif ncol == 2 and (data.task == "classification" or spec.values["data"]["kind"] != "csv"):
            self.mode = "regions"
            self.x1_range = curves.padded_range(raw[:, 0], 0.05)
            self.x2_range = curves.padded_range(raw[:, 1], 0.05)
        elif data.task == "regression" and spec.values["data"]["kind"] == "views" and len(data.x_val):
            self.mode = "series"
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
        params = [(np.asarray(W, np.float64), np.asarray(b, np.float64)) for W, b in params]
        if (not params or params[0][0].shape[1] != self.data.n_features
                or params[-1][0].shape[0] != self.data.n_outputs or len(params) != len(self.activations) + 1):
            self.params, self.message = None, "these weights do not fit this run's network (configure first)"
            self.refresh()
            return
        self.params = params
        if self.mode == "curve":
            self.contributions = curves.unit_contributions(self.params, self.activations, self.grid_in)
        self._redraw()

    # ------------------------------------------------------------ what is shown (keys u U d i)
    def units(self) -> list[tuple[int, int] | None]:
        """What u / U step through: the output, then every hidden unit, layer by layer."""
        return [None] + [(layer, j) for layer, n in enumerate(self.hidden) for j in range(n)]

    def select_unit(self, delta: int) -> str:
        """The next (or previous) unit; its name."""
        units = self.units()
        i = units.index(self.unit) if self.unit in units else 0
        self.unit = units[(i + delta) % len(units)]
        self._redraw()
        return unit_views.unit_name(self.unit)

    def toggle_discrete(self) -> bool:
        self.discrete = not self.discrete
        self._redraw()
        return self.discrete

    def cycle_points(self) -> str:
        cyc = unit_views.POINTS_CYCLE
        self.points = cyc[(cyc.index(self.points) + 1) % len(cyc)]
        self._redraw()
        return self.points

    # ------------------------------------------------------------ drawing
    def _redraw(self) -> None:
        self.refresh()

    def curve_text(self, width: int, height: int) -> Text:
        """Target, data, bias, units and model on one braille canvas, a legend above it."""
        c = self.contributions
        x = self.grid[:, 0]
        units = c.units.shape[1]
        legend = Text()
        legend.append("▀▄ model", style=MODEL)
        if self.target is not None:
            legend.append("  ⠒ target", style=TARGET)
        legend.append("  ⠂ data", style=DATA)
        legend.append(f"  ⠒ bias {c.bias:.2g}", style=BIAS)
        pair = units == 2 and c.activation == "relu"
        if pair:
            legend.append("  ⠒ relu 1", style=PAIR[0])
            legend.append(" + ⠒ relu 2", style=PAIR[1])
            legend.append(" = hard sigmoid (+ bias)", style="dim")
        elif units:
            legend.append(f"  ⠒ {units} units c·{c.activation}", style=UNITS)
        sel = self.unit[1] if self.unit is not None and self.unit[0] == len(self.hidden) - 1 else -1
        if 0 <= sel < units:
            legend.append(f"  ⠒ {unit_views.unit_name(self.unit)}", style=SELECTED)
        canvas = Canvas(*_plot_area(width, height, legend), (float(x[0]), float(x[-1])), self.y_range)
        for j in [j for j in range(units) if j != sel] + ([sel] if 0 <= sel < units else []):
            canvas.line(x, c.units[:, j], SELECTED if j == sel else PAIR[j] if pair else UNITS)
        canvas.line(x, np.full_like(x, c.bias), BIAS)
        canvas.points(*self.curve_points, DATA)
        if self.target is not None:
            canvas.line(x, self.target, TARGET)
        canvas.line(x, c.prediction, MODEL, bold=True)
        return framed(legend, canvas, "x", width)

    def scatter_text(self, width: int, height: int) -> Text:
        """Predicted against true on the validation rows, with the line predicted = true."""
        d = self.data
        pred = curves.predict(self.params, self.activations, d.x_val)[:, 0]
        true = np.asarray(d.y_val, float).reshape(-1)
        self.rmse = float(np.sqrt(np.mean((pred - true) ** 2)))
        lo, hi = curves.padded_range(np.concatenate([true, pred]), 0.05)  # a poor model stays in view
        legend = Text()
        legend.append(f"• validation RMSE {self.rmse:.3g}", style=MODEL)
        legend.append(f"  x true, y predicted {d.features.target}", style="dim")
        legend.append("  ⠒ ideal", style=UNITS)
        canvas = Canvas(*_plot_area(width, height, legend), (lo, hi), (lo, hi))
        canvas.line(np.array([lo, hi]), np.array([lo, hi]), UNITS)
        keep = _subsample(len(true), MAX_POINTS)
        canvas.marks(true[keep], pred[keep], "•", MODEL)
        return framed(legend, canvas, f"true {d.features.target}", width)

    def series_text(self, width: int, height: int) -> Text:
        """Real and predicted values, day by day, over the validation period (red real, blue predicted)."""
        d = self.data
        pred = curves.predict(self.params, self.activations, d.x_val)[:, 0]
        real = np.asarray(d.y_val, float).reshape(-1)
        day = len(d.x_train) + 1 + np.arange(len(real), dtype=float)
        self.rmse = float(np.sqrt(np.mean((pred - real) ** 2)))
        legend = Text()
        legend.append("⠒ real", style=REAL)
        legend.append("  ▀▄ predicted", style=PREDICTED)
        legend.append(f"  validation days {int(day[0])}-{int(day[-1])}, RMSE {self.rmse:.3g}", style="dim")
        ylim = curves.padded_range(np.concatenate([real, pred]), 0.05)
        canvas = Canvas(*_plot_area(width, height, legend), (float(day[0]), float(day[-1]) + 1e-9), ylim)
        canvas.line(day, real, REAL)
        canvas.line(day, pred, PREDICTED, bold=True)
        return framed(legend, canvas, "day", width)

    def render(self) -> Text:
        size = self.content_size
        if self.data is None or self.params is None or self.mode == "none":
            return Text(self.message, style="dim")
        w, h = size.width, size.height
        if self.mode == "curve" and self.unit is not None and self.unit[0] < len(self.hidden) - 1:
            return self.layer_text(w, h)
        if self.mode == "curve":
            return self.curve_text(w, h)
        if self.mode == "scatter":
            return self.scatter_text(w, h)
        if self.mode == "series":
            return self.series_text(w, h)
        if self.mode == "regions":
            return unit_views.plane_text(self, w, h)
        return self.confusion_text()

    def layer_text(self, width: int, height: int) -> Text:
        """Depth made visible: an earlier hidden layer's units as curves of x, the selected one bold."""
        x, acts, j, legend = unit_views.layer_curves(self)
        return units_as_curves(x, acts, j, legend, width, height, MODEL)

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


AXIS_W = 6  # width of the y tick labels


# ---------------------------------------------------------------- a small character canvas


class Canvas:
    """A plot area of ``cols`` x ``rows`` cells over data limits ``xlim`` x ``ylim``.

    Thin lines and dots are braille (2 x 4 dots a cell; overlapping series share a cell's
    dots, the last one drawn gives its colour); bold lines are quadrant blocks (2 x 2 a cell)
    and marks are whole characters, both drawn over the braille. Everything is NumPy on
    a few hundred points, so a redraw costs about a millisecond.
    """

    def __init__(self, cols: int, rows: int, xlim: tuple[float, float], ylim: tuple[float, float]):
        self.cols, self.rows = cols, rows
        self.xlim, self.ylim = xlim, ylim
        self.bits = np.zeros((rows, cols), np.uint8)  # braille dots
        self.bstyle = np.full((rows, cols), -1)
        self.top = np.full((rows, cols), "", dtype=object)  # blocks and marks
        self.tstyle = np.full((rows, cols), -1)
        self.styles: list[str] = []

    def _dots(self, x, y, kx: int, ky: int) -> tuple[np.ndarray, np.ndarray]:
        (x0, x1), (y0, y1) = self.xlim, self.ylim
        px = np.floor((np.asarray(x, float) - x0) / ((x1 - x0) or 1.0) * self.cols * kx)
        py = np.floor((y1 - np.asarray(y, float)) / ((y1 - y0) or 1.0) * self.rows * ky)
        return px, py

    def _line_dots(self, x, y, kx: int, ky: int) -> tuple[np.ndarray, np.ndarray]:
        """Dots of the curve y(x) sampled once per dot column, joined vertically (x increasing)."""
        x, y = np.asarray(x, float), np.asarray(y, float)
        ok = np.isfinite(x) & np.isfinite(y)
        if ok.sum() < 2:
            return np.zeros(0, int), np.zeros(0, int)
        W, H = self.cols * kx, self.rows * ky
        x0, x1 = self.xlim
        xc = x0 + (np.arange(W) + 0.5) / W * (x1 - x0)
        inside = (xc >= x[ok].min()) & (xc <= x[ok].max())
        _, py = self._dots(xc, np.interp(xc, x[ok], y[ok]), kx, ky)
        cols = np.arange(W)[inside]
        py = np.clip(py[inside], -1, H).astype(int)
        if not len(py):
            return np.zeros(0, int), np.zeros(0, int)
        nxt = np.append(py[1:], py[-1])
        lo = np.where(nxt > py, py, np.where(nxt < py, nxt + 1, py))  # up to, not including, the next
        hi = np.where(nxt > py, nxt - 1, py)
        n = hi - lo + 1
        starts = np.repeat(np.cumsum(n) - n, n)
        rows = np.repeat(lo, n) + (np.arange(n.sum()) - starts)
        return np.repeat(cols, n), rows

    def _keep(self, px, py, kx: int, ky: int) -> tuple[np.ndarray, np.ndarray]:
        ok = (px >= 0) & (px < self.cols * kx) & (py >= 0) & (py < self.rows * ky)
        return px[ok].astype(int), py[ok].astype(int)

    def _style(self, style: str) -> int:
        self.styles.append(style)
        return len(self.styles) - 1

    def _braille(self, px, py, style: str) -> None:
        px, py = self._keep(px, py, 2, 4)
        r, c = py // 4, px // 2
        np.bitwise_or.at(self.bits, (r, c), BRAILLE_BITS[py % 4, px % 2])
        self.bstyle[r, c] = self._style(style)

    def line(self, x, y, style: str, bold: bool = False) -> None:
        if not bold:
            self._braille(*self._line_dots(x, y, 2, 4), style)
            return
        px, py = self._keep(*self._line_dots(x, y, 2, 2), 2, 2)
        q = np.zeros((self.rows, self.cols), np.uint8)
        np.bitwise_or.at(q, (py // 2, px // 2), QUAD_BITS[py % 2, px % 2])
        hit = q > 0
        self.top[hit] = [QUADRANTS[i] for i in q[hit]]
        self.tstyle[hit] = self._style(style)

    def points(self, x, y, style: str) -> None:
        self._braille(*self._dots(x, y, 2, 4), style)

    def marks(self, x, y, char: str, style: str) -> None:
        px, py = self._keep(*self._dots(x, y, 1, 1), 1, 1)
        self.top[py, px] = char
        self.tstyle[py, px] = self._style(style)

    def row_text(self, r: int) -> Text:
        """One row of cells as styled text (runs of one style appended together)."""
        out = Text()
        run, run_style = [], -1
        for c in range(self.cols):
            if self.top[r, c]:
                ch, st = self.top[r, c], self.tstyle[r, c]
            elif self.bits[r, c]:
                ch, st = chr(0x2800 + int(self.bits[r, c])), self.bstyle[r, c]
            else:
                ch, st = " ", -1
            if st != run_style and run:
                out.append("".join(run), style=self.styles[run_style] if run_style >= 0 else "")
                run = []
            run.append(ch)
            run_style = st
        if run:
            out.append("".join(run), style=self.styles[run_style] if run_style >= 0 else "")
        return out


def _plot_area(width: int, height: int, legend: Text | None = None) -> tuple[int, int]:
    """Cells left for the canvas inside a framed plot (legend above - as many lines as it wraps to -, axis
    labels left and below)."""
    lines = len(legend_lines(legend, width)) if legend is not None else 1
    return max(width - AXIS_W - 1, 4), max(height - 1 - lines, 2)


def legend_lines(legend: Text, width: int, most: int = 3) -> list[Text]:
    """The legend wrapped between its entries (two spaces apart) so nothing is cut; at most ``most``
    lines, the last one shortened with an ellipsis only when even that is not enough."""
    plain, width = legend.plain, max(width, 1)
    cuts = [m.start() for m in re.finditer(r"  (?=\S)", plain)] + [len(plain)]
    lines, start, end = [], 0, 0
    for cut in cuts:
        if cut - start > width and end > start:  # the entries so far fill a line: break before this one
            lines.append((start, end))
            start = end + 2
        end = cut
    lines.append((start, len(plain)))
    if len(lines) > most:
        lines = lines[:most - 1] + [(lines[most - 1][0], len(plain))]
    out = []
    for a, b in lines:
        t = legend[a:b]
        t.truncate(width, overflow="ellipsis")
        out.append(t)
    return out


def units_as_curves(x, acts, j: int, legend: Text, width: int, height: int, selected: str) -> Text:
    """A layer's units (columns of ``acts``) as curves of x, unit ``j`` drawn last, bold, in ``selected``."""
    canvas = Canvas(*_plot_area(width, height, legend), (float(x[0]), float(x[-1])), curves.padded_range(acts, 0.1))
    for k in range(acts.shape[1]):
        if k != j:
            canvas.line(x, acts[:, k], UNITS)
    canvas.line(x, acts[:, j], selected, bold=True)
    return framed(legend, canvas, "x", width)


def framed(legend: Text, canvas: Canvas, x_name: str, width: int) -> Text:
    """The legend (wrapped), the canvas with y ticks on its left, and the x range and name below it."""
    lines = legend_lines(legend, width)
    (x0, x1), (y0, y1) = canvas.xlim, canvas.ylim
    rows = canvas.rows
    ticks = {0: y1 - 0.5 * (y1 - y0) / rows, rows - 1: y0 + 0.5 * (y1 - y0) / rows}
    if rows >= 5:
        ticks[rows // 2] = y1 - (rows // 2 + 0.5) * (y1 - y0) / rows
    for r in range(rows):
        line = Text(f"{_tick(ticks[r]):>{AXIS_W}}┤" if r in ticks else " " * AXIS_W + "│", style="dim")
        line.append_text(canvas.row_text(r))
        lines.append(line)
    left, right = _tick(x0), _tick(x1)
    mid = max(canvas.cols - len(left) - len(right), 1)
    lines.append(Text(" " * (AXIS_W + 1) + left + f"{x_name:^{mid}}"[:mid] + right, style="dim"))
    for line in lines:
        line.truncate(width)
    return Text("\n").join(lines)

"""Several runs' loss curves on one plot (textual-plotext): one line a run, or for a sweep's setting
a median line with its seeds' min-max as two thin lines (a band), or every seed as a thin line.
Log or linear y; whole-number x ticks for epochs and updates. The legend is drawn beside the plot
(``legend_text``), so it never covers a curve and names each series' colour and marker."""

from __future__ import annotations

import math

from dltui.tui.widgets.loss_plot import _label, _y, value_ticks
from rich.text import Text
from textual_plotext import PlotextPlot

COLORS = ("cyan", "orange", "green", "magenta", "red", "blue", "yellow", "white")
# without colour (NO_COLOR) each series gets its own marker, named in the legend
MARKERS = ("+", "x", "o", "*", "#", "@", "%", "=", "$", "&")
RICH_NAMES = {"orange": "dark_orange"}  # plotext's colour names rich spells otherwise
LINE = "braille"  # thin lines that stay readable where they cross


def int_ticks(lo: float, hi: float, n: int = 5) -> list[int]:
    """About ``n`` whole-number ticks over [lo, hi], on a 1-2-5 step."""
    span = max(hi - lo, 1.0)
    raw = span / max(n - 1, 1)
    mag = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next((m * mag for m in (1, 2, 5, 10) if m * mag >= raw), 10 * mag)
    step = max(1, int(step))
    first = int(math.ceil(lo / step) * step)
    return list(range(first, int(math.floor(hi)) + 1, step))


def legend_text(series: list[dict], no_color: bool) -> Text:
    """One entry per labelled series: its line (in its colour) or its marker (without colour)."""
    out = Text()
    for i, s in enumerate(series):
        if not s.get("label"):
            continue
        if out:
            out.append("   ")
        color = s.get("color") or COLORS[i % len(COLORS)]
        mark = s.get("marker", LINE)
        style = "" if no_color else RICH_NAMES.get(color, color)
        out.append(f"{mark}{mark}" if no_color and mark != LINE else "━━", style=style)
        out.append(f" {s['label']}")
    return out


class ComparePlot(PlotextPlot):
    """``show(series, x_label, log)``: each series is {label, x, y} or {label, x, lo, mid, hi}, with an
    optional ``color`` (default: the next in COLORS) and ``marker`` (default: braille)."""

    DEFAULT_CSS = """
    ComparePlot { height: 1fr; min-height: 8; }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.series: list[dict] = []
        self.x_label, self.log_y = "epoch", True

    def show(self, series: list[dict], x_label: str, log: bool) -> None:
        self.series, self.x_label, self.log_y = series, x_label, log
        self._draw()

    def on_mount(self) -> None:
        super().on_mount()
        self._draw()

    def _draw(self) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(f"loss ({'log' if self.log_y else 'linear'})")
        plt.xlabel(self.x_label)
        ys: list[float] = []
        xs: list[float] = []
        for i, s in enumerate(self.series):
            color = s.get("color") or COLORS[i % len(COLORS)]
            marker = s.get("marker", LINE)
            parts = ("lo", "hi", "mid") if "mid" in s else ("y",)
            for part in parts:
                ys += self._line(s["x"], s[part], color, marker)
            xs += list(s["x"])
        if ys:
            lo, hi = min(ys), max(ys)
            if hi - lo < 1e-9:
                lo, hi = lo - 0.5, hi + 0.5
            ticks = value_ticks(lo, hi)
            plt.yticks(ticks, [_label(t, self.log_y) for t in ticks])
        if xs and self.x_label in ("epoch", "updates"):
            ticks = int_ticks(min(xs), max(xs))
            plt.xticks(ticks, [str(t) for t in ticks])
        self.refresh()

    def _line(self, xs, values, color: str, marker: str) -> list[float]:
        pts = [(x, _y(v, self.log_y)) for x, v in zip(xs, values)]
        pts = [(x, y) for x, y in pts if y is not None]
        if not pts:
            return []
        self.plt.plot([p[0] for p in pts], [p[1] for p in pts], marker=marker, color=color)
        return [p[1] for p in pts]

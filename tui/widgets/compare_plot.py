"""Several runs' loss curves on one plot (textual-plotext), with a legend: one line a run, or for a
sweep's setting a median line with its seeds' min-max as two thin lines (a band), or every seed
as a thin line. Log or linear y."""

from __future__ import annotations

import math

from textual_plotext import PlotextPlot

COLORS = ("cyan", "orange", "green", "magenta", "red", "blue", "yellow", "white")


def _y(v: float, log: bool) -> float | None:
    if v is None or not math.isfinite(v):
        return None
    return math.log10(max(v, 1e-12)) if log else v


class ComparePlot(PlotextPlot):
    """``show(series, x_label, log)``: each series is {label, x, y} or {label, x, lo, mid, hi}, with an
    optional ``color`` (default: the next in COLORS) and ``marker``."""

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
        for i, s in enumerate(self.series):
            color = s.get("color") or COLORS[i % len(COLORS)]
            if "mid" in s:
                for part, marker in (("lo", "dot"), ("hi", "dot")):
                    ys += self._line(s["x"], s[part], color, marker, None)
                ys += self._line(s["x"], s["mid"], color, "braille", s["label"])
            else:
                ys += self._line(s["x"], s["y"], color, s.get("marker", "braille"), s["label"])
        if ys:
            lo, hi = min(ys), max(ys)
            if hi - lo < 1e-9:
                lo, hi = lo - 0.5, hi + 0.5
            ticks = [lo + (hi - lo) * k / 3 for k in range(4)]
            plt.yticks(ticks, [f"{(10 ** t if self.log_y else t):.2g}" for t in ticks])
        self.refresh()

    def _line(self, xs, values, color: str, marker: str, label: str | None) -> list[float]:
        pts = [(x, _y(v, self.log_y)) for x, v in zip(xs, values)]
        pts = [(x, y) for x, y in pts if y is not None]
        if not pts:
            return []
        kw = {"label": label} if label else {}
        self.plt.plot([p[0] for p in pts], [p[1] for p in pts], marker=marker, color=color, **kw)
        return [p[1] for p in pts]

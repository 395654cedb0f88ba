"""The pictures the network view (``network_view.py``) is made of, as plain Rich text.

- ``thumbnails``: what every unit of every layer computes, one small picture each, all from one forward
  pass on a few dozen inputs: over the plane for 2-D sets (glyph density " .:-=+*#%@", so it reads with
  NO_COLOR; shaded backgrounds as a bonus), its curve over x for 1-D sets (braille), and for other data
  (CSV, series) the histogram of its activations over training rows.
- ``edge_glyph``: one weight as one character: its sign by the line's style (solid + / dashed -), its
  size by the line's weight (thick: at least half the layer's largest |w|, thin: at least a tenth,
  a dot: smaller). Colour (blue +, orange -, as Playground) is a bonus.
- ``sparkline``: a row of values as bar heights (a wide layer's summary).
"""

from __future__ import annotations

import numpy as np
from dltui.core.engine import curves
from dltui.tui.widgets.learned_plot import Canvas
from dltui.tui.widgets.unit_views import RAMP, SHADES
from rich.text import Text

BARS = "▁▂▃▄▅▆▇█"
POSITIVE, NEGATIVE = "dodger_blue1", "dark_orange"
THICK, THIN = 0.5, 0.1  # shares of the layer's largest |w|
EDGE_LEGEND = "edges in: ━ ─ + · ╍ ╌ − (thick: ≥ half the layer's largest |w|) · dot: small"
HIST_ROWS = 256  # training rows a histogram thumbnail is taken over (at most)


def picture_kind(data) -> str:
    """plane (2-D raw inputs), curve (1-D), rows (anything else: CSV, series)."""
    raw = data.raw_train
    if raw is not None and raw.ndim == 2 and raw.shape[1] in (1, 2) and len(raw):
        return "plane" if raw.shape[1] == 2 else "curve"
    return "rows"


def layer_outputs(data, params, activations, kind: str, tw: int, th: int) -> tuple[list[np.ndarray], object]:
    """Every layer's outputs [n, units] (the output layer: class probabilities for classification) on the
    inputs the thumbnails are drawn over, and those inputs' x (curve) or None."""
    xs = None
    if kind == "plane":
        raw = data.raw_train
        raw = curves.plane(curves.padded_range(raw[:, 0], 0.05), curves.padded_range(raw[:, 1], 0.05), tw, th)
        x = data.features.encode(raw)
    elif kind == "curve":
        xs = curves.grid_1d(data.raw_train, tw * 2)
        x = data.features.encode(xs)
        xs = xs[:, 0]
    else:
        x = data.x_train[np.linspace(0, len(data.x_train) - 1, min(HIST_ROWS, len(data.x_train))).astype(int)]
    with np.errstate(all="ignore"):
        outs = curves.forward_all(params, activations, x)
        if data.task == "classification":
            outs[-1] = curves.class_probabilities(params, activations, x)
    return outs, xs


def thumbnail(values: np.ndarray, act: str, kind: str, tw: int, th: int, xs=None) -> list[Text]:
    """One unit's picture: ``th`` rows of ``tw`` cells (a histogram: one row)."""
    v = np.nan_to_num(np.asarray(values, np.float64), nan=0.0, posinf=1e300, neginf=-1e300)
    if kind == "plane":
        lo, hi = curves.activation_range(act, v) if act else curves.padded_range(v, 0.0)
        level = np.clip((v - lo) / ((hi - lo) or 1.0), 0.0, 1.0).reshape(th, tw)
        idx = np.minimum((level * len(RAMP)).astype(int), len(RAMP) - 1)
        return [_runs([(RAMP[k], SHADES[k]) for k in idx[r]]) for r in range(th)]
    if kind == "curve":
        canvas = Canvas(tw, th, (float(xs[0]), float(xs[-1])), curves.padded_range(v, 0.1))
        canvas.line(xs, v, "cyan")
        return [canvas.row_text(r) for r in range(th)]
    counts, _ = np.histogram(v[np.isfinite(v)], bins=tw) if np.isfinite(v).any() else (np.zeros(tw), None)
    return [sparkline(counts, tw)]


def sparkline(values, width: int) -> Text:
    """Values as bar heights, scaled to the largest (at most ``width`` of them, averaged in groups)."""
    v = np.abs(np.asarray(values, np.float64))
    if len(v) > width:
        v = np.array([g.mean() for g in np.array_split(v, width)])
    top = v.max() if len(v) and v.max() > 0 else 1.0
    return Text("".join(BARS[min(int(x / top * (len(BARS) - 1) + 0.5), len(BARS) - 1)] for x in v), style="cyan")


def edge_glyph(w: float, scale: float) -> tuple[str, str]:
    """(character, style) for one weight, ``scale`` being the layer's largest |w|."""
    share = abs(w) / scale if scale > 0 else 0.0
    style = POSITIVE if w >= 0 else NEGATIVE
    if share >= THICK:
        return ("━" if w >= 0 else "╍"), "bold " + style
    if share >= THIN:
        return ("─" if w >= 0 else "╌"), style
    return "·", "dim " + style


def fan_in(W_row: np.ndarray, scale: float, width: int, rows: int, edge: int | None) -> list[Text]:
    """A unit's incoming weights, one glyph each in the order of the layer before (``rows`` lines of
    ``width``), the selected edge reversed; more than fit: their count and signs instead."""
    n = len(W_row)
    if n > width * rows:
        pos = int((W_row > 0).sum())
        lines = [Text(f"{n} in"[:width], style="dim"), Text(f"+{pos} −{n - pos}"[:width], style="dim")]
        return (lines + [Text("")] * rows)[:rows]
    out = []
    for r in range(rows):
        cells = []
        for i in range(r * width, min((r + 1) * width, n)):
            ch, st = edge_glyph(float(W_row[i]), scale)
            cells.append((ch, st + (" reverse" if i == edge else "")))
        out.append(_runs(cells))
    return out


def _runs(cells: list[tuple[str, str]]) -> Text:
    """(character, style) cells as one Text, neighbours of one style appended together (fewer spans)."""
    t = Text()
    run, style = "", None
    for ch, st in cells:
        if st != style and run:
            t.append(run, style=style)
            run = ""
        run, style = run + ch, st
    if run:
        t.append(run, style=style)
    return t

"""Every neuron visible: the drawings ``LearnedPlot`` uses when a unit is selected (keys u / U).

- ``plane_text``: a 2-D set's plane at one cell per character. With no unit selected it is the
  network's output: shaded by confidence (glyph density " .:-=+*#%@" from class 0 to class 1, so it
  reads with NO_COLOR) or, discretized (key d), the predicted class only. With a hidden unit selected
  it is that unit's output over the plane (Playground's per-neuron picture), on its activation's scale.
  Training points, validation points or both (key i) are drawn over it as o x (train) / O X (val).
- ``layer_curves``: a 1-D net's hidden layer as curves of x, one per unit, the selected one bold:
  depth made visible (a deeper layer's units have more kinks).
"""

from __future__ import annotations

import numpy as np
from dltui.core.engine import curves
from rich.color import Color, blend_rgb
from rich.text import Text

RAMP = " .:-=+*#%@"  # glyph density: low to high
TRAIN_MARKS, VAL_MARKS = "ox+*#", "OX&$%"
REGION_CHARS = " ░▒▓·"
LOW, HIGH = "#16304a", "#4a2e10"  # class 0 / low values, class 1 / high values (backgrounds)
FG_LOW, FG_HIGH = "dodger_blue1", "dark_orange"
POINTS_CYCLE = ("train", "val", "both")
LABEL_W = 6


def _shades(levels: int) -> list[str]:
    """Background styles from LOW to HIGH in ``levels`` steps (a few styles, not one per cell)."""
    a, b = Color.parse(LOW).triplet, Color.parse(HIGH).triplet
    fa, fb = Color.parse(FG_LOW).get_truecolor(), Color.parse(FG_HIGH).get_truecolor()
    out = []
    for i in range(levels):
        t = i / max(levels - 1, 1)
        bg, fg = Color.from_triplet(blend_rgb(a, b, t)), Color.from_triplet(blend_rgb(fa, fb, t))
        out.append(f"{fg.name} on {bg.name}")
    return out


SHADES = _shades(len(RAMP))


def unit_name(unit: tuple[int, int] | None) -> str:
    return "output" if unit is None else f"unit {unit[0] + 1}.{unit[1] + 1}"


def plane_values(plot, nx: int, ny: int) -> tuple[np.ndarray, np.ndarray, str, np.ndarray | None]:
    """(level in 0..1 per cell [ny, nx], the raw values, what they are, the predicted class per cell
    for the output) for the selection."""
    raw = curves.plane(plot.x1_range, plot.x2_range, nx, ny)
    x = plot.data.features.encode(raw)
    if plot.unit is not None:
        layer, j = plot.unit
        v = curves.unit_output(plot.params, plot.activations, x, layer, j).reshape(ny, nx)
        lo, hi = curves.activation_range(plot.activations[layer], v)
        return (np.clip((v - lo) / (hi - lo), 0.0, 1.0), v, f"{plot.activations[layer]} {lo:.2g}..{hi:.2g}",
                None)
    if plot.data.task == "regression":  # Playground's plane and multi gaussian: the value, on the target's scale
        v = curves.predict(plot.params, plot.activations, x)[:, 0].reshape(ny, nx)
        lo, hi = curves.padded_range(np.asarray(plot.data.y_train, float), 0.0)
        return np.clip((v - lo) / ((hi - lo) or 1.0), 0.0, 1.0), v, f"value {lo:.2g}..{hi:.2g}", None
    p = curves.class_probabilities(plot.params, plot.activations, x)
    classes = p.argmax(1).reshape(ny, nx)
    if p.shape[1] == 2:
        v = p[:, 1].reshape(ny, nx)
        return v, v, "p(class 1)", classes
    conf = p.max(1).reshape(ny, nx)
    return conf, conf, "confidence", classes


def _point_cells(plot, rows_cols, nx: int, ny: int) -> dict[tuple[int, int], str]:
    """The mark drawn in each cell that holds points (the majority class of the split drawn last)."""
    d, marks = plot.data, {}
    splits = {"train": [(d.raw_train, d.y_train, TRAIN_MARKS)], "val": [(d.raw_val, d.y_val, VAL_MARKS)]}
    splits["both"] = splits["train"] + splits["val"]
    for raw, y, chars in splits[plot.points]:
        if raw is None or not len(raw):
            continue
        r, c = rows_cols(raw)
        labels = np.asarray(y, int)
        counts = np.zeros((ny, nx, max(labels.max() + 1, 2)), int)
        np.add.at(counts, (r, c, labels), 1)
        for rr, cc in zip(*np.nonzero(counts.sum(2))):
            marks[(int(rr), int(cc))] = chars[int(counts[rr, cc].argmax()) % len(chars)]
    return marks


def plane_text(plot, width: int, height: int) -> Text:
    """The plane for the selection (see the module doc), a legend above, the axes' ranges around it."""
    nx, ny = min(max(width - LABEL_W, 8), 160), min(max(height - 2, 3), 80)
    level, values, what, classes = plane_values(plot, nx, ny)
    plot.heat = values
    grid = curves.DecisionGrid(classes if classes is not None else np.zeros((ny, nx), int), np.zeros(nx),
                               np.zeros(ny), plot.x1_range, plot.x2_range)
    plot.decision = grid if classes is not None else None
    marks = {} if plot.data.task == "regression" else _point_cells(plot, lambda raw: curves.cell_of(raw, grid), nx, ny)
    discrete = plot.discrete and plot.unit is None and classes is not None
    out = Text(no_wrap=True, overflow="crop")
    out.append_text(_legend(plot, what, discrete, width))
    out.append("\n")
    idx = np.minimum((level * len(RAMP)).astype(int), len(RAMP) - 1)
    for r in range(ny):
        yl = _tick(plot.x2_range[1]) if r == 0 else _tick(plot.x2_range[0]) if r == ny - 1 else (
            "x2" if r == ny // 2 else "")
        out.append(f"{yl:>{LABEL_W - 1}}│", style="dim")
        for c in range(nx):
            k = int(idx[r, c])
            if discrete:
                cls = int(classes[r, c])
                k = (len(RAMP) - 1) * min(cls, 1)
                ch = REGION_CHARS[cls % len(REGION_CHARS)]
            else:
                ch = RAMP[k]
            mark = marks.get((r, c))
            out.append(mark or ch, style=("bold " if mark else "") + SHADES[k])
        out.append("\n")
    left, right = _tick(plot.x1_range[0]), _tick(plot.x1_range[1])
    out.append(" " * LABEL_W + f"{left}{'x1':^{max(nx - len(left) - len(right), 2)}}{right}", style="dim")
    return out


def _legend(plot, what: str, discrete: bool, width: int) -> Text:
    legend = Text()
    legend.append(unit_name(plot.unit), style="bold")
    if plot.unit is None:
        scale = "' '=0 … '@'=1" if plot.data.task != "regression" else "' ' low … '@' high"
        legend.append(" (predicted class)" if discrete else f" {what}: {scale}", style="dim")
        if plot.data.task == "classification" and plot.params is not None:
            pred = curves.predict(plot.params, plot.activations, plot.data.x_train).argmax(1)
            legend.append(f"  acc {float((pred == np.asarray(plot.data.y_train)).mean()):.0%}", style="bold")
    else:
        legend.append(f" {what}: ' ' low … '@' high", style="dim")
    pts = {"train": "o x train", "val": "O X validation", "both": "o x train, O X val"}[plot.points]
    if plot.data.task == "regression":  # a surface: points over it would hide it
        pts = "the training targets span this range"
    legend.append(f"  {pts}", style="dim")
    legend.truncate(width, overflow="ellipsis")
    return legend


def layer_curves(plot) -> tuple[np.ndarray, np.ndarray, int, Text]:
    """A 1-D net's hidden layer (the selected unit's) as curves of x: (x, activations [n, units],
    the selected unit, a legend). ``LearnedPlot`` draws them, the selected one bold."""
    layer, j = plot.unit
    acts = curves.forward_all(plot.params, plot.activations, plot.grid_in)[layer]
    legend = Text()
    legend.append(f"layer {layer + 1}: {acts.shape[1]} units as curves of x ({plot.activations[layer]})",
                  style="grey50")
    legend.append(f"  ▀▄ {unit_name(plot.unit)}", style="bold cyan")
    return plot.grid[:, 0], acts, j, legend


def _tick(v: float) -> str:
    return f"{v:.3g}"

"""The step-through as plain text (what `dltui trace` prints), and the text layout the app's stage
view shares: numbers, matrix windows, side-by-side columns."""

from __future__ import annotations

import numpy as np
from dltui.core.engine.stages import Block, _g, stages
from dltui.core.engine.trace import Trace


def fmt_number(v: float) -> str:
    v = float(v)
    if v == 0.0:
        return "0"
    if 1e-3 <= abs(v) < 1e4:
        return f"{v:.4g}"
    return f"{v:.2e}"


def matrix_cells(value: np.ndarray, row0: int = 0, col0: int = 0, max_rows: int = 8,
                 max_cols: int = 6) -> tuple[list[list[str]], dict]:
    """The visible window of a vector (shown as a column) or matrix, as strings, with what was cut:
    {"rows": (first, last, total), "cols": (first, last, total)}."""
    m = np.asarray(value, np.float64)
    if m.ndim == 0:
        m = m.reshape(1, 1)
    elif m.ndim == 1:
        m = m[:, None]
    R, K = m.shape
    row0 = max(0, min(row0, R - max_rows)) if R > max_rows else 0
    col0 = max(0, min(col0, K - max_cols)) if K > max_cols else 0
    r1, c1 = min(R, row0 + max_rows), min(K, col0 + max_cols)
    cells = [[fmt_number(v) for v in m[r, col0:c1]] for r in range(row0, r1)]
    return cells, {"rows": (row0, r1, R), "cols": (col0, c1, K)}


def block_lines(block: Block, row0: int = 0, col0: int = 0, max_rows: int = 8,
                max_cols: int = 6) -> list[str]:
    """A block as aligned text lines: its label and shape, then the numbers between bars;
    rows and columns outside the window are marked with ⋮ and …."""
    cells, cut = matrix_cells(block.value, row0, col0, max_rows, max_cols)
    width = max((len(c) for row in cells for c in row), default=1)
    (r0, r1, R), (c0, c1, K) = cut["rows"], cut["cols"]
    shape = f"{R}" if np.asarray(block.value).ndim <= 1 else f"{R}×{K}"
    lines = [block.label, f"[{shape}{', batch' if block.scope == 'batch' else ''}]"]
    if r0 > 0:
        lines.append(f"⋮ {r0} above")
    for row in cells:
        left = "… " if c0 > 0 else ""
        right = " …" if c1 < K else ""
        lines.append("│" + left + " ".join(c.rjust(width) for c in row) + right + "│")
    if r1 < R:
        lines.append(f"⋮ {R - r1} more")
    return lines


def lay_out(columns: list[list[str]], width: int, gap: int = 3) -> list[list[tuple[int, int, list[str]]]]:
    """Put text columns side by side, starting a new band when ``width`` is full.
    Returns bands; each band is a list of (column index, its width, its lines)."""
    bands: list[list[tuple[int, int, list[str]]]] = [[]]
    used = 0
    for k, lines in enumerate(columns):
        w = max((len(ln) for ln in lines), default=0)
        if bands[-1] and used + gap + w > width:
            bands.append([])
            used = 0
        used += (gap if bands[-1] else 0) + w
        bands[-1].append((k, w, lines))
    return bands


def side_by_side(columns: list[list[str]], width: int, gap: int = 3, indent: str = "") -> list[str]:
    out = []
    for band in lay_out(columns, width - len(indent), gap):
        height = max(len(lines) for _, _, lines in band)
        for r in range(height):
            row = (" " * gap).join((lines[r] if r < len(lines) else "").ljust(w) for _, w, lines in band)
            out.append((indent + row).rstrip())
        out.append("")
    return out[:-1]


def _wrap(text: str, width: int, indent: str) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width, initial_indent=indent, subsequent_indent=indent) or [indent]


def trace_text(trace: Trace, sample: int | None = None, max_rows: int = 8, max_cols: int = 6,
               width: int = 100) -> str:
    """The step-through as plain text, one block per stage (what `dltui trace` prints).
    Arrays computed at a stage are marked with *."""
    s = trace.extra.get("sample", 0) if sample is None else sample
    b = trace.extra.get("batch")
    sizes = [trace.layers[0].W.shape[1]] + [lt.W.shape[0] for lt in trace.layers] if trace.layers else []
    head = [f"trace · {trace.backend} · net {'-'.join(map(str, sizes))} "
            f"({'/'.join(lt.activation for lt in trace.layers)}) · loss {trace.loss} · C = {_g(trace.C)}"]
    if b:
        if "row_ids" in b:
            ids = b["row_ids"]
            shown = ", ".join(map(str, ids[:8])) + (", ..." if len(ids) > 8 else "")
            head.append(f"mini-batch {b['index'] + 1} of {b['count']} in this epoch's shuffled order "
                        f"({b['size']} samples: training rows {shown}); showing sample {s} of the batch "
                        f"(training row {ids[s]})")
        else:
            r0, r1 = b["rows"]
            head.append(f"mini-batch {b['index']} of {b['count']} (training rows {r0}..{r1 - 1}, {b['size']} "
                        f"samples); showing sample {s} of the batch (training row {r0 + s})")
    head += _wrap("Vectors are this sample's column. Arrays marked 'batch' (W, b, ∂C/∂W, ∂C/∂b, the updates) "
                  "belong to the whole mini-batch, with C its mean loss. * marks what each stage computes.",
                  width, "")
    out = ["\n".join(head)]
    for n, st in enumerate(stages(trace, s), 1):
        lines = [f"── {n}. {st.title} ({st.key}) " + "─" * max(0, width - 10 - len(st.title)),
                 f"  {st.formula}"]
        lines += [f"  {f}" for f in st.facts]
        cols = []
        for blk in st.blocks:
            bl = block_lines(blk, max_rows=max_rows, max_cols=max_cols)
            cols.append([("* " if blk.new else "") + bl[0]] + bl[1:])
        lines += [""] + side_by_side(cols, width, indent="  ") + [""]
        lines += _wrap("why: " + st.reading, width, "  ")
        out.append("\n".join(lines))
    return "\n\n".join(out) + "\n"

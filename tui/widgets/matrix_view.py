"""One layer's weight matrix W [out, in] and its gradient ∇W, as numbers.

Each matrix gets a common scale (``×1e-3`` in its heading) so every entry is a short
``-0.12``-style number; positive entries are cyan, negative red, large ones bold and
small ones dim, and the sign is always written, so it reads without colour too.
Matrices larger than the panel show their first and last rows and columns with ``…``
/ ``⋮`` between them, and the heading states the full shape and what is shown.
Side by side when the panel is wide enough, stacked otherwise.
"""

from __future__ import annotations

import math

import numpy as np
from rich.text import Text
from textual.widget import Widget

CELL = 6  # characters per number column: " -0.12"
LABEL = 4  # row labels: "  12"
ELLIPSIS_COL = " …"
GAP = " │ "


def pick(n: int, k: int) -> list[int | None]:
    """Indices to show of n when k slots fit: all of them, or the first and last with None between."""
    if n <= k:
        return list(range(n))
    k = max(k, 3)
    head = (k - 1 + 1) // 2
    tail = k - 1 - head
    return [*range(head), None, *range(n - tail, n)]


def scale_of(M: np.ndarray) -> int:
    """The power of ten that brings the largest |entry| into [1, 10) — 0 when it already is
    in [0.1, 10), so ordinary weights print without a scale."""
    finite = np.abs(M[np.isfinite(M)])
    m = float(finite.max()) if finite.size else 0.0
    if m == 0.0:
        return 0
    k = math.floor(math.log10(m))
    if round(m / 10.0**k, 2) >= 10:
        k += 1
    return 0 if k in (-1, 0) else k


def entry(v: float, scale: int, maxabs: float) -> Text:
    """One entry, scaled by 10**-scale, right-aligned in CELL characters, coloured by sign."""
    if not math.isfinite(v):
        return Text(f"{'nan' if math.isnan(v) else 'inf':>{CELL}}", style="bold red reverse")
    s = v / 10.0**scale
    txt = f"{s:>{CELL}.2f}"
    if v == 0.0:
        return Text(f"{'0':>{CELL}}", style="dim")
    rel = abs(v) / maxabs if maxabs > 0 else 0.0
    color = "cyan" if v > 0 else "red"
    style = f"bold {color}" if rel >= 0.5 else (f"dim {color}" if rel < 0.1 else color)
    return Text(txt, style=style)


def render_matrix(name: str, M: np.ndarray, max_rows: int, max_cols: int, width: int = 1000) -> list[Text]:
    """The lines of one matrix block: heading (at most ``width`` wide), column indices, rows
    (at most max_rows of them)."""
    M = np.asarray(M, np.float64)
    if M.ndim == 1:
        M = M.reshape(-1, 1)
    n_out, n_in = M.shape
    rows, cols = pick(n_out, max(max_rows, 1)), pick(n_in, max(max_cols, 1))
    sc = scale_of(M)
    finite = np.abs(M[np.isfinite(M)])
    maxabs = float(finite.max()) if finite.size else 0.0
    head = Text(f"{name} ", style="bold")
    head.append(f"[{n_out}×{n_in}]")
    if sc:
        head.append(f" ×1e{sc}", style="bold yellow")
    shown_r = sum(r is not None for r in rows)
    shown_c = sum(c is not None for c in cols)
    dims = ((shown_r, n_out, "rows"), (shown_c, n_in, "cols"))
    cut = [f"{a}/{n} {what}" for a, n, what in dims if a < n]
    if cut:
        head.append(f" {', '.join(cut)}", style="dim")
    idx = Text(" " * LABEL, style="dim")
    for c in cols:
        idx.append(ELLIPSIS_COL if c is None else f"{c + 1:>{CELL}}", style="dim")
    head.truncate(max(width, block_width(cols)), overflow="ellipsis")
    lines = [head, idx]
    for r in rows:
        if r is None:
            line = Text(f"{'⋮':>{LABEL}}", style="dim")
            for c in cols:
                line.append("  " if c is None else f"{'⋮':>{CELL}}", style="dim")
            lines.append(line)
            continue
        line = Text(f"{r + 1:>{LABEL}}", style="dim")
        for c in cols:
            line.append_text(Text(ELLIPSIS_COL, style="dim") if c is None else entry(M[r, c], sc, maxabs))
        lines.append(line)
    return lines


def _count(n: int, slots: int) -> int:
    """How many of n entries ``pick`` shows in this many slots."""
    return sum(i is not None for i in pick(n, max(slots, 1)))


def block_width(n_cols_shown: list[int | None]) -> int:
    return LABEL + sum(len(ELLIPSIS_COL) if c is None else CELL for c in n_cols_shown)


def cols_that_fit(width: int, n_in: int) -> int:
    """How many column slots (numbers, or the ellipsis taking one) fit in ``width`` characters."""
    if n_in * CELL + LABEL <= width:
        return n_in
    return max(3, min(n_in - 1, (width - LABEL - len(ELLIPSIS_COL)) // CELL + 1))


class MatrixView(Widget):
    """W and ∇W of the selected layer; ``show(title, W, dW)`` replaces what is shown."""

    DEFAULT_CSS = """
    MatrixView {
        height: 1fr;
        width: 1fr;
        overflow: hidden;
        text-wrap: nowrap;
        text-overflow: clip;
    }
    """

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.title = ""
        self.W: np.ndarray | None = None
        self.dW: np.ndarray | None = None

    def show(self, title: str, W: np.ndarray, dW: np.ndarray | None = None) -> None:
        self.title = title
        self.border_title = title
        self.W = np.array(W, dtype=np.float64, copy=True)
        self.dW = None if dW is None else np.array(dW, dtype=np.float64, copy=True)
        self.refresh()

    def clear(self) -> None:
        self.W = self.dW = None
        self.refresh()

    # ------------------------------------------------------------ drawing
    def _has_border(self) -> bool:
        return self.styles.border_top[0] not in ("", "none", "hidden")

    def layout_lines(self, width: int, height: int) -> list[Text]:
        """The whole view for a ``width`` x ``height`` region (also what the tests read)."""
        if self.W is None:
            return [Text("select a layer in the table to see its weights", style="dim")]
        lines: list[Text] = []
        if self.title and not self._has_border():
            lines.append(Text(self.title, style="bold"))
        height = max(height - len(lines), 4)
        mats = [("W", self.W)] + ([("∇W", self.dW)] if self.dW is not None else [])
        n_out, n_in = self.W.shape if self.W.ndim == 2 else (len(self.W), 1)
        half = (width - len(GAP)) // 2
        rows_each = max((height - 4 - 1) // 2, 1)
        # side by side or stacked: whichever shows more entries (ties: side by side)
        shown_side = _count(n_out, height - 2) * _count(n_in, cols_that_fit(half, n_in))
        shown_stacked = _count(n_out, rows_each) * _count(n_in, cols_that_fit(width, n_in))
        side = len(mats) == 2 and shown_side >= shown_stacked and cols_that_fit(half, n_in) >= min(n_in, 3)
        if side or len(mats) == 1:
            w = half if side else width
            blocks = [render_matrix(n, M, height - 2, cols_that_fit(w, n_in), w) for n, M in mats]
            if not side:
                return lines + blocks[0]
            left, right = blocks
            pad = max(b.cell_len for b in left)
            for i in range(max(len(left), len(right))):
                line = left[i].copy() if i < len(left) else Text("")
                line.pad_right(pad - line.cell_len)
                line.append(GAP, style="dim")
                if i < len(right):
                    line.append_text(right[i])
                lines.append(line)
            return lines
        top = render_matrix("W", self.W, rows_each, cols_that_fit(width, n_in), width)
        bottom = render_matrix("∇W", self.dW, rows_each, cols_that_fit(width, n_in), width)
        return lines + top + [Text("")] + bottom

    def render(self) -> Text:
        size = self.content_size
        lines = self.layout_lines(size.width, size.height)
        for line in lines:
            line.truncate(size.width, overflow="ellipsis")
        text = Text("\n").join(lines)
        text.no_wrap = True
        text.overflow = "crop"
        return text

"""One stage of the step-through: its formula, its numbers side by side, what it just computed
highlighted, and the chain rule in words. Matrices show a window that ``scroll`` moves."""

from __future__ import annotations

import numpy as np
from dltui.core.engine.stages import Stage
from dltui.tui.trace_text import block_lines, lay_out
from rich.text import Text
from textual.widgets import Static

# what the shapes over the numbers mean (issue 23: `dltui trace` says it, the screen did not)
BATCH_NOTE = ("[rows×columns, batch]: one array for the whole mini-batch (W, b, ∂C/∂W, ∂C/∂b, the updates; "
              "C is the batch's mean loss) · [n]: this sample's column of n numbers")


class StageView(Static):
    DEFAULT_CSS = """
    StageView { height: auto; padding: 0 1; }
    """

    def __init__(self, **kw):
        super().__init__(**kw)
        self.stage: Stage | None = None
        self.row0 = 0
        self.col0 = 0

    def show_stage(self, stage: Stage) -> None:
        if self.stage is None or (stage.kind, stage.layer) != (self.stage.kind, self.stage.layer):
            self.row0 = self.col0 = 0
        self.stage = stage
        self.refresh_text()

    def scroll_matrix(self, rows: int, cols: int) -> None:
        self.row0 = max(0, self.row0 + rows)
        self.col0 = max(0, self.col0 + cols)
        self.refresh_text()

    def on_resize(self) -> None:
        self.refresh_text()

    def limits(self) -> tuple[int, int]:
        width = self.size.width or 80
        return (8 if width >= 60 else 6), (6 if width >= 90 else 4 if width >= 60 else 3)

    def refresh_text(self) -> None:
        if self.stage is not None:
            self.update(self.render_stage(self.stage))

    def render_stage(self, st: Stage) -> Text:
        max_rows, max_cols = self.limits()
        # keep the window inside the largest block so scrolling stops at the edges
        values = [np.atleast_1d(b.value) for b in st.blocks]
        shapes = [(v.shape[0], 1) if v.ndim == 1 else v.shape for v in values]
        self.row0 = min(self.row0, max(0, max(r for r, _ in shapes) - max_rows))
        self.col0 = min(self.col0, max(0, max(c for _, c in shapes) - max_cols))
        width = max(20, (self.size.width or 80) - 2)
        t = Text(no_wrap=False)
        t.append(st.title, style="bold")
        t.append("\n")
        t.append(st.formula, style="bold cyan")
        t.append("\n")
        for f in st.facts:
            t.append(f + "\n", style="dim")
        cols = [block_lines(b, self.row0, self.col0, max_rows, max_cols) for b in st.blocks]
        t.append("\n")
        for band in lay_out(cols, width, gap=2):
            height = max(len(lines) for _, _, lines in band)
            for r in range(height):
                for n, (k, w, lines) in enumerate(band):
                    if n:
                        t.append("  ")
                    cell = (lines[r] if r < len(lines) else "").ljust(w)
                    new = st.blocks[k].new
                    style = ("bold reverse" if new else "bold") if r == 0 else ("bold yellow" if new else "")
                    t.append(cell, style=style)
                t.append("\n")
            t.append("\n")
        if any(b.scope == "batch" for b in st.blocks):  # as `dltui trace` says it
            t.append(BATCH_NOTE + "\n\n", style="dim")
        t.append("why: ", style="bold")
        t.append(st.reading, style="italic")
        return t

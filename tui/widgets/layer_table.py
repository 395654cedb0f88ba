"""The per-layer table: one row per Linear layer with its weight and gradient statistics.

Columns: #, shape (in→out), activation, ‖W‖, mean±std, min/max, ‖∇W‖, ΔW/W (the update/weight
ratio ‖ΔW‖/‖W‖ of the last update; Karpathy's rule of thumb: about 1e-3), ∇/W (‖∇W‖/‖W‖), the share of
dead ReLUs or saturated sigmoids,
and small histograms of the weights and of the gradients. Narrow terminals drop min/max,
then ‖W‖. Arrow keys or a click select a layer; the table posts ``LayerSelected(index)``.
"""

from __future__ import annotations

import math

from dltui.core.events import LayerStats
from dltui.tui.numfmt import compact as num
from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable

BLOCKS = "▁▂▃▄▅▆▇█"
SHORT_ACT = {"hard_sigmoid": "hardsig", "leaky_relu": "leaky", "identity": "linear"}

# (key, header, right-aligned); the order on screen
COLUMNS = [
    ("index", "#", True),
    ("shape", "shape", False),
    ("act", "act", False),
    ("w_norm", "‖W‖", True),
    ("mean_std", "mean±std", True),
    ("min_max", "min/max", True),
    ("g_norm", "‖∇W‖", True),
    ("ratio", "ΔW/W", True),
    ("g_ratio", "∇/W", True),
    ("inactive", "dead/sat", False),
    ("w_hist", "weights", False),
    ("g_hist", "grads", False),
]
DROP_ORDER = ["min_max", "w_norm", "g_ratio"]  # what goes first when the table is too wide


def sparkline(counts: tuple[int, ...] | list[int]) -> str:
    """Histogram counts as unicode blocks (empty bins are blank), e.g. ' ▁▃▇▅▂  '."""
    top = max(counts, default=0)
    if top <= 0:
        return "·" * len(counts)
    return "".join(" " if c <= 0 else BLOCKS[min(7, max(0, math.ceil(c / top * 8) - 1))] for c in counts)


def inactive_text(s: LayerStats) -> Text:
    if s.inactive is None or not s.inactive_kind:
        return Text("–", style="dim")
    style = "bold red" if s.inactive >= 0.5 else "yellow" if s.inactive >= 0.25 else ""
    if s.inactive_kind == "dead":
        return Text(f"{round(s.inactive * s.n_out)}/{s.n_out} dead", style=style)
    return Text(f"sat {s.inactive:.0%}", style=style)


def ratio_text(r: float | None) -> Text:
    if r is None:
        return Text("–", style="dim")
    if not math.isfinite(r) or r > 1e-1:
        return Text(num(r, 1), style="bold red")
    return Text(num(r, 1), style="yellow" if r < 1e-5 else "")


def _finite(s: LayerStats) -> bool:
    grads = (s.g_norm,) if s.g_hist else ()  # no g_hist: no gradients known (e.g. from a checkpoint)
    return all(math.isfinite(v) for v in (s.w_mean, s.w_std, s.w_norm, *grads))


def cells(s: LayerStats) -> dict[str, Text]:
    """The table cells of one layer, by column key."""
    bad = "" if _finite(s) else "bold red"
    out = {
        "index": Text(str(s.index), style="bold"),
        "shape": Text(f"{s.n_in}→{s.n_out}"),
        "act": Text(SHORT_ACT.get(s.activation, s.activation)),
        "w_norm": Text(num(s.w_norm, 3), style=bad),
        "mean_std": Text(f"{num(s.w_mean)}±{num(s.w_std)}", style=bad),
        "min_max": Text(f"{num(s.w_min)}/{num(s.w_max)}", style=bad),
        "g_norm": (Text("–") if not s.g_hist else
                   Text(num(s.g_norm, 3), style="bold red" if not math.isfinite(s.g_norm) else "")),
        "ratio": ratio_text(s.update_ratio),
        "g_ratio": (Text("–", style="dim") if not s.g_hist or not s.w_norm else
                    Text(num(s.g_norm / s.w_norm, 1))),
        "inactive": inactive_text(s),
        "w_hist": Text(sparkline(s.w_hist), style="cyan"),
        "g_hist": Text(sparkline(s.g_hist), style="magenta"),
    }
    for key, _, right in COLUMNS:
        if right:
            out[key].justify = "right"
    return out


class LayerTable(DataTable):
    """Per-layer weight/gradient statistics; ``show_stats`` updates it in place."""

    DEFAULT_CSS = """
    LayerTable {
        height: auto;
        max-height: 100%;
        scrollbar-size-horizontal: 1;
    }
    """

    class LayerSelected(Message):
        """A layer was highlighted (arrow keys) or selected (enter, click)."""

        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index  # 1-based layer number

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, name=name, id=id, classes=classes)
        self.stats: tuple[LayerStats, ...] = ()
        self._shown: list[str] = []  # column keys on screen now
        self._rows: list[str] = []  # row keys on screen now
        self._posted: int | None = None
        self._width = -1  # the width the shown columns were chosen for
        self.border_title = "layers"

    # ------------------------------------------------------------ data in
    def show_stats(self, layers: tuple[LayerStats, ...] | list[LayerStats]) -> None:
        """Show these layers' statistics, keeping the cursor on the same layer."""
        self.stats = tuple(layers)
        rows = [str(s.index) for s in self.stats]
        cols = self._columns_for(self.size.width)
        if rows != self._rows or cols != self._shown:
            self._rebuild(cols)
            return
        for s in self.stats:
            c = cells(s)
            for key in cols:
                # columns only grow: a column that narrows and widens again as the numbers change would
                # re-lay out the whole screen each time (a costly redraw, on the UI thread, while training)
                col = self.columns.get(key)
                grow = col is None or c[key].cell_len > col.content_width
                self.update_cell(str(s.index), key, c[key], update_width=grow)
        drop_stale_renders(self)

    @property
    def selected_layer(self) -> int | None:
        """The 1-based layer under the cursor (None while the table is empty)."""
        if not self.stats or not 0 <= self.cursor_row < len(self.stats):
            return None
        return self.stats[self.cursor_row].index

    # ------------------------------------------------------------ layout
    def _columns_for(self, width: int) -> list[str]:
        """The column keys that fit ``width`` cells (all when the width is not known yet)."""
        keys = [k for k, _, _ in COLUMNS]
        if width <= 0 or not self.stats:
            return keys if not self._shown else self._shown
        if width == self._width and self._shown:  # a column dropped at this width stays dropped: as the
            keys = [k for k in keys if k in self._shown]  # numbers' widths change, columns came and went
        rows = [cells(s) for s in self.stats]
        pad = 2 * self.cell_padding
        need = {k: max([len(h)] + [r[k].cell_len for r in rows]) + pad for k, h, _ in COLUMNS}
        for drop in DROP_ORDER:
            if sum(need[k] for k in keys) <= width:
                break
            if drop in keys:
                keys.remove(drop)
        return keys

    def _rebuild(self, cols: list[str]) -> None:
        keep = self.cursor_row
        self.clear(columns=True)
        for key, header, right in COLUMNS:
            if key in cols:
                self.add_column(Text(header, justify="right" if right else "left"), key=key)
        for s in self.stats:
            c = cells(s)
            self.add_row(*(c[k] for k in cols), key=str(s.index))
        self._shown, self._rows, self._width = cols, [str(s.index) for s in self.stats], self.size.width
        if self.stats:
            self.move_cursor(row=min(max(keep, 0), len(self.stats) - 1), animate=False)
            self._post_selected(self.cursor_row, always=False)

    def on_resize(self) -> None:
        if self.stats and self._columns_for(self.size.width) != self._shown:
            self._rebuild(self._columns_for(self.size.width))

    # ------------------------------------------------------------ selection out
    def _post_selected(self, row: int, always: bool) -> None:
        if not 0 <= row < len(self.stats):
            return
        index = self.stats[row].index
        if always or index != self._posted:
            self._posted = index
            self.post_message(self.LayerSelected(index))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table is self:
            self._post_selected(event.cursor_row, always=False)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table is self:
            self._post_selected(event.cursor_row, always=True)


def drop_stale_renders(table: DataTable) -> None:
    """Forget the table's rendered cells, rows and lines. DataTable keys them by its update count, so after
    an update none can be used again, yet its LRU caches (10,000 cells, 1,000 rows and lines) keep them
    until full: with a redraw twice a second that was ~15 MiB of RSS gained over a 200k-epoch run
    (`bench_tmux.py rss`). Textual has no public call for it (``clear()`` drops the rows, its
    ``_clear_caches`` also the styles, which stay valid): the four caches keyed by the count, if present."""
    for name in ("_cell_render_cache", "_row_render_cache", "_line_cache", "_row_renderable_cache"):
        cache = getattr(table, name, None)
        if cache is not None:
            cache.clear()


def weights_label(v, read_only: bool = False) -> str:
    """Which weights the statistics describe: 'live · step 120', 'best @ epoch 40' (a run that ended, whose
    best weights were put back; gradients recomputed on them) or the checkpoint a watched run shows."""
    if read_only:
        return v.params_label or "checkpoint"
    if v.ended and v.history and v.history[-1].best_epoch:
        return f"best @ epoch {v.history[-1].best_epoch} · ∇ on the whole training set"
    return f"live · step {v.stats_step}"

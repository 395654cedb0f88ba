"""The compare screen: up to 8 runs' (or a sweep's settings') loss curves overlaid with a legend,
a table of their final and best numbers (its columns fitted to the width), and the settings that
differ. Enter opens the selected run's dashboard read-only over it; escape comes back. Opened by
`dltui compare` (``compare_app``) or from the app (C in the dashboard or the picker: compare_key)."""

from __future__ import annotations

import os
from pathlib import Path

from dltui.core.experiments import compare as cmp
from dltui.tui.screens.dashboard import DashboardScreen
from dltui.tui.screens.help import HelpScreen
from dltui.tui.widgets.compare_plot import COLORS, LINE, MARKERS, ComparePlot, legend_text
from dltui.tui.widgets.key_hints import KeyHints
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Static

MAX_SERIES = 8
X_ORDER = ("epoch", "updates", "seconds")
X_WORDS = {"epoch": "by epoch", "updates": "by update", "seconds": "by time (s)"}

# the table's columns, most important first: (key in numbers(), header, format); the last ones go
# first when the screen is narrow, and a column no run has a figure for is left out
COLUMNS = [("run", "run", None), ("best_val_loss", "best val", ".4g"), ("train_loss", "train@best", ".4g"),
           ("val_acc", "val acc", ".3f"), ("baseline", "linear", ".4g"), ("epochs", "epochs", "d"),
           ("state", "state", None), ("best_epoch", "@epoch", "d"), ("final_train_loss", "final train", ".4g"),
           ("seconds", "sec", ".3g")]


def _f(v, spec: str | None = ".4g") -> str:
    if v is None:
        return "-"
    return str(v) if spec is None else format(v, spec)


def fit_columns(rows: list[dict], width: int) -> list[tuple[str, str, str | None]]:
    """The columns that fit ``width`` cells, in COLUMNS order (the run's name always)."""
    cols = [c for c in COLUMNS if c[0] == "run" or any(r.get(c[0]) is not None for r in rows)]
    def need(c) -> int:
        return max(len(c[1]), *(len(_f(r.get(c[0]), c[2])) for r in rows)) + 2  # a cell's padding
    keep, used = [], 2  # the table's scroll bar / border
    for c in cols:
        w = need(c)  # the table sizes a column to its widest cell: count that, or the last one is cut
        if used + w <= width or c[0] == "run":
            keep.append(c)
            used += w
    return keep


class CompareScreen(Screen):
    BINDINGS = [
        Binding("enter", "open_run", "open run", priority=True,
                tooltip="open the selected run's dashboard read-only (escape comes back)"),
        Binding("x", "next_x", "x-axis", tooltip="x-axis: epochs, updates, seconds"),
        Binding("l", "toggle_log", "log/linear", tooltip="loss: log / linear scale"),
        Binding("v", "toggle_curve", "val/train", tooltip="validation / training loss"),
        Binding("b", "toggle_band", "band/lines", tooltip="a setting's seeds: min-max band / thin lines"),
        Binding("escape", "back", "back", key_display="esc", tooltip="back (or quit when nothing is below)"),
        Binding("question_mark", "compare_help", "help", key_display="?", show=False, tooltip="this help"),
    ]
    # its help lines: help.COMPARE_KEYS (the app's ? lists them too; tests/test_help_keys.py checks them)
    DEFAULT_CSS = """
    CompareScreen #cmp-title { height: 1; padding: 0 1; text-style: bold; }
    CompareScreen #cmp-legend { height: auto; max-height: 3; padding: 0 1; }
    CompareScreen #cmp-table { height: auto; max-height: 30%; }
    CompareScreen ComparePlot { min-height: 10; }
    CompareScreen #cmp-diff { height: auto; max-height: 2; padding: 0 1; color: $text-muted; }
    """

    def __init__(self, runs: list[cmp.LoadedRun]):
        super().__init__()
        self.runs = runs
        self.x, self.log_y, self.which, self.as_band = "epoch", True, "val_loss", True
        self.grouped = any(r.group for r in runs)
        self.no_color = bool(os.environ.get("NO_COLOR"))
        self._cols: list = []

    def compose(self) -> ComposeResult:
        yield Static("", id="cmp-title")
        yield ComparePlot(id="cmp-plot")
        yield Static("", id="cmp-legend")
        yield DataTable(id="cmp-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="cmp-diff")
        yield KeyHints(id="keys")

    def on_mount(self) -> None:
        self.fill_table()
        self.query_one("#cmp-diff", Static).update(self.diff_text())
        self.query_one(DataTable).focus()
        self.redraw()

    def on_resize(self, event) -> None:
        self.fill_table()
        self.query_one("#cmp-diff", Static).update(self.diff_text())

    def fill_table(self) -> None:
        rows = [cmp.numbers(r) for r in self.runs]
        cols = fit_columns(rows, self.size.width or 80)
        if cols == self._cols:
            return
        self._cols = cols
        table = self.query_one(DataTable)
        cursor = table.cursor_row
        table.clear(columns=True)
        table.add_columns(*(c[1] for c in cols))
        for n in rows:
            table.add_row(*(Text(_f(n.get(k), spec)) for k, _, spec in cols))
        if 0 <= cursor < len(rows):
            table.move_cursor(row=cursor)

    def diff_text(self) -> str:
        width = max(20, 2 * (self.size.width or 80) - 30)  # at most two lines
        return "settings that differ: " + cmp.differing_line(cmp.differing(self.runs), width)

    def series(self) -> list[dict]:
        """What the plot draws: a run a line; a sweep setting a band (median, min-max) or its seeds
        as thin lines in the setting's colour; without colour, a marker each."""
        out = []
        def style(k: int) -> dict:
            return {"color": COLORS[k % len(COLORS)], "marker": MARKERS[k % len(MARKERS)] if self.no_color else LINE}
        if self.grouped:
            for g, (label, runs) in enumerate(list(cmp.groups(self.runs).items())[:MAX_SERIES]):
                if self.as_band and len(runs) > 1:
                    b = cmp.band(runs, self.x, self.which)
                    out.append({"label": f"{label} ({len(runs)} seeds)", **style(g), **b})
                    continue
                for k, r in enumerate(runs):
                    x, y = cmp.curve(r, self.x, self.which)
                    out.append({"label": label if k == 0 else None, "x": x, "y": y, **style(g)})
            return out
        for i, r in enumerate(self.runs[:MAX_SERIES]):
            x, y = cmp.curve(r, self.x, self.which)
            out.append({"label": r.name, "x": x, "y": y, **style(i)})
        return out

    def redraw(self) -> None:
        series = self.series()
        self.query_one(ComparePlot).show(series, self.x, self.log_y)
        self.query_one("#cmp-legend", Static).update(legend_text(series, self.no_color))
        total = len(cmp.groups(self.runs)) if self.grouped else len(self.runs)
        shown = min(total, MAX_SERIES)
        what = "val loss" if self.which == "val_loss" else "train loss"
        extra = f" (first {MAX_SERIES} of {total})" if total > MAX_SERIES else ""
        mode = (" · seeds as min-max band" if self.as_band else " · seeds as thin lines") if self.grouped else ""
        kind = ("setting" if self.grouped else "curve") + ("s" if shown != 1 else "")
        self.query_one("#cmp-title", Static).update(
            f"compare · {len(self.runs)} runs · {shown} {kind}{extra} · {what} {X_WORDS[self.x]}{mode}")

    # ------------------------------------------------------------ keys
    def check_action(self, action: str, parameters) -> bool | None:
        """b (band / lines) only where there are a sweep's settings."""
        return self.grouped or action != "toggle_band"

    def action_next_x(self) -> None:
        self.x = X_ORDER[(X_ORDER.index(self.x) + 1) % len(X_ORDER)]
        self.redraw()

    def action_toggle_log(self) -> None:
        self.log_y = not self.log_y
        self.redraw()

    def action_toggle_curve(self) -> None:
        self.which = "train_loss" if self.which == "val_loss" else "val_loss"
        self.redraw()

    def action_toggle_band(self) -> None:
        self.as_band = not self.as_band
        self.redraw()

    def action_open_run(self) -> None:
        row = self.query_one(DataTable).cursor_row
        if 0 <= row < len(self.runs):
            path = Path(self.runs[row].path)
            if self.runs[row].in_memory or not (path / "metrics.jsonl").is_file():  # a run without a folder
                self.notify(f"{self.runs[row].name}: nothing to open (escape goes back to it)")
                return
            self.app.push_screen(RunFromCompare(watch_dir=path))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_run()

    def action_compare_help(self) -> None:
        self.app.push_screen(CompareHelpScreen())

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()
        else:
            self.app.exit()


class RunFromCompare(DashboardScreen):
    """A run's dashboard (read-only) opened from the comparison: escape or backspace goes back to it."""

    BINDINGS = [Binding("escape", "back_to_compare", "back to compare", key_display="esc", priority=True),
                Binding("backspace", "back_to_compare", "back", show=False)]

    def on_mount(self) -> None:  # Textual calls the dashboard's on_mount too (and first)
        self.notify("read-only view of a finished run: escape goes back to the comparison")

    def check_action(self, action: str, parameters) -> bool | None:
        """No 'back to the presets' (escape goes back to the comparison), no comparison over this one."""
        return False if action in ("presets", "compare") else super().check_action(action, parameters)

    def action_back_to_compare(self) -> None:
        self.app.pop_screen()  # the dashboard closes its run when it is unmounted


class CompareHelpScreen(HelpScreen):
    """`?` on the compare screen: its keys (help.COMPARE_KEYS) first, then the app's."""

    FIRST = "dltui compare"

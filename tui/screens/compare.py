"""The compare screen: up to 8 runs' (or a sweep's settings') loss curves overlaid with a legend,
a table of their final and best numbers, and the settings that differ. Enter opens the selected
run's dashboard read-only."""

from __future__ import annotations

from pathlib import Path

from dltui.core import compare as cmp
from dltui.tui.widgets.compare_plot import COLORS, ComparePlot
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

MAX_SERIES = 8
X_ORDER = ("epoch", "updates", "seconds")


def _f(v, spec: str = ".4g") -> str:
    return "-" if v is None else format(v, spec)


class CompareScreen(Screen):
    BINDINGS = [
        Binding("x", "next_x", "x-axis"),
        Binding("l", "toggle_log", "log/linear"),
        Binding("v", "toggle_curve", "val/train"),
        Binding("b", "toggle_band", "band/lines"),
        Binding("enter", "open_run", "open run"),
        Binding("escape", "back", "back", show=False),
    ]
    DEFAULT_CSS = """
    CompareScreen #cmp-title { height: 1; padding: 0 1; text-style: bold; }
    CompareScreen #cmp-table { height: auto; max-height: 12; }
    CompareScreen #cmp-diff { height: auto; max-height: 6; padding: 0 1; color: $text-muted; }
    """

    def __init__(self, runs: list[cmp.LoadedRun]):
        super().__init__()
        self.runs = runs
        self.x, self.log_y, self.which, self.as_band = "epoch", True, "val_loss", True
        self.grouped = any(r.group for r in runs)

    def compose(self) -> ComposeResult:
        yield Static("", id="cmp-title")
        yield ComparePlot(id="cmp-plot")
        yield DataTable(id="cmp-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="cmp-diff")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("run", "state", "epochs", "best val", "@epoch", "train @best", "final train",
                          "val acc", "linear", "seconds")
        for r in self.runs:
            n = cmp.numbers(r)
            table.add_row(n["run"], n["state"], _f(n["epochs"], "d"), _f(n["best_val_loss"]),
                          _f(n["best_epoch"], "d"), _f(n["train_loss"]), _f(n["final_train_loss"]),
                          _f(n["val_acc"], ".3f"), _f(n["baseline"]), _f(n["seconds"], ".1f"))
        diff = cmp.differing(self.runs)
        lines = [f"{k}: {' | '.join(map(str, dict.fromkeys(map(str, v))))}" for k, v in diff.items()]
        self.query_one("#cmp-diff", Static).update(
            "settings that differ: " + ("; ".join(lines) if lines else "none (the same preset)"))
        self.query_one(DataTable).focus()
        self.redraw()

    def series(self) -> list[dict]:
        """What the plot draws: a run a line; a sweep setting a band (median, min-max) or its seeds
        as thin lines in the setting's colour."""
        out = []
        if self.grouped:
            for g, (label, runs) in enumerate(list(cmp.groups(self.runs).items())[:MAX_SERIES]):
                color = COLORS[g % len(COLORS)]
                if self.as_band and len(runs) > 1:
                    b = cmp.band(runs, self.x, self.which)
                    out.append({"label": f"{label} ({len(runs)} seeds)", "color": color, **b})
                    continue
                for k, r in enumerate(runs):
                    x, y = cmp.curve(r, self.x, self.which)
                    out.append({"label": label if k == 0 else None, "x": x, "y": y, "color": color,
                                "marker": "dot" if len(runs) > 1 else "braille"})
            return out
        for r in self.runs[:MAX_SERIES]:
            x, y = cmp.curve(r, self.x, self.which)
            out.append({"label": r.name, "x": x, "y": y})
        return out

    def redraw(self) -> None:
        series = self.series()
        self.query_one(ComparePlot).show(series, self.x, self.log_y)
        total = len(cmp.groups(self.runs)) if self.grouped else len(self.runs)
        shown = min(total, MAX_SERIES)
        what = "val loss" if self.which == "val_loss" else "train loss"
        extra = f" (first {MAX_SERIES} of {total})" if total > MAX_SERIES else ""
        mode = (" · seeds as min-max band" if self.as_band else " · seeds as thin lines") if self.grouped else ""
        self.query_one("#cmp-title", Static).update(
            f"compare · {len(self.runs)} runs · {shown} {'settings' if self.grouped else 'curves'}{extra} · "
            f"{what} per {self.x}{mode}")

    # ------------------------------------------------------------ keys
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
        from dltui.tui.screens.dashboard import DashboardScreen

        row = self.query_one(DataTable).cursor_row
        if 0 <= row < len(self.runs):
            self.app.push_screen(DashboardScreen(watch_dir=Path(self.runs[row].path)))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_run()

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()
        else:
            self.app.exit()


def compare_app(runs: list[cmp.LoadedRun], **kw):
    """The app opened on the compare screen (q quits; a run opened with enter comes back with escape)."""
    from dltui.tui.app import DltuiApp

    class CompareApp(DltuiApp):
        CSS_PATH = str(Path(__file__).resolve().parents[1] / "app.tcss")

        def on_mount(self, event) -> None:
            event.prevent_default()  # not the picker DltuiApp opens
            self.push_screen(CompareScreen(runs))

    return CompareApp(**kw)

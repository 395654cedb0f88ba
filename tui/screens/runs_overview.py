"""`dltui watch runs/`: every run under a folder (runs or sweeps of runs) with its state, preset,
device, epoch, best loss and age, refreshed every few seconds; enter opens one in the dashboard
(read-only, as `dltui watch RUN_DIR`). Killed runs (process gone) and stale ones are marked."""

from __future__ import annotations

from pathlib import Path

from dltui.core.runs.store.scan import scan_runs
from dltui.tui.run_list import COLUMNS, fmt_row
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

REFRESH = 2.0
STYLE = {"running": "bold green", "killed": "bold red", "failed": "bold red", "diverged": "red", "stale": "yellow",
         "gone": "dim"}


class RunsOverviewScreen(Screen):
    BINDINGS = [Binding("enter", "open", "open", show=True), Binding("r", "refresh", "refresh"),
                Binding("q", "app.quit", "quit")]
    DEFAULT_CSS = "RunsOverviewScreen #runs-title { text-style: bold; padding: 0 1; }"

    def __init__(self, root: str | Path, interval: float = REFRESH):
        super().__init__()
        self.root = Path(root)
        self.interval = interval
        self.rows = []

    def compose(self) -> ComposeResult:
        yield Static(f"runs in {self.root}", id="runs-title")
        yield DataTable(id="runs-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns(*COLUMNS)
        self.action_refresh()
        self.set_interval(self.interval, self.action_refresh)

    def action_refresh(self) -> None:
        table = self.query_one(DataTable)
        keep = self.selected()
        self.rows = scan_runs(self.root)
        table.clear()
        for r in self.rows:
            cells = [Text(c) for c in fmt_row(r)]
            cells[1].stylize(STYLE.get(r.state, ""))
            table.add_row(*cells, key=str(r.path))
        if keep is not None:
            idx = next((i for i, r in enumerate(self.rows) if r.path == keep), None)
            if idx is not None:
                table.move_cursor(row=idx)
        n = len(self.rows)
        self.query_one("#runs-title", Static).update(
            f"runs in {self.root} · {n} run{'s' if n != 1 else ''}" if n else
            f"runs in {self.root} · no runs yet (a run folder holds status.json, metrics.jsonl or preset.toml)")

    def selected(self) -> Path | None:
        table = self.query_one(DataTable)
        if not self.rows or table.cursor_row is None or not 0 <= table.cursor_row < len(self.rows):
            return None
        return self.rows[table.cursor_row].path

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open()

    def action_open(self) -> None:
        from dltui.tui.screens.dashboard import DashboardScreen

        p = self.selected()
        if p is not None and p.is_dir():
            self.app.push_screen(DashboardScreen(watch_dir=p))


def runs_app(root: str | Path):
    """The app `dltui watch FOLDER` runs: the overview first, enter opens a run over it."""
    from dltui.tui.app import DltuiApp

    class RunsApp(DltuiApp):
        def on_mount(self, event) -> None:
            event.prevent_default()  # not the watched-run dashboard DltuiApp would open on the folder
            self.push_screen(RunsOverviewScreen(root))

    return RunsApp()


def run_app(root: str | Path) -> int:
    app = runs_app(root)
    app.run()
    return app.return_code or 0

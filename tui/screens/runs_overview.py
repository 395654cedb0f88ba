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
        rows = [fmt_row(r) for r in self.rows]
        room = name_room(rows, self.size.width or 100)
        for r, row in zip(self.rows, rows):
            cells = [Text(c) for c in [middle_cut(row[0], room), *row[1:]]]
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

    def on_resize(self) -> None:
        self.action_refresh()  # the run names take the width the other columns leave

    def action_open(self) -> None:
        p = self.selected()
        if p is not None and p.is_dir():
            self.app.push_screen(watched_dashboard(p))


def name_room(rows: list[list[str]], width: int) -> int:
    """Columns the run's name may take so that the state, preset, device, epoch, best loss and age - what a
    GPU box's user looks for - stay whole on screen (each column has a cell padding of 1 a side)."""
    others = sum(max([len(c)] + [len(row[k]) for row in rows]) + 2 for k, c in enumerate(COLUMNS) if k)
    return max(12, width - others - 2 - 2)  # the name's own padding, the scrollbar


def middle_cut(name: str, room: int) -> str:
    """A long name as its start … its end (a sweep's folder and the seed both stay readable)."""
    if len(name) <= room:
        return name
    head = (room - 1) // 2
    return name[:head] + "…" + name[len(name) - (room - 1 - head):]


def watched_dashboard(path: Path):
    """The dashboard on a run of the list; escape goes back to the list (issue 23)."""
    from dltui.tui.screens.dashboard import DashboardScreen

    class WatchedFromList(DashboardScreen):
        BINDINGS = [Binding("escape", "back_to_runs", "runs", tooltip="back to the list of runs")]

        def action_back_to_runs(self) -> None:
            self.app.pop_screen()

    return WatchedFromList(watch_dir=path)


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

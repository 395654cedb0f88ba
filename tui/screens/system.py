"""The system panel (`dltui top`, and a key from the dashboard and watch): per GPU utilisation,
memory, temperature and power as sparklines, the processes on each GPU, the host's CPU and RAM,
and this run's steps/s and device. The numbers come from ``core.sysinfo.Sampler``, which samples
on its own thread; this screen only reads its latest figures once a second."""

from __future__ import annotations

from collections.abc import Callable

from dltui.core.integrations.sysinfo import Sampler, panel_lines
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

REFRESH = 1.0


def run_line_for(screen) -> Callable[[], str] | None:
    """A ``run_line`` for the screen the panel opens over: its run's preset, speed and device."""
    run = getattr(screen, "run", None)  # the screens that show a Run have one; others (the picker) do not
    if run is None:
        return None

    def line() -> str:
        v = run.view
        where = f"{v.backend}/{v.device}" if v.backend else (v.device or "?")
        speed = f"{v.steps_per_s:,.0f} steps/s" if v.steps_per_s else "no speed yet"
        note = f" · {v.device_note}" if v.device_note else ""
        return f"this run: {v.preset} · {v.state} · {speed} · {where}{note}"
    return line



CPU_HINT = '  cpu   not measured: psutil is not installed (pip install psutil, or pip install "dltui[gpu]")'


def with_hints(lines: list[str], sampler: Sampler) -> list[str]:
    """The panel's lines, with what is missing said where it shows: without psutil the host's CPU is
    '?' and its sparkline empty (issue 23)."""
    _, host = sampler.latest()
    if host is None or host.cpu is not None:
        return lines
    return [CPU_HINT if line.startswith("  cpu ") else line.replace("CPU ? of", "CPU ? (no psutil) of")
            for line in lines]

class SystemScreen(Screen):
    """``run_line`` (optional) returns one line about the run being shown: its steps/s and device."""

    BINDINGS = [Binding("escape,g", "close", "back"), Binding("q", "app.quit", "quit")]
    DEFAULT_CSS = """
    SystemScreen #sys-body { padding: 0 1; }
    SystemScreen .box-title { text-style: bold; }
    """

    def __init__(self, sampler: Sampler | None = None, run_line: Callable[[], str] | None = None,
                 interval: float = REFRESH, exit_on_close: bool = False):
        super().__init__()
        self.exit_on_close = exit_on_close
        self._own = sampler is None
        self.sampler = sampler or Sampler(interval=interval)
        self.run_line = run_line
        self.interval = interval

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static("system", classes="box-title")
            yield Static("", id="sys-run")
            yield Static("", id="sys-body")
        yield Footer()

    def on_mount(self) -> None:
        if self._own:
            self.sampler.start()  # samples on its own thread (NVML may take a second to start)
        self.redraw()
        self.set_interval(self.interval, self.redraw)

    def body_text(self) -> str:
        width = max(10, min(60, self.size.width - 12))
        return "\n".join(with_hints(panel_lines(self.sampler, width), self.sampler))

    def redraw(self) -> None:
        run = self.run_line() if self.run_line else ""
        self.query_one("#sys-run", Static).update(Text(run))
        self.query_one("#sys-body", Static).update(Text(self.body_text()))

    def on_unmount(self) -> None:
        if self._own:
            self.sampler.close()

    def action_close(self) -> None:
        if self.exit_on_close:
            self.app.exit()
        else:
            self.app.pop_screen()


class TopApp(App):
    """`dltui top`: the panel on its own; escape, g or q quits."""

    TITLE = "dltui top"

    def __init__(self, interval: float = REFRESH, sampler: Sampler | None = None):
        super().__init__()
        self.interval, self.sampler = interval, sampler

    def on_mount(self) -> None:
        self.push_screen(SystemScreen(self.sampler, interval=self.interval, exit_on_close=True))

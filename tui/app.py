"""The Textual app: a thin shell that opens the picker, a dashboard or a watched run.

``main(args)`` is called by ``dltui`` (tui/cli.py) with the parsed app arguments.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

from textual.app import App
from textual.binding import Binding


class DltuiApp(App):
    # absolute: Textual resolves a relative CSS_PATH beside the file of the subclass (the runs overview's
    # and compare's apps live in tui/screens/)
    CSS_PATH = str(Path(__file__).with_name("app.tcss"))
    TITLE = "dltui"
    ENABLE_COMMAND_PALETTE = True
    NOTIFICATION_TIMEOUT = 2.5  # short notes: they cover the layer table and the key hints
    BINDINGS = [
        Binding("question_mark", "help", "help", key_display="?", tooltip="this help"),
        Binding("q", "quit", "quit", tooltip="quit"),
        Binding("g", "system_panel", "system", show=False,
                tooltip="system panel: GPUs, host CPU/RAM, this run's speed"),
    ]
    # the help screen's "everywhere" lines: an action bound above, or (keys, text) for keys Textual binds
    HELP_KEYS = ["help", "quit", "system_panel", ("ctrl+p", "command palette")]

    def __init__(self, *, run=None, spec=None, start: bool = False, watch_dir: str | Path | None = None,
                 extra_presets=(), scan_dir: str | Path | None = ".", data_path: str | None = None,
                 freeze_clock: bool = False, runs_dir: str | Path | None = None):
        super().__init__()
        self._run, self._spec, self._start, self.watch_dir = run, spec, start, watch_dir
        self.extra_presets, self.scan_dir, self.data_path = tuple(extra_presets), scan_dir, data_path
        self.freeze_clock = freeze_clock  # tests: no elapsed time, rate or ETA on screen
        self.runs_dir = runs_dir  # runs started here write runs_dir/NAME-time (None: no folders)
        if freeze_clock:
            self.animation_level = "none"

    def on_mount(self) -> None:
        from dltui.tui.screens.dashboard import DashboardScreen
        from dltui.tui.screens.picker import PickerScreen

        if self.watch_dir is not None:
            self.push_screen(DashboardScreen(watch_dir=self.watch_dir))
        elif self._run is not None or self._spec is not None:
            self.push_screen(DashboardScreen(self._spec, run=self._run, start=self._start))
        else:
            self.push_screen(PickerScreen())

    def open_dashboard(self, spec, run) -> None:
        """Screens ask the app to navigate, so no screen imports another it could be imported by."""
        from dltui.tui.screens.dashboard import DashboardScreen

        self.push_screen(DashboardScreen(spec, run=run))

    def open_compare(self, runs) -> None:
        """The compare screen over this one (C in the dashboard and the picker; escape comes back)."""
        from dltui.tui.screens.compare import CompareScreen

        self.push_screen(CompareScreen(runs))

    def show_presets(self) -> None:
        """Back to the picker: the one below, or a new one in place of this screen."""
        from dltui.tui.screens.picker import PickerScreen

        if len(self.screen_stack) > 1 and isinstance(self.screen_stack[-2], PickerScreen):
            self.pop_screen()
        else:
            self.switch_screen(PickerScreen())

    def action_help(self) -> None:
        from dltui.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_system_panel(self) -> None:
        """`g`: the system panel (GPUs, host, this run's speed) over the dashboard or a watched run."""
        from dltui.tui.screens.system import SystemScreen, run_line_for

        if not isinstance(self.screen, SystemScreen):
            self.push_screen(SystemScreen(run_line=run_line_for(self.screen)))

    async def action_quit(self) -> None:
        """Quit; first ask when a run's training is saved nowhere. Runs that write a folder are stopped and
        get a moment to write their last checkpoint."""
        from dltui.tui.screens.confirm import ConfirmScreen

        lost = next((text for s in self.screen_stack if (text := getattr(s, "unsaved", lambda: None)())), None)
        if lost and not isinstance(self.screen, ConfirmScreen):
            self.push_screen(ConfirmScreen(f"{lost}. Quit anyway?"), self._quit_if)
            return
        await self._quit_now()

    async def _quit_if(self, yes: bool) -> None:
        if yes:
            await self._quit_now()

    async def _quit_now(self) -> None:
        import asyncio
        import time

        runs = [r for s in self.screen_stack if (r := getattr(s, "run", None)) is not None]
        for run in runs:
            run.close()
        t0 = time.monotonic()  # a run writing a folder saves its last checkpoint as it stops
        while any(r.view.out_dir and r.active for r in runs) and time.monotonic() - t0 < 3.0:
            await asyncio.sleep(0.05)
        self.exit()


NO_TTY = ("dltui: the app needs a terminal, and stdout is not one. For runs without a screen use\n"
          "  dltui train PRESET [--out DIR]     (see `dltui train --help`; `dltui list` shows the presets)")


def main(args) -> int:
    """Open the app for parsed arguments (preset, overrides, --start, --preset PATH, --data ...)."""
    if not sys.stdout.isatty():
        print(NO_TTY, file=sys.stderr)
        return 2
    run = None
    if getattr(args, "preset", None):
        from dltui.core.runs import LiveRun
        from dltui.core.runs.store.folder import default_run_dir
        from dltui.tui.common import spec_from_args

        spec = spec_from_args(args)  # user errors reach cli.main's handler
        # the run writes its folder as `dltui train` does, so it can be predicted, traced, watched, resumed
        run = LiveRun(spec, start=args.start, pace="preset", out_dir=str(default_run_dir(spec.name)))
    warnings.simplefilter("ignore", RuntimeWarning)  # numpy overflow warnings would print over the screen
    app = DltuiApp(run=run, start=bool(getattr(args, "start", False)), runs_dir="runs",
                   extra_presets=getattr(args, "preset_paths", None) or (),
                   data_path=getattr(args, "data", None))
    app.run()
    return app.return_code or 0


def watch(run_dir: str | Path) -> int:
    if not sys.stdout.isatty():
        print("dltui watch: needs a terminal; `tail -f RUN_DIR/metrics.jsonl` follows a run without one.",
              file=sys.stderr)
        return 2
    app = DltuiApp(watch_dir=run_dir)
    app.run()
    return app.return_code or 0

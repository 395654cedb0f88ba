"""The dashboard's ``T`` key: this run's history as TensorBoard files (``RUN/tensorboard/``), kept up to
date on a thread of their own while the run goes on; ``T`` again stops following. Works for a live,
a watched and a finished run alike (it reads the run folder's files: ``core.tboard_export``).
A mixin of ``DashboardScreen``; needs its ``run``, ``_say`` and ``_note``."""

from __future__ import annotations

import os
import shlex
from pathlib import Path

FOLLOW_EVERY = 2.0  # seconds between reads of the run's files
SHOW_EVERY = 1.0  # seconds between updates of the line on screen


def shown_path(path: str | Path) -> str:
    """The folder as a person would type it here: relative to the working directory when inside it."""
    p = Path(path)
    try:
        return os.path.relpath(p) if p.resolve().is_relative_to(Path.cwd().resolve()) else str(p)
    except (OSError, ValueError):
        return str(p)


def tb_line(rows: int, records: int, logdir: str, following: bool) -> str:
    where = shown_path(logdir)
    what = f"{rows} epoch{'s' * (rows != 1)}, {records} layer record{'s' * (records != 1)}"
    state = "following the run (T stops)" if following else "written"
    return f"TensorBoard: {what} in {where}/ · {state} · view: tensorboard --logdir {shlex.quote(where)}"


class TensorBoardKey:
    _tb = None  # the TensorBoardFollow under way (None: none)
    _tb_shown: tuple = ()
    _tb_timer = None
    _tb_run = None  # the run it follows

    def action_tensorboard(self) -> None:
        from dltui.core.integrations.tensorboard_folder import TensorBoardExport, TensorBoardFollow, check_available
        from dltui.core.integrations.tensorboard_live import TensorBoardMissing

        if self._tb is not None and not self._tb.finished:
            self._tb.stop(wait=0)  # the thread ends after the poll under way; the timer shows it
            self._tb_show(force=True)
            return
        run = self.run
        if run is None:
            return
        folder = run.view.folder
        if not folder:
            self._note("this run keeps no folder, so there is nothing to export: runs started with a runs "
                       "folder (dltui, dltui train --out) can be; dltui train --tensorboard DIR writes them",
                       severity="warning")
            return
        try:
            check_available()
        except TensorBoardMissing as e:
            self._note(str(e), severity="error")
            return
        if not run.started_training:  # (a run left untrained leaves no folder: no files of ours in it either)
            self._note("nothing trained yet: start the run (space), then T writes and follows its history")
            return
        try:
            export = TensorBoardExport(folder)
        except OSError as e:
            self._note(f"cannot write TensorBoard files in {folder}: {e.strerror or e}", severity="error")
            return
        self._tb = TensorBoardFollow(export, every=FOLLOW_EVERY, done=lambda: not run.active).start()
        self._tb_run = run
        self._tb_shown = ()
        if self._tb_timer is None:
            self._tb_timer = self.set_interval(SHOW_EVERY, self._tb_show, name="tensorboard")
        self._tb_show(force=True)

    def _tb_show(self, force: bool = False) -> None:
        tb = self._tb
        if tb is None:
            return
        if self.run is not self._tb_run:  # restarted, or another run opened: that one's export ends quietly
            tb.stop(wait=0)
            self._tb = None
            if self._tb_timer is not None:
                self._tb_timer.stop()
                self._tb_timer = None
            return
        following = not tb.finished and not tb.stopping
        now = (tb.rows, tb.records, following, tb.error)
        if now == self._tb_shown and not force:
            return
        self._tb_shown = now
        if tb.error:
            self._say(f"TensorBoard export stopped: {tb.error}", "error")
        else:
            self._say(tb_line(tb.rows, tb.records, str(tb.export.logdir), following), "info")
        if tb.finished and self._tb_timer is not None:
            self._tb_timer.stop()
            self._tb_timer = None

"""The dashboard's run-level actions: restart (same or new seed), pace, continue, predictions, and
asking before a key throws away training that is saved nowhere. A mixin of ``DashboardScreen``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from dltui.core.runs import Control
from dltui.core.runs.store.folder import RunFolder


class RunActions:
    """Needs the screen's ``run``, ``spec``, ``_note``, ``_read_only``, ``_new_run``, ``_show_status``."""

    _pace: float | None = None  # the pace the person chose (None: the preset's)
    _lesson_pace: float | None = None  # the pace `=` goes back to from max

    # ------------------------------------------------------------ discarding
    def unsaved(self) -> str | None:
        """What throwing this run away would lose, or None (nothing trained, or its folder keeps it)."""
        run = self.run
        if run is None or not run.controls or not run.started_training or run.view.out_dir:
            return None
        v = run.view
        return f"{v.epoch} epochs ({v.step} steps) of training are saved nowhere"

    def _after_asking(self, verb: str, go: Callable[[], None]) -> None:
        """``go()`` at once when nothing would be lost (saying where the run is kept); otherwise ask."""
        from dltui.tui.screens.confirm import ConfirmScreen

        lost = self.unsaved()
        if lost is None:
            saved = self.run.view.out_dir if self.run is not None and self.run.started_training else ""
            go()
            if saved:
                self.app.clear_notifications()
                self.app.notify(f"the run is kept in {saved}", markup=False)
            return
        self.app.push_screen(ConfirmScreen(f"{lost}. {verb} anyway?"), lambda yes: go() if yes else None)

    # ------------------------------------------------------------ restart, presets
    def action_restart(self, new_seed: int = 0) -> None:
        """Restart: the same seed (the same run again, step for step) or, with ``new_seed``, the next one."""
        if self._read_only() or self.spec is None:
            return
        seed = self.spec.values["training"]["seed"] + (1 if new_seed else 0)
        running = self.run is not None and self.run.view.state == "running"

        def go() -> None:
            if self._new_run(self.spec.with_overrides({"training.seed": seed}), start=running):
                self._note(f"restarted with {'a new' if new_seed else 'the same'} seed, {seed}")

        self._after_asking("Restart", go)

    def action_presets(self) -> None:
        def go() -> None:
            if self.run is not None:
                self.run.close()
            self.app.show_presets()

        self._after_asking("Leave it", go)

    # ------------------------------------------------------------ continue
    def action_continue(self) -> None:
        if self._read_only():
            return
        run = self.run
        if run.active:
            self._note("c continues a run that has ended; this one has not (space runs it)")
            return
        total = run.control.continue_run() if run.control and run.controls & Control.CONTINUE else None
        if total is None:
            self._note("this run cannot continue (it diverged or failed): r restarts it", "warning")
            return
        self._note(f"continuing to epoch {total}, with the optimizer's state")
        self._show_status()

    # ------------------------------------------------------------ pace
    def action_pace(self, direction: int) -> None:
        from dltui.core.training.pacing import next_level

        if not self._read_only():
            self._set_pace(next_level(self.run.view.pace, direction))

    def action_pace_max(self) -> None:
        from dltui.core.training.pacing import preset_pace

        if self._read_only():
            return
        v = self.run.view
        if v.pace:
            self._lesson_pace = v.pace
            self._set_pace(0.0)
        else:
            lesson = preset_pace(self.spec.values, v.batches_per_epoch) if self.spec is not None else 0.0
            self._set_pace(self._lesson_pace or lesson or 30.0)

    def _set_pace(self, rate: float) -> None:
        self._pace = rate
        if self.run.control is not None:
            self.run.control.set_pace(rate)
        self._show_status()

    # ------------------------------------------------------------ predictions
    def action_predict(self) -> None:
        """CSV presets: write the best checkpoint's predictions for a test CSV, as `dltui predict` does."""
        from dltui.tui.screens.confirm import PromptScreen

        if self._read_only() or self.spec is None:
            return
        if self.spec.values["data"]["kind"] != "csv":
            self._note("predictions are for CSV presets (this one's data is generated)")
            return
        folder = self.run.view.out_dir
        if not folder or not RunFolder(folder).checkpoint().exists():
            self._note("no checkpoint yet: train at least one epoch first" if folder else
                       "this run writes no folder, so there is no checkpoint to predict with")
            return
        guess = guess_test_csv(self.spec.values["data"].get("path", ""))
        self.app.push_screen(PromptScreen("the CSV to predict (its rows get a prediction each):", guess),
                             lambda path: self._predict_to(folder, path) if path else None)

    def _predict_to(self, folder: str, data: str) -> None:
        from dltui.tui.commands.predict_cmd import write_predictions
        from dltui.tui.common import user_errors

        try:
            self._note(write_predictions(folder, data, str(RunFolder(folder).predictions)))
        except user_errors() as e:
            self._say(str(e), "error")


def guess_test_csv(train_path: str) -> str:
    """covid.train.csv -> covid.test.csv when that file exists; '' otherwise."""
    p = Path(train_path)
    if "train" in p.name:
        cand = p.with_name(p.name.replace("train", "test"))
        if cand.exists():
            return str(cand)
    return ""


def new_run_dir(app, spec):
    """Where a run started in the app writes (``runs/NAME-time``, as `dltui train`), or None when the app
    keeps no folders (tests, library use)."""
    from dltui.core.runs.store.folder import default_run_dir

    root = getattr(app, "runs_dir", None)
    return str(default_run_dir(spec.name, root)) if root else None

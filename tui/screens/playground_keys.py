"""The dashboard's Playground keys, kept beside it so the dashboard stays short: `o` applies
the preset editor's result (a restart with the edited preset; the old loss curve stays as a ghost),
`u`/`U` pick a hidden unit (2-D sets: its output over the plane; 1-D runs: the unit view where w, b and
c are shaped by hand), `d` discretizes the 2-D output, `i` cycles the points drawn over it.

A mixin for ``DashboardScreen``: it uses the screen's ``run``, ``w_learned``, ``w_loss``, ``_new_run``,
``_say``, ``_note`` (one notice at a time), ``_refresh_all`` and layout helpers.
"""

from __future__ import annotations

from textual.widgets import TabbedContent


class PlaygroundKeys:
    def action_unit(self, delta: int) -> None:
        """2-D sets: the next unit's output over the plane; 1-D curves: the unit view (shape by hand)."""
        plot = self.w_learned
        name = plot.select_unit(delta)
        if plot.mode == "curve" and self.run is not None and not self.read_only and plot.unit is not None:
            from dltui.tui.screens.shape import ShapeScreen

            self.app.push_screen(ShapeScreen(self.run, plot.unit), self._unit_back)
            return
        self._show_learned()
        self._say(f"learned panel: {name} (u / U another, d discretize, i points)", "info")

    def _unit_back(self, unit) -> None:
        """Back from the unit view: the panel shows the unit chosen there, at the weights now."""
        self.w_learned.unit = unit
        self._refresh_all()

    def _show_learned(self) -> None:
        self.query_one("#right", TabbedContent).active = "tab-learned"
        if self.has_class("-narrow") and not self._show_right:
            self._show_right = True
            self._layout_for(self.size.width, self.size.height)

    def action_discrete(self) -> None:
        on = self.w_learned.toggle_discrete()
        self._show_learned()
        self._note("predicted class only" if on else "shaded by confidence")

    def action_points(self) -> None:
        self._note(f"points: {self.w_learned.cycle_points()}")
        self._show_learned()

    def _apply_edit(self, edited) -> None:
        """The editor's result: a new run of the edited preset; the old run's loss stays as a ghost."""
        if edited is None:
            return
        old = list(self.run.view.history) if self.run is not None else []
        running = self.run is not None and self.run.view.state == "running"
        if self._new_run(edited.spec, start=running):
            if old:
                self.w_loss.set_ghost(old, "before")
            self._say("restarted: " + "; ".join(edited.changes), "info")

"""The dashboard's network view (issue 23): `w` opens the whole network in the right panel, enter on a unit
there opens today's single-unit view (as `u`: 2-D sets its output over the plane, 1-D runs the unit view),
and the panel is the default where the whole network fits beside the loss.

A mixin for ``DashboardScreen``: it uses the screen's ``run``, ``w_learned``, ``_show_learned``,
``_layout_for``, ``_say``, ``_note`` and ``_show_right``.
"""

from __future__ import annotations

from textual.widgets import TabbedContent


class NetworkKeys:
    _tab_chosen = False  # the person picked a tab: the default no longer moves it

    def _network(self):
        return self.query_one("#network")

    def _configure_network(self, run) -> None:
        """A new run's network; the default panel when it fits whole (and the person chose none)."""
        net = self._network()
        net.configure(run.data, run.spec)
        right = self.query_one("#right", TabbedContent)
        if not self._tab_chosen and not self.has_class("-narrow"):
            size = right.size if right.size.width else self.size
            fits = net.fits(max(size.width - 1, 1), max(size.height - 2, 1))  # minus the tabs
            right.active = "tab-network" if fits else "tab-learned"

    def _show_network(self, v) -> None:
        """The newest weights and gradients to the network view (drawn only while it is shown)."""
        if v.params is not None:
            self._network().show_params(v.params, v.grads)

    def action_network(self) -> None:
        self._tab_chosen = True
        self.query_one("#right", TabbedContent).active = "tab-network"
        if self.has_class("-narrow") and not self._show_right:
            self._show_right = True
            self._layout_for(self.size.width, self.size.height)
        self._network().focus()
        if self.run is not None:
            self.run.want_params()
        self._note("the network: ←→ unit · ↑↓ layer · < > edge · enter unit view (v: other panels)")

    def on_network_view_unit_chosen(self, message) -> None:
        """Enter on a card: the single-unit view of that unit (the output: the learned panel)."""
        plot = self.w_learned
        plot.unit = message.unit if message.unit in plot.units() else None
        if plot.mode == "curve" and self.run is not None and not self.read_only and plot.unit is not None:
            from dltui.tui.screens.shape import ShapeScreen

            self.app.push_screen(ShapeScreen(self.run, plot.unit), self._unit_back)
            return
        plot.refresh()
        self._tab_chosen = True
        self._show_learned()
        from dltui.tui.widgets.unit_views import unit_name

        self._say(f"learned panel: {unit_name(plot.unit)} (u / U another, w the network)", "info")

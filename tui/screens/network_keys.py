"""The dashboard's network view (issue 23): `w` opens the whole network in the right panel, enter on a unit
there opens today's single-unit view (as `u`: 2-D sets its output over the plane, 1-D runs the unit view),
and the panel is the default where the whole network fits beside the loss. On small terminals, where the
right panel hides behind `v`, a 2-D set's picture (decision regions, or the value over the plane) is
drawn beside the loss when the screen is wide enough for both (``#mini-learned``).

A mixin for ``DashboardScreen``: it uses the screen's ``run``, ``w_learned``, ``_show_learned``,
``_layout_for``, ``_say``, ``_note`` and ``_show_right``.
"""

from __future__ import annotations

from textual.widgets import TabbedContent

MINI_MIN_WIDTH = 64  # narrower: the loss plot alone (the regions stay behind v)


class NetworkKeys:
    _tab_chosen = False  # the person picked a tab: the default no longer moves it

    # ------------------------------------------------------------ regions beside the loss
    def _layout_mini(self, width: int) -> None:
        """Small terminals: the 2-D picture beside the loss where both fit (and the right panel is not up)."""
        mini = self.query("#mini-learned")
        plane = bool(mini) and mini.first().mode == "regions"
        self.set_class(plane and width >= MINI_MIN_WIDTH and self.has_class("-narrow"), "-mini")

    def mini_shown(self) -> bool:
        return self.has_class("-mini") and not self._show_right

    def _show_mini(self, params) -> None:
        if self.mini_shown():  # the same unit, classes and points as the learned panel (u d i)
            self.query_one("#mini-learned").show_params(params, like=self.w_learned)

    def _network(self):
        return self.query_one("#network")

    def _configure_network(self, run) -> None:
        """A new run's network; once laid out, the default panel when it fits whole."""
        self._network().configure(run.data, run.spec)
        self.query_one("#mini-learned").configure(run.data, run.spec)
        self._layout_mini(self.size.width)
        self.call_after_refresh(self._default_panel)

    def _default_panel(self) -> None:
        """The network where it fits beside the loss without scrolling (and the person chose no panel)."""
        right = self.query_one("#right", TabbedContent)
        if self._tab_chosen or self.has_class("-narrow") or not right.size.width:
            return
        net = self._network()
        fits = net.fits(right.size.width - 1, right.size.height - 2)  # the tabs' line and underline
        right.active = "tab-network" if fits else "tab-learned"

    def _show_network(self, v) -> None:
        """The newest weights and gradients to the network view (drawn only while it is shown)."""
        if v.params is not None:
            self._network().show_params(v.params, v.grads)
            self._show_mini(v.params)

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

"""The help screen's key list is generated from the bindings: every binding is on it, every line
it lists for a binding names one that exists."""

from __future__ import annotations

import pytest

pytest.importorskip("textual")

from dltui.tui.app import DltuiApp  # noqa: E402
from dltui.tui.screens.backprop import BackpropScreen  # noqa: E402
from dltui.tui.screens.dashboard import DashboardScreen  # noqa: E402
from dltui.tui.screens.help import help_actions, help_text, key_sections  # noqa: E402
from dltui.tui.screens.picker import PickerScreen  # noqa: E402
from dltui.tui.screens.settings import SettingsScreen  # noqa: E402
from dltui.tui.screens.shape import ShapeScreen  # noqa: E402

SCREENS = [DltuiApp, PickerScreen, DashboardScreen, BackpropScreen, SettingsScreen, ShapeScreen]


@pytest.mark.parametrize("cls", SCREENS, ids=lambda c: c.__name__)
def test_every_binding_is_in_the_help(cls):
    bound = {b.action for b in cls.BINDINGS}
    covered = help_actions(cls.HELP_KEYS)
    assert bound <= covered, f"bindings missing from the help: {sorted(bound - covered)}"
    first = [e if isinstance(e, str) else e[0] for e in cls.HELP_KEYS]
    assert all(cls.BINDINGS[[b.action for b in cls.BINDINGS].index(a)].tooltip for a in first if a in bound)


def test_a_new_binding_shows_up_in_the_help(monkeypatch):
    from textual.binding import Binding

    monkeypatch.setattr(DashboardScreen, "BINDINGS", [*DashboardScreen.BINDINGS,
                                                      Binding("z", "zoom", "zoom", tooltip="zoom the loss plot")])
    monkeypatch.setattr(DashboardScreen, "HELP_KEYS", [*DashboardScreen.HELP_KEYS, "zoom"])
    dash = dict(key_sections(DltuiApp))["dashboard"]
    assert ("z", "zoom the loss plot") in dash and "zoom the loss plot" in help_text(DltuiApp).plain


def test_the_keys_read_as_before():
    text = help_text(DltuiApp).plain
    for line in ("  space", "start / pause", "[ ]", "halve / double the learning rate (live)", "← →",
                 "f b g u", "[ ]  - +", "t, enter", "escape, q", "ctrl+p"):
        assert line in text

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


def _keys(lines) -> set[str]:
    return {k.strip(",") for keys, _ in lines for k in keys.split()}


def test_watch_keys_list_exactly_what_a_watched_dashboard_enables():
    from types import SimpleNamespace

    from dltui.core.runs import Control
    from dltui.tui.screens.help import KEY_NAMES, WATCH_KEYS

    scr = DashboardScreen(run=SimpleNamespace(controls=Control(0), spec=None))
    enabled = {KEY_NAMES.get(b.key, b.key) for b in DashboardScreen.BINDINGS
               if scr.check_action(b.action.split("(")[0], ())}  # as Textual asks: the name, no arguments
    widget_keys = {"↑", "↓", "enter"}  # the layer table's
    app_keys = {"g"}  # the app's system panel (? and q are under "everywhere")
    assert _keys(WATCH_KEYS) == enabled | widget_keys | app_keys


@pytest.mark.parametrize("section,cls", [("dltui watch FOLDER (the runs in it)", "RunsOverviewScreen"),
                                         ("dltui compare", "CompareScreen"), ("system panel (g)", "SystemScreen")])
def test_the_other_screens_have_help_sections_with_all_their_keys(section, cls):
    import importlib

    mod = {"RunsOverviewScreen": "runs_overview", "CompareScreen": "compare", "SystemScreen": "system"}[cls]
    screen = getattr(importlib.import_module(f"dltui.tui.screens.{mod}"), cls)
    lines = dict(key_sections(DltuiApp))[section]
    from dltui.tui.screens.help import key_label

    bound = {k.strip() for b in screen.BINDINGS for k in key_label(b).replace(",", " ").split()}
    assert bound <= _keys(lines) | {"escape"} and all(text for _, text in lines)
    assert section.split(" (")[0] in help_text(DltuiApp).plain

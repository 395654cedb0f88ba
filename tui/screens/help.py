"""`?`: every key of the app, by screen."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEY_NAMES = {"right": "→", "left": "←", "up": "↑", "down": "↓", "right_square_bracket": "]",
             "left_square_bracket": "[", "plus": "+", "minus": "-", "equals_sign": "=", "question_mark": "?",
             "slash": "/"}


def key_label(b: Binding) -> str:
    return b.key_display or ", ".join(KEY_NAMES.get(k.strip(), k.strip()) for k in b.key.split(","))


def screen_lines(bindings, entries) -> list[tuple[str, str]]:
    """A screen's help lines from its bindings, in the order of its ``HELP_KEYS``: an action (its keys,
    its tooltip); a tuple of actions (their keys, the first one's tooltip); (keys, action, ...) (those
    keys, the first action's tooltip); or (keys, text) for keys bound elsewhere (a widget, Textual)."""
    by_action = {b.action: b for b in bindings}
    out = []
    for e in entries:
        if isinstance(e, str):
            out.append((key_label(by_action[e]), by_action[e].tooltip))
        elif all(a in by_action for a in e):
            out.append((" ".join(key_label(by_action[a]) for a in e), by_action[e[0]].tooltip))
        elif e[1] in by_action:
            out.append((e[0], by_action[e[1]].tooltip))
        else:
            out.append(tuple(e))
    return out


def help_actions(entries) -> set[str]:
    """The actions a ``HELP_KEYS`` list covers."""
    return {a for e in entries for a in ((e,) if isinstance(e, str) else e)}


def key_sections(app_cls) -> list[tuple[str, list[tuple[str, str]]]]:
    """Every key of the app, by screen, generated from the bindings."""
    from dltui.tui.screens.backprop import BackpropScreen
    from dltui.tui.screens.dashboard import DashboardScreen
    from dltui.tui.screens.picker import PickerScreen
    from dltui.tui.screens.settings import SettingsScreen
    from dltui.tui.screens.shape import ShapeScreen

    return [
        ("everywhere", screen_lines(app_cls.BINDINGS, app_cls.HELP_KEYS)),
        ("presets", screen_lines(PickerScreen.BINDINGS, PickerScreen.HELP_KEYS)),
        ("dashboard", screen_lines(DashboardScreen.BINDINGS, DashboardScreen.HELP_KEYS)),
        ("backprop step-through (b)", screen_lines(BackpropScreen.BINDINGS, BackpropScreen.HELP_KEYS)),
        ("preset editor (o)", screen_lines(SettingsScreen.BINDINGS, SettingsScreen.HELP_KEYS)),
        ("unit view, 1-D sets (u)", screen_lines(ShapeScreen.BINDINGS, ShapeScreen.HELP_KEYS)),
        ("dltui watch RUN_DIR", WATCH_KEYS),
        ("dltui watch FOLDER (the runs in it)", RUNS_KEYS),
        ("dltui compare", COMPARE_KEYS),
        ("system panel (g)", SYSTEM_KEYS),
    ]


# a watched run is another process's: the dashboard keys that only read it (tests/test_help_keys.py checks
# this list against the keys the dashboard enables on a watched run)
WATCH_KEYS = [("l k a m z", "the loss plot, as on the dashboard: log scale, batch losses, x-axis, smoothing, "
                            "window"),
              ("v w u U d i", "the right panel, as on the dashboard (learned / weights / network, units, classes, "
                              "points)"),
              ("↑ ↓ enter", "in the layer table: a layer's matrices (the checkpoint's)"),
              ("b", "backprop step-through at the checkpoint's weights (t cannot train there)"),
              ("g", "the system panel"),
              ("C", "compare it with the other runs of its preset in its runs folder"),
              ("T", "TensorBoard files of the run in RUN/tensorboard/, followed while it goes on (T stops)"),
              ("p", "back to the presets; the run itself is driven by `dltui train`")]
RUNS_KEYS = [("↑ ↓", "choose a run (its state: running, ended, killed, stale)"),
             ("enter", "open the run: its dashboard, following it while another process writes it"),
             ("r", "read the folder again now (it is read every few seconds anyway)"),
             ("q", "quit")]
# compare.py imports this module (its own `?` shows these lines), so its keys are listed here, checked
# against its bindings by tests/test_help_keys.py
COMPARE_KEYS = [("enter", "open the selected run's dashboard read-only (escape comes back)"),
                ("x", "x-axis: epochs, updates, seconds"), ("l", "loss: log / linear scale"),
                ("v", "validation / training loss"), ("b", "a setting's seeds: min-max band / thin lines"),
                ("↑ ↓", "choose a run"), ("esc", "back (or quit when nothing is below); in a run opened "
                                                    "with enter, back to the comparison"),
                ("?", "these keys")]
SYSTEM_KEYS = [("esc, g", "back (CPU, memory and GPU use: read every second)"), ("q", "quit")]


LINE = 72  # the widest help line: fits the box (84 columns, less at 80) with its border and scrollbar


def help_text(app_cls, first: str = "") -> Text:
    """Every key, grouped by screen, in two aligned columns; a long description wraps under itself.
    The section named ``first`` (a screen's own ?) comes first."""
    import textwrap

    sections = sorted(key_sections(app_cls), key=lambda s: s[0] != first)  # stable: the rest keep order
    width = max(len(k) for _, keys in sections for k, _ in keys) + 4
    out = Text()
    for i, (where, keys) in enumerate(sections):
        out.append(("\n" if i else "") + where + "\n", "bold underline")
        for k, what in keys:
            out.append(f"  {k:<{width}}", "bold")
            lines = textwrap.wrap(what, max(20, LINE - width - 2)) or [""]
            out.append(("\n" + " " * (width + 2)).join(lines) + "\n")
    out.rstrip()
    return out


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "close", "close")]
    FIRST = ""  # the section shown first (a screen's own ? opens a subclass naming it)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            yield Static("dltui keys · escape or ? closes", classes="box-title")
            yield Static(help_text(type(self.app), self.FIRST), id="help-keys")
            yield Static("escape or ? closes", classes="hint")

    def action_close(self) -> None:
        self.dismiss(None)

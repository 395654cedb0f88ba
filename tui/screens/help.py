"""`?`: every key of the app, by screen."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS = [
    ("everywhere", [("?", "this help"), ("q", "quit"), ("ctrl+p", "command palette")]),
    ("presets", [("↑ ↓", "choose a preset"), ("enter", "open it in the dashboard"),
                 ("/", "filter by typing (enter starts the first match, escape clears)"),
                 ("a-z", "typing a name on the list filters it too"),
                 ("d", "type the CSV path for presets that need --data")]),
    ("dashboard", [("space", "start / pause"), ("n", "one batch (one optimizer step)"), ("e", "one epoch"),
                   ("s", "stop (keeps the best weights)"), ("r", "restart with a new seed"),
                   ("b", "backprop step-through on one batch"),
                   ("o", "settings: learning rate, batch size, epochs, backend/device"),
                   ("[ ]", "halve / double the learning rate (live)"), ("l", "loss plot: log / linear scale"),
                   ("v", "switch the right panel (learned / weights); on small terminals, show it"),
                   ("↑ ↓ enter", "in the layer table: show a layer's weight and gradient matrices"),
                   ("p", "back to the presets (stops the run)")]),
    ("backprop step-through (b)", [("← →", "previous / next stage"),
                                   ("f b g u", "jump to forward / backward / gradients / update"),
                                   ("[ ]  - +", "previous / next sample of the batch"),
                                   ("t, enter", "train one step on this batch and trace it again"),
                                   ("↑ ↓", "scroll the stage"), ("⇧ + arrows", "scroll a wide matrix"),
                                   ("escape, q", "back to the dashboard")]),
    ("dltui watch RUN_DIR", [("l v ↑ ↓", "as on the dashboard; the run itself is driven by `dltui train`"),
                             ("p", "back to the presets")]),
]


def help_text() -> Text:
    """Every key, grouped by screen, in two aligned columns."""
    width = max(len(k) for _, keys in KEYS for k, _ in keys) + 4
    out = Text()
    for i, (where, keys) in enumerate(KEYS):
        out.append(("\n" if i else "") + where + "\n", "bold underline")
        for k, what in keys:
            out.append(f"  {k:<{width}}", "bold")
            out.append(what + "\n")
    out.rstrip()
    return out


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "close", "close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            yield Static("dltui keys", classes="box-title")
            yield Static(help_text(), id="help-keys")
            yield Static("escape or ? closes", classes="hint")

    def action_close(self) -> None:
        self.dismiss(None)

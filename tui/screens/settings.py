"""A small form for the run's learning rate, batch size, epochs, backend and device.

The learning rate changes live; the others apply before the first step, between runs, or on
the next restart. Returns a dict of dotted preset keys to new values, or None when cancelled.
"""

from __future__ import annotations

import importlib.util

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Select, Static


def torch_available() -> bool:
    """Whether the torch backend could be chosen, without importing torch."""
    try:
        return (importlib.util.find_spec("torch") is not None
                and importlib.util.find_spec("dltui.core.backends.torch_backend") is not None)
    except (ImportError, ValueError):
        return False


def parse_settings(lr: str, batch: str, epochs: str, backend: str, device: str) -> dict:
    """The form's text as preset overrides; ValueError names the field that is wrong."""
    out: dict = {}
    try:
        v = float(lr)
    except ValueError:
        raise ValueError(f"learning rate: '{lr}' is not a number (e.g. 0.01 or 3e-4)") from None
    if not v > 0:
        raise ValueError("learning rate: must be greater than 0")
    out["optimizer.lr"] = v
    for key, text, lo, what in (("training.batch_size", batch, 0, "batch size (0 = all rows)"),
                                ("training.epochs", epochs, 1, "epochs")):
        try:
            n = int(text)
        except ValueError:
            raise ValueError(f"{what}: '{text}' is not a whole number") from None
        if n < lo:
            raise ValueError(f"{what}: must be at least {lo}")
        out[key] = n
    out["training.backend"] = backend
    out["training.device"] = device.strip() or "auto"
    return out


class SettingsScreen(ModalScreen[dict | None]):
    BINDINGS = [Binding("escape", "cancel", "cancel"), Binding("ctrl+s", "apply", "apply")]

    def __init__(self, spec, *, live: bool = False):
        super().__init__()
        self.spec, self.live = spec, live

    def compose(self) -> ComposeResult:
        t, o = self.spec.values["training"], self.spec.values["optimizer"]
        backends = [("numpy", "numpy")] + ([("torch", "torch")] if torch_available() else [])
        with Vertical(id="settings-box"):
            yield Static("run settings", classes="box-title")
            with Grid(id="settings-grid"):
                yield Label("learning rate")
                yield Input(f"{o['lr']:g}", id="lr")
                yield Label("batch size")
                yield Input(str(t["batch_size"]), id="batch_size", type="integer")
                yield Label("epochs")
                yield Input(str(t["epochs"]), id="epochs", type="integer")
                yield Label("backend")
                yield Select(backends, value=t["backend"] if t["backend"] in dict(backends) else "numpy",
                             allow_blank=False, id="backend")
                yield Label("device")
                yield Input(str(t.get("device", "auto")), id="device")
            note = ("the learning rate changes now; the rest apply to the next run (r)" if self.live else
                    "applies now; the run stays paused at epoch 0")
            if len(backends) == 1:
                missing = importlib.util.find_spec("torch") is None
                note += (" · torch is not installed (pip install \"dltui[torch]\")" if missing
                         else " · no torch backend in this build")
            yield Static(note, id="settings-note", markup=False)
            yield Static("", id="settings-error")
            yield Static("enter apply · escape cancel", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#lr", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.action_apply()

    def action_apply(self) -> None:
        val = lambda i: self.query_one(f"#{i}", Input).value  # noqa: E731
        try:
            out = parse_settings(val("lr"), val("batch_size"), val("epochs"),
                                 str(self.query_one("#backend", Select).value), val("device"))
        except ValueError as e:
            self.query_one("#settings-error", Static).update(f"error: {e}")
            return
        self.dismiss(out)

    def action_cancel(self) -> None:
        self.dismiss(None)

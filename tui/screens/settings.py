"""The preset editor (key `o` on the dashboard): the run's network, data and training, by keys alone.

↑↓ pick a row, ←→ (or -/+) change it, space does the row's own thing (a layer's activation, an input
on or off, new data), a / x add / remove a hidden layer, digits type a value, enter applies (the run
restarts with the change; the dashboard keeps the old loss curve as a ghost), w writes the edited
preset as TOML and shows the equivalent command line, escape cancels. Every edit is checked at once
with the CLI's own messages (``preset_edit.PresetEdit``); an invalid one changes nothing.

Dismisses with an ``Edited`` (the new spec and what changed) or None.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dltui.core.backends.autodevice import torch_installed
from dltui.core.sanitize import safe, safe_line
from dltui.tui.screens.preset_edit import PresetEdit
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Input, Static

TYPED = set("0123456789.-")
LABEL_W = 18


@dataclass
class Edited:
    spec: object  # the edited Spec
    changes: list[str]  # what differs from the run's preset, one phrase a key


class EditorRows(Widget):
    """The editor's rows, the current one marked (▶ and reverse video: readable without colour);
    only a window around it when the terminal is short."""

    DEFAULT_CSS = "EditorRows { height: 1fr; min-height: 4; }"
    can_focus = True

    def __init__(self, model: PresetEdit, **kw):
        super().__init__(**kw)
        self.model = model

    def render(self) -> Text:
        m = self.model
        rows, _ = m.rows(), m.row  # m.row clamps the cursor
        h = max(self.size.height, 1)
        start = max(0, min(m.cursor - h // 2, len(rows) - h))
        out = []
        for i, row in enumerate(rows[start:start + h], start):
            on = i == m.cursor
            line = Text("▶ " if on else "  ", style="bold")
            line.append(f"{row.label:<{LABEL_W}}", style="bold" if on else "")
            if row.kind == "inputs":
                line.append_text(self._inputs(on))
            else:
                line.append(m.value_text(row), style="reverse" if on else "")
            out.append(line)
        return Text("\n").join(out)

    def _inputs(self, on: bool) -> Text:
        from dltui.core.data.dataset import PLAYGROUND_INPUTS
        from dltui.tui.screens.preset_edit import INPUT_LABELS

        m, out = self.model, Text()
        for j, name in enumerate(PLAYGROUND_INPUTS):
            used = name in m.values["data"]["inputs"]
            label = f"[{INPUT_LABELS[name]}]" if used else f" {INPUT_LABELS[name]} "
            out.append(label, style=("reverse " if on and j == m.input_cursor else "") + ("bold" if used else "dim"))
        return out


class SettingsScreen(ModalScreen["Edited | None"]):
    """The editor. (Its name is the old settings screen's: `o` opens it, as before.)"""

    BINDINGS = [
        Binding("escape", "cancel", "cancel", tooltip="close without changing the run (or leave a typed value)"),
        Binding("enter,ctrl+s", "apply", "apply & restart", key_display="enter",
                tooltip="restart the run with the edited preset"),
        Binding("up,k", "move(-1)", "up", show=False, key_display="↑/k", tooltip="the previous / next row"),
        Binding("down,j", "move(1)", "down", show=False, key_display="↓/j"),
        Binding("left,h,minus", "change(-1)", "less", show=False, key_display="←/h/-",
                tooltip="change the row's value (a layer: its units)"),
        Binding("right,l,plus,equals_sign", "change(1)", "more", show=False, key_display="→/l/+"),
        Binding("space", "toggle", "toggle", show=False,
                tooltip="the row's own action: a layer's activation, an input on/off, new data"),
        Binding("a", "add_layer", "add layer", show=False, tooltip="add / remove a hidden layer"),
        Binding("x,delete", "remove_layer", "remove layer", show=False),
        Binding("w", "write", "write TOML", tooltip="write the edited preset as TOML; show the command line"),
    ]
    HELP_KEYS = [("move(-1)", "move(1)"), ("change(-1)", "change(1)"), "toggle", ("add_layer", "remove_layer"),
                 ("0-9 . -", "type a value (enter sets it)"), "apply", "write", "cancel"]

    def __init__(self, spec, *, save_dir: str | Path | None = None):
        super().__init__()
        self.spec = spec
        self.model = PresetEdit(spec)
        self.save_dir = Path(save_dir) if save_dir is not None else Path.cwd()
        self.written: Path | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="settings-box"):
            yield Static(f"edit the preset · {safe_line(self.spec.name)}", classes="box-title", markup=False)
            yield EditorRows(self.model, id="edit-rows")
            yield Input("", id="edit-input", placeholder="a value; enter sets it, escape leaves it",
                        select_on_focus=False)
            yield Static("", id="edit-changes", markup=False)
            yield Static("", id="settings-error", markup=False)
            yield Static("", id="edit-written", markup=False)
            yield Static("", id="edit-hint", classes="hint", markup=False)
            yield Static("enter apply & restart · w write TOML · esc cancel", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#edit-input", Input).display = False
        self.query_one("#edit-written").display = False
        self.query_one("#edit-rows").focus()
        self._show()

    @property
    def typing(self) -> bool:
        return self.query_one("#edit-input", Input).display

    def _show(self) -> None:
        m = self.model
        self.query_one("#edit-rows").refresh()
        ch = m.changes()
        self.query_one("#edit-changes", Static).update(safe("changes: " + ("; ".join(ch) if ch else "none yet")))
        err = self.query_one("#settings-error", Static)
        err.update(safe(f"error: {m.error}") if m.error else "")
        err.display = bool(m.error)
        note = m.hint()
        if m.row.label in ("backend", "device") and not torch_installed():
            note += " · torch is not installed (pip install \"dltui[torch]\")"
        self.query_one("#edit-hint", Static).update(note)

    # ------------------------------------------------------------ keys
    def check_action(self, action: str, parameters) -> bool | None:
        if self.is_mounted and self.typing and action != "cancel":
            return False  # the input has the keys
        return True

    def action_move(self, delta: int) -> None:
        self.model.move(delta)
        self._show()

    def action_change(self, delta: int) -> None:
        self.model.change(delta)
        self._show()

    def action_toggle(self) -> None:
        self.model.toggle()
        self._show()

    def action_add_layer(self) -> None:
        self.model.add_layer()
        self._show()

    def action_remove_layer(self) -> None:
        self.model.remove_layer()
        self._show()

    def on_key(self, event) -> None:
        """Typing a digit on a number row opens the input with it."""
        if self.typing or event.character is None or event.character not in TYPED:
            return
        if event.character in "-" and self.model.row.kind not in ("ladder", "seed"):
            return
        if self.model.row.kind in ("ladder", "layer", "seed"):
            event.stop()
            event.prevent_default()
            box = self.query_one("#edit-input", Input)
            box.display = True
            box.value = event.character
            box.cursor_position = 1
            box.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.model.set_text(event.value.strip())
        self._close_input()
        self._show()

    def _close_input(self) -> None:
        box = self.query_one("#edit-input", Input)
        box.display = False
        box.value = ""
        self.query_one("#edit-rows").focus()

    def action_apply(self) -> None:
        m = self.model
        if m.error:  # the invalid edit was undone; the first enter after it only clears its message
            m.error = ""
            self._show()
            return
        self.dismiss(Edited(m.spec(), m.changes()) if m.changes() else None)

    def action_write(self) -> None:
        try:
            path = self.model.write(self.save_dir)
        except OSError as e:
            self.model.error = f"cannot write the preset: {e}"
            self._show()
            return
        self.written = path
        cmd = self.model.command()
        text = f"wrote {path}\n  dltui train {path}" + (f"\n  or: {cmd}" if cmd else "")
        box = self.query_one("#edit-written", Static)
        box.update(safe(text))
        box.display = True

    def action_cancel(self) -> None:
        if self.typing:
            self._close_input()
            return
        self.dismiss(None)

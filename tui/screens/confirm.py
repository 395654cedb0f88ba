"""A yes/no question before something that throws work away: `y` (or enter) yes, `n` or escape no."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static


class ConfirmScreen(ModalScreen[bool]):
    BINDINGS = [
        Binding("y,enter", "answer(1)", "yes"),
        Binding("n,escape", "answer(0)", "no"),
    ]
    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    #confirm-box { width: 60; max-width: 100%; height: auto; border: thick $warning; padding: 0 1;
                   background: $surface; }
    """

    def __init__(self, question: str):
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Static(self.question, id="confirm-text")
            yield Static("y / enter: yes    n / esc: no", classes="hint")

    def action_answer(self, yes: int) -> None:
        self.dismiss(bool(yes))


class PromptScreen(ModalScreen[str | None]):
    """One line of text (a path): enter gives it, escape gives None."""

    BINDINGS = [Binding("escape", "cancel", "cancel")]
    DEFAULT_CSS = """
    PromptScreen { align: center middle; }
    #prompt-box { width: 70; max-width: 100%; height: auto; border: thick $primary; padding: 0 1;
                  background: $surface; }
    """

    def __init__(self, question: str, value: str = ""):
        super().__init__()
        self.question, self.value = question, value

    def compose(self) -> ComposeResult:
        from textual.widgets import Input

        with Vertical(id="prompt-box"):
            yield Static(self.question)
            yield Input(self.value, id="prompt-input")
            yield Static("enter: ok    esc: cancel", classes="hint")

    def on_input_submitted(self, event) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)

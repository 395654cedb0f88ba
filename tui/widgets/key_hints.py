"""The key map at the bottom of the dashboard: every shown binding, wrapped onto a second line
when the terminal is narrow (80 columns), so no key falls off the edge as in a one-line footer."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

NBSP = "\u00a0"


class KeyHints(Widget):
    DEFAULT_CSS = """
    KeyHints { height: auto; max-height: 2; width: 1fr; padding: 0 1; background: $panel; }
    """

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, lambda _screen: self.refresh(layout=True))

    def hints(self) -> list[tuple[str, str, bool]]:
        """(key, description, enabled) for each shown binding: the screen's first, then the app's."""
        seen, out, late = set(), [], []
        for active in self.screen.active_bindings.values():
            b = active.binding
            if not b.show or not b.description or b.action in seen:
                continue
            seen.add(b.action)
            item = (self.app.get_key_display(b), b.description, active.enabled)
            (late if active.node is self.app else out).append(item)
        return out + late

    def render(self) -> Text:
        text = Text(no_wrap=False, overflow="fold")
        for i, (key, desc, enabled) in enumerate(self.hints()):
            if i:
                text.append("  ")
            text.append(key.replace(" ", NBSP), "bold reverse" if enabled else "dim")
            text.append(NBSP + desc.replace(" ", NBSP), "" if enabled else "dim")
        return text

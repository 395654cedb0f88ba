"""A small diagram of the network: one column of neurons per layer, the current layer highlighted.

     in     h1     out
     ●      ●
     ●   →  ●      ●
            ●
            ●
           +12
     2      16      1

Wide layers show a few dots and "+n"; the arrow shows the pass's direction at the highlighted
layer (→ forward, ← backward). Fits in 26 columns for up to four layers.
"""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

MAX_DOTS = 5


class NetworkDiagram(Static):
    DEFAULT_CSS = """
    NetworkDiagram { height: auto; width: auto; padding: 0 1; }
    """

    current_layer: reactive[int | None] = reactive(None)  # 1-based layer whose output column is highlighted
    direction: reactive[str] = reactive("forward")  # forward | backward | loss | weights

    def __init__(self, sizes: list[int], **kw):
        super().__init__(**kw)
        self.sizes = list(sizes)

    def set_stage(self, kind: str, layer: int | None) -> None:
        L = len(self.sizes) - 1
        self.direction = {"forward": "forward", "backward": "backward", "loss": "loss"}.get(kind, "weights")
        self.current_layer = L if layer is None else layer

    def watch_current_layer(self) -> None:
        self.update(self.render_diagram())

    def watch_direction(self) -> None:
        self.update(self.render_diagram())

    def on_mount(self) -> None:
        self.update(self.render_diagram())

    def render_diagram(self) -> Text:
        sizes, L, hl = self.sizes, len(self.sizes) - 1, self.current_layer
        names = ["in"] + [f"h{i}" for i in range(1, L)] + ["out"]
        rows = min(MAX_DOTS, max(sizes))
        width = 4
        hot = "bold reverse" if self.direction != "weights" else "bold"
        link = {"forward": " → ", "backward": " ← ", "loss": "   ", "weights": " W "}[self.direction]

        def col_style(k: int) -> str:
            if hl is None:
                return ""
            if k == hl:
                return hot
            if self.direction == "weights" and k == hl - 1:
                return "bold"
            return "dim"

        text = Text(no_wrap=True)
        for k, name in enumerate(names):
            if k:
                text.append("   ")
            text.append(name.center(width), style=col_style(k))
        text.append("\n")
        mid = min(rows, MAX_DOTS) // 2
        for r in range(rows):
            for k, n in enumerate(sizes):
                if k:
                    arrow = link if (hl is not None and k == hl and r == mid) else "   "
                    text.append(arrow, style="bold" if arrow.strip() else "")
                if n <= MAX_DOTS:
                    cell = "●" if r < n else ""
                else:
                    cell = "●" if r < MAX_DOTS - 1 else f"+{n - MAX_DOTS + 1}"
                text.append(cell.center(width), style=col_style(k))
            text.append("\n")
        for k, n in enumerate(sizes):
            if k:
                text.append("   ")
            text.append(str(n).center(width), style=col_style(k))
        if self.direction == "loss":
            text.append("\n" + "→ C".rjust(len(names) * width + (len(names) - 1) * 3), style="bold")
        return text

"""The whole network at a glance (Playground's main picture): every unit of every layer as its own card,
a thumbnail of what it computes (``network_cards``) above its incoming edges, one glyph per weight.

Layers are bands from the inputs down to the output; a band wraps its cards into rows, and the panel
scrolls by layer (↑ ↓ move the selection a layer, the band comes into view). A layer wider than
``MAX_CARDS`` units (Playground tops out at 8; fat-56 has 56, HW1's 512) shows the units with the
largest outgoing weights and a sparkline of the rest; a fan-in wider than a card (HW1's 117 inputs)
shows its count and signs. The selected unit's card is reversed; ``<`` ``>`` select one of its incoming
edges, whose weight and gradient the line above reads out; enter opens the single-unit view (the
screen gets ``UnitChosen``). Mouse clicks select units and edges too.

``configure(data, spec)`` once per run, ``show_params(params, grads)`` as often as the dashboard likes:
the pictures are computed only when the panel is drawn (one forward pass over a few dozen inputs).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from dltui.tui.widgets import network_cards as nc
from rich.text import Text
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.geometry import Region, Spacing
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Static

CARD_W = 8  # a card's width (thumbnail and fan-in), one column apart
FAN_ROWS = 2  # lines of incoming edges under a thumbnail (2 x 8 = 16 weights shown one by one)
MAX_CARDS = 24  # wider layers summarise
INFO_ROWS = 2  # the selection's line and the keys, docked above the cards
Unit = tuple[int, int]  # (layer, index): layer 0.. hidden, len(hidden) the output


@dataclass
class Band:
    layer: int
    shown: list[int]  # the units drawn as cards
    n: int  # the layer's units
    top: int = 0  # its first line in the panel
    hits: list[tuple[int, int, int, int, Unit, int | None]] = field(default_factory=list)  # y, x0, x1, ...


class NetworkCards(Widget):
    """The cards themselves (inside ``NetworkView``, which scrolls them); it draws its parent's state."""

    DEFAULT_CSS = "NetworkCards { height: auto; width: 1fr; text-wrap: nowrap; text-overflow: clip; }"

    def get_content_height(self, container, viewport, width: int) -> int:
        return self.parent.layout_bands(width)

    def render(self) -> Text:
        return self.parent.cards_text(self.content_size.width)

    def on_click(self, event) -> None:
        self.parent.click(event.x, event.y)


class NetworkView(VerticalScroll, can_focus=True):
    """The network panel (see the module doc)."""

    DEFAULT_CSS = """
    NetworkView { height: 1fr; }
    NetworkView > #net-info { dock: top; height: 2; text-wrap: nowrap; text-overflow: ellipsis; }
    """
    BINDINGS = [
        Binding("left", "move(-1)", "unit", show=False), Binding("right", "move(1)", "unit", show=False),
        Binding("up", "layer(-1)", "layer", show=False), Binding("down", "layer(1)", "layer", show=False),
        Binding("pageup", "layer(-1)", "layer", show=False), Binding("pagedown", "layer(1)", "layer", show=False),
        Binding("comma", "edge(-1)", "edge", show=False), Binding("full_stop", "edge(1)", "edge", show=False),
        Binding("enter", "open", "unit view", show=False),
    ]

    class UnitChosen(Message):
        """Enter on a unit: ``unit`` is (hidden layer, index) from 0, or None for the output."""

        def __init__(self, unit: Unit | None) -> None:
            super().__init__()
            self.unit = unit

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.data = self.params = self.grads = None
        self.activations: list[str] = []
        self.sizes: list[int] = []  # units per layer, the output last
        self.kind = "rows"
        self.sel: Unit = (0, 0)
        self.edge: int | None = None
        self.bands: list[Band] = []
        self.drawn = 0  # how many times the cards were computed (tests: only when shown)

    def compose(self):
        yield Static("", id="net-info", markup=False)
        yield NetworkCards()

    # ------------------------------------------------------------ data in
    def configure(self, data, spec) -> None:
        self.data, self.activations = data, list(spec.activations)
        self.sizes = list(spec.values["model"]["hidden"]) + [data.n_outputs]
        self.kind, self.params, self.grads, self.edge = nc.picture_kind(data), None, None, None
        self.sel = self.sel if self.sel[0] < len(self.sizes) and self.sel[1] < self.sizes[self.sel[0]] else (0, 0)
        self._changed(layout=True)

    def show_params(self, params, grads=None) -> None:
        if self.data is None or not params or len(params) != len(self.sizes):
            return
        self.params = [(np.asarray(W, np.float64), np.asarray(b, np.float64)) for W, b in params]
        self.grads = None if grads is None else [np.asarray(g, np.float64) for g in grads]
        self._changed(layout=False)

    def _changed(self, layout: bool) -> None:
        if self.is_mounted:
            self.query_one(NetworkCards).refresh(layout=layout)
            self.query_one("#net-info", Static).update(self.info())

    # ------------------------------------------------------------ layout
    def thumb_rows(self) -> int:
        return 1 if self.kind == "rows" else 3

    def card_rows(self) -> int:
        return 1 + self.thumb_rows() + FAN_ROWS

    def per_row(self, width: int) -> int:
        return max(1, (width + 1) // (CARD_W + 1))

    def fits(self, width: int, height: int) -> bool:
        """The whole network fits a panel this size without scrolling."""
        return bool(self.sizes) and self.layout_bands(width) + 2 <= height

    def layout_bands(self, width: int) -> int:
        """Which units each layer shows and where; the panel's height in lines."""
        if self.data is None:
            return 1
        y, bands, per = 1, [], self.per_row(width)  # line 0: the inputs
        for layer, n in enumerate(self.sizes):
            shown = self._shown(layer, n)
            b = Band(layer, shown, n, top=y)
            rows = -(-len(shown) // per)
            y += 1 + rows * self.card_rows() + (len(shown) < n)
            for k, j in enumerate(shown):
                cy, cx = b.top + 1 + (k // per) * self.card_rows(), (k % per) * (CARD_W + 1)
                b.hits.append((cy, cx, cx + CARD_W, cy + 1 + self.thumb_rows(), (layer, j), None))
                n_in = self.params[layer][0].shape[1] if self.params is not None else 0
                if n_in <= CARD_W * FAN_ROWS:
                    for i in range(n_in):
                        ey = cy + 1 + self.thumb_rows() + i // CARD_W
                        b.hits.append((ey, cx + i % CARD_W, cx + i % CARD_W + 1, ey + 1, (layer, j), i))
            bands.append(b)
        self.bands = bands
        return y + 1

    def _shown(self, layer: int, n: int) -> list[int]:
        if n <= MAX_CARDS:
            return list(range(n))
        return sorted(np.argsort(-self._outgoing(layer), kind="stable")[:MAX_CARDS - 1].tolist())

    def _outgoing(self, layer: int) -> np.ndarray:
        """Each unit's outgoing weight norm (how much the next layer listens to it)."""
        if self.params is None:
            return np.zeros(self.sizes[layer])
        return np.linalg.norm(self.params[layer + 1][0], axis=0)

    # ------------------------------------------------------------ drawing
    def cards_text(self, width: int) -> Text:
        if self.data is None or self.params is None:
            return Text("the network appears when the run has weights", style="dim")
        self.drawn += 1
        height = self.layout_bands(width)
        tw, th = CARD_W, self.thumb_rows()
        outs, xs = nc.layer_outputs(self.data, self.params, self.activations, self.kind, tw, th)
        lines = [self._inputs_line(width)]
        for b in self.bands:
            lines.append(self._band_head(b))
            lines += self._band_cards(b, outs[b.layer], xs, width)
            if len(b.shown) < b.n:
                rest = np.sort(self._outgoing(b.layer))[::-1]
                lines.append(Text.assemble((f"+{b.n - len(b.shown)} more units, all by outgoing |w|: ", "dim"),
                                           nc.sparkline(rest, max(width - 40, 8))))
        lines.append(Text(nc.EDGE_LEGEND, style="dim"))
        for line in lines:
            line.truncate(width, overflow="ellipsis")
        out = Text("\n").join(lines[:height])
        out.no_wrap, out.overflow = True, "crop"
        return out

    def _inputs_line(self, width: int) -> Text:
        names = list(self.data.features.names)
        return Text(f"inputs ({len(names)}): " + " ".join(names), style="bold", overflow="ellipsis")

    def _band_head(self, b: Band) -> Text:
        prev = "the inputs" if b.layer == 0 else f"hidden {b.layer}"
        if b.layer == len(self.sizes) - 1:
            what = "class probabilities" if self.data.task == "classification" else "value"
            name = f"output · {b.n} {what}"
        else:
            name = f"hidden {b.layer + 1} · {b.n} {self.activations[b.layer]}"
        scale = float(np.abs(self.params[b.layer][0]).max())
        return Text.assemble((name, "bold"), (f" · edges from {prev}, largest |w| {scale:.2g}", "dim"))

    def _band_cards(self, b: Band, values: np.ndarray, xs, width: int) -> list[Text]:
        W = self.params[b.layer][0]
        scale = float(np.abs(W).max())
        act = self.activations[b.layer] if b.layer < len(self.activations) else ""
        per, lines = self.per_row(width), []
        for start in range(0, len(b.shown), per):
            row = [Text() for _ in range(self.card_rows())]
            for k, j in enumerate(b.shown[start:start + per]):
                picked = self.sel == (b.layer, j)
                label = Text(f"{self._unit_label(b.layer, j):<{CARD_W}}"[:CARD_W],
                             style="bold reverse" if picked else "bold")
                pic = nc.thumbnail(values[:, j], act, self.kind, CARD_W, self.thumb_rows(), xs)
                fan = nc.fan_in(W[j], scale, CARD_W, FAN_ROWS, self.edge if picked else None)
                for r, part in enumerate([label, *pic, *fan]):
                    if k:
                        row[r].append(" ")
                    part.pad_right(CARD_W - part.cell_len)
                    row[r].append_text(part)
            lines += row
        return lines

    def _unit_label(self, layer: int, j: int) -> str:
        if layer < len(self.sizes) - 1:
            return f"{layer + 1}.{j + 1}"
        if self.data.task == "classification":
            return f"p({j})"
        return "out" if self.sizes[-1] == 1 else f"out {j + 1}"

    # ------------------------------------------------------------ the selection
    def source_name(self, layer: int, i: int) -> str:
        if layer == 0:
            names = self.data.features.names
            return names[i] if i < len(names) else f"input {i + 1}"
        return f"{layer}.{i + 1}"

    def info(self) -> Text:
        keys = "←→ unit · ↑↓ layer · < > edge · enter unit view · click selects"
        if self.params is None or self.data is None:
            return Text(keys, style="dim")
        layer, j = self.sel
        W, b = self.params[layer]
        name = self._unit_label(layer, j) if layer == len(self.sizes) - 1 else f"unit {layer + 1}.{j + 1}"
        out = Text(f"{name}", style="bold")
        if self.edge is None:
            out.append(f" · bias {b[j]:+.3f} · {W.shape[1]} edges in, largest |w| {np.abs(W[j]).max():.3g}")
        else:
            g = self.grads[layer][j, self.edge] if self.grads is not None and layer < len(self.grads) else None
            out = Text(f"edge {self.source_name(layer, self.edge)} → {name}: ", style="bold")
            out.append(f"w {W[j, self.edge]:+.4g} · ∂L/∂w " + (f"{g:+.3g}" if g is not None else "not kept"))
        out.append("\n" + keys, style="dim")
        return out

    def order(self) -> list[Unit]:
        if not self.bands:
            self.layout_bands(max(self.size.width, CARD_W))
        return [(b.layer, j) for b in self.bands for j in b.shown]

    def select(self, unit: Unit, edge: int | None = None) -> None:
        self.sel, self.edge = unit, edge
        self._changed(layout=False)
        for b in self.bands:
            for y, _x0, _x1, y1, u, e in b.hits:
                if u == unit and e is None:  # the card, and its band's title when it is in the first row
                    top = (b.top if b.layer else 0) if y == b.top + 1 else y  # layer 1: the inputs too
                    self.scroll_to_region(Region(0, top, 1, y1 + FAN_ROWS - top), animate=False,
                                          spacing=Spacing(0, 0, INFO_ROWS, 0))  # under the docked info

    def action_move(self, delta: int) -> None:
        units = self.order()
        if units:
            i = units.index(self.sel) if self.sel in units else 0
            self.select(units[(i + delta) % len(units)])

    def action_layer(self, delta: int) -> None:
        units = self.order()
        if not units:
            return
        layer = (self.sel[0] + delta) % len(self.sizes)
        same = [u for u in units if u[0] == layer]
        self.select(same[min(self.sel[1], len(same) - 1)] if same else units[0])

    def action_edge(self, delta: int) -> None:
        if self.params is None:
            return
        n_in = self.params[self.sel[0]][0].shape[1]
        e = (-1 if delta > 0 else n_in) if self.edge is None else self.edge
        self.select(self.sel, (e + delta) % n_in)

    def action_open(self) -> None:
        layer, j = self.sel
        self.post_message(self.UnitChosen(None if layer == len(self.sizes) - 1 else (layer, j)))

    def click(self, x: int, y: int) -> None:
        self.focus()
        for b in self.bands:
            for y0, x0, x1, y1, unit, edge in b.hits:
                if y0 <= y < y1 and x0 <= x < x1:
                    self.select(unit, edge)
                    return

"""The check panel: backprop's gradient for a few weights vs a finite difference (and vs torch
autograd when torch is installed), with the relative error."""

from __future__ import annotations

from dltui.core.engine.gradcheck import GradCheck
from rich.text import Text
from textual.widgets import Static

GOOD = 1e-4  # float32 traces land around 1e-6..1e-4; float64 around 1e-9


class GradCheckPanel(Static):
    DEFAULT_CSS = """
    GradCheckPanel { height: auto; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def __init__(self, **kw):
        super().__init__("checking gradients…", **kw)
        self.numeric: list[GradCheck] = []
        self.autograd: list[GradCheck] | None = None
        self.focus_layer: int | None = None
        self.show_torch = True  # say "torch: not installed" when there is no autograd column

    def set_checks(self, numeric: list[GradCheck], autograd: list[GradCheck] | None) -> None:
        self.numeric, self.autograd = numeric, autograd
        self.update(self.render_checks())

    def set_layer(self, layer: int | None) -> None:
        self.focus_layer = layer
        if self.numeric:
            self.update(self.render_checks())

    @property
    def worst(self) -> float | None:
        errs = [c.rel_err for c in self.numeric + (self.autograd or [])]
        return max(errs) if errs else None

    def render_checks(self) -> Text:
        layer = self.focus_layer
        rows = [c for c in self.numeric if layer is None or c.layer == layer] or self.numeric
        auto = {(c.layer, c.param, c.i, c.j): c for c in self.autograd or []}
        t = Text(no_wrap=True, overflow="ellipsis")
        t.append("backprop ∂C/∂w vs numeric\n", style="bold")
        for c in rows:
            ok = c.rel_err < GOOD
            t.append(f"{c.name:<11}", style="bold" if c.layer == self.focus_layer else "")
            t.append(f"{c.backprop:>9.2e} ")
            t.append(f"{c.rel_err:.0e}".replace("e-0", "e-"), style="green" if ok else "bold red")
            t.append(" ✓\n" if ok else " ✗\n", style="green" if ok else "bold red")
        if self.autograd is None:
            if self.show_torch:
                t.append("torch autograd: not here\n(torch is not installed)", style="dim")  # fits 29 columns
        else:
            keys = [(c.layer, c.param, c.i, c.j) for c in rows]
            errs = [auto[k].rel_err for k in keys if k in auto]
            worst = max(errs) if errs else 0.0
            t.append("vs torch autograd ≤ ", style="bold")
            t.append(f"{worst:.0e}", style="green" if worst < GOOD else "bold red")
        return t

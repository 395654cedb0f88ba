"""Shape a unit by hand (1-D runs; `u` on the dashboard): pick a hidden unit and nudge its w, b and c
and the output bias with keys. The run pauses; its curve, the sum and the loss follow at once, and
the edited weights go into the network (the run's SET_PARAMS control), so training resumes from them.

Keys: u / U next / previous unit (all layers: an earlier layer's units show as curves of x),
w W · b B · c C · k K nudge w, b, c, the output bias up / down (by ``step``; [ ] halve / double it),
t the target's own pieces (piecewise presets), space start / pause, escape back.
"""

from __future__ import annotations

import time

import numpy as np
from dltui.core.engine import curves
from dltui.core.runs import Control
from dltui.tui.widgets.shape_plot import ShapePlot
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Static

PARAMS_EVERY = 0.25  # seconds between asks for new weights while the run trains


class ShapeScreen(Screen):
    BINDINGS = [
        Binding("escape", "back", "back", tooltip="back to the dashboard (the panel shows this unit)"),
        Binding("u", "unit(1)", "unit", tooltip="next / previous hidden unit (every layer)"),
        Binding("U", "unit(-1)", "unit", show=False),
        Binding("l", "layer(1)", "layer", show=False, tooltip="the first unit of the next / previous hidden layer"),
        Binding("L", "layer(-1)", "layer", show=False),
        Binding("w", "nudge('w',1)", "w+", tooltip="nudge the unit's w, b, c or the output bias up / down "
                "(pauses the run; the network takes the weights)"),
        Binding("W", "nudge('w',-1)", "w-", show=False),
        Binding("b", "nudge('b',1)", "b+"), Binding("B", "nudge('b',-1)", "b-", show=False),
        Binding("c", "nudge('c',1)", "c+"), Binding("C", "nudge('c',-1)", "c-", show=False),
        Binding("k", "nudge('bias',1)", "bias+"), Binding("K", "nudge('bias',-1)", "bias-", show=False),
        Binding("right_square_bracket", "step(2.0)", "step×2", show=False),
        Binding("left_square_bracket", "step(0.5)", "step÷2", show=False, tooltip="halve / double the step"),
        Binding("t", "parts", "target pieces", tooltip="the target's own pieces: a constant plus one hard "
                "sigmoid per linear piece (piecewise presets)"),
        Binding("space", "toggle", "start/pause", tooltip="start / pause training (from the edited weights)"),
    ]
    HELP_KEYS = [("unit(1)", "unit(-1)"), ("layer(1)", "layer(-1)"),
                 tuple(f"nudge('{p}',{s})" for p in ("w", "b", "c", "bias") for s in (1, -1)),
                 ("step(0.5)", "step(2.0)"), "parts", "toggle", "back"]

    def __init__(self, run, unit: tuple[int, int] | None = None):
        super().__init__()
        self.run = run
        self.hidden = list(run.spec.values["model"]["hidden"])
        self.unit = unit if unit is not None else (len(self.hidden) - 1, 0)
        self.params = None if run.view.params is None else [(W.copy(), b.copy()) for W, b in run.view.params]
        self.step = 0.1
        self.message = ""
        self._seen, self._state = run.view.params, run.view.state
        self._asked = -1e9  # when the weights were last asked for

    def compose(self) -> ComposeResult:
        yield Static("", id="shape-head", markup=False)
        yield ShapePlot(self.run.data, self.run.spec, id="shape-plot")
        yield Static("", id="shape-msg", markup=False)
        yield Static("", id="shape-keys", markup=False)

    def on_mount(self) -> None:
        self.run.want_params()
        self.set_interval(0.1, self._tick)
        self._show()

    def _tick(self) -> None:
        """Follow the run while it trains (the dashboard below drains it; new weights show here)."""
        v = self.run.view
        moved = self._state != v.state
        if v.params is not None and v.params is not self._seen:
            self._seen = v.params
            if v.params_label != "edited by hand":
                self.params = [(W.copy(), b.copy()) for W, b in v.params]
            self._show()
        elif moved:
            self._show()
        self._state = v.state
        now = time.monotonic()
        # while training, new weights at most every PARAMS_EVERY (each read takes the GIL from the trainer);
        # once more when it stops or pauses (the weights it stopped at); none while nothing changes
        if self.params is None or moved or v.state == "running" and now - self._asked >= PARAMS_EVERY:
            self._asked = now
            self.run.want_params()

    # ------------------------------------------------------------ what is shown
    def terms(self) -> dict:
        """The chosen unit's w, b, c, the output bias and the training loss at the current weights."""
        layer, j = self.unit
        W, b = self.params[layer]
        last = layer == len(self.hidden) - 1
        d = self.run.data
        pred = curves.predict(self.params, self.run.spec.activations, d.x_train)
        loss = float(np.mean((pred - np.asarray(d.y_train, float)) ** 2))
        return {"w": float(W[j, 0]) if W.shape[1] == 1 else None, "b": float(b[j]),
                "c": float(self.params[-1][0][0, j]) if last else None, "bias": float(self.params[-1][1][0]),
                "loss": loss}

    def _show(self) -> None:
        head = self.query_one("#shape-head", Static)
        if self.params is None:
            head.update("shape a unit by hand · waiting for the network's weights")
            return
        t = self.terms()
        layer, j = self.unit
        text = Text(f"unit {layer + 1}.{j + 1} ({self.run.spec.activations[layer]})  ", style="bold")
        for k in ("w", "b", "c"):
            text.append(f"{k} {t[k]:+.3f}  " if t[k] is not None else f"{k} -  ")
        text.append(f"output bias {t['bias']:+.3f}  ")
        text.append(f"train loss {t['loss']:.4g}", style="bold")
        text.append(f"  · step {self.step:g} · {self.run.view.state}", style="dim")
        head.update(text)
        self.query_one("#shape-plot", ShapePlot).show(self.params, self.unit)
        keys = ("u/U unit · l/L layer · w/W b/B c/C k/K nudge ±step · [ ] step · t target pieces · space train"
                " · esc back")
        self.query_one("#shape-keys", Static).update(keys)
        msg = self.query_one("#shape-msg", Static)
        msg.update(self.message)
        msg.display = bool(self.message)

    # ------------------------------------------------------------ keys
    def action_unit(self, delta: int) -> None:
        units = [(layer, j) for layer, n in enumerate(self.hidden) for j in range(n)]
        self.unit = units[(units.index(self.unit) + delta) % len(units)]
        self.message = ""
        self._show()

    def action_layer(self, delta: int) -> None:
        self.unit = ((self.unit[0] + delta) % len(self.hidden), 0)
        self.message = ""
        self._show()

    def action_step(self, factor: float) -> None:
        self.step = float(min(max(self.step * factor, 1e-4), 10.0))
        self._show()

    def action_parts(self) -> None:
        plot = self.query_one("#shape-plot", ShapePlot)
        if plot.knots is None:
            self.message = "this preset's target is not piecewise-linear: no pieces to show"
        else:
            plot.target_parts = not plot.target_parts
            self.message = ""
        self._show()

    def action_toggle(self) -> None:
        if self.run.active and self.run.control is not None:
            self.run.control.toggle()

    def nudge(self, what: str, delta: float) -> str:
        """Add ``delta`` to the unit's w, b, c or the output bias; '' or why it cannot."""
        if self.params is None:
            return "no weights yet"
        control = self.run.control
        if control is None or not self.run.controls & Control.SET_PARAMS:
            return "this run cannot take new weights (it is another process's)"
        layer, j = self.unit
        W, b = self.params[layer]
        if what == "w" and W.shape[1] != 1:
            return f"w is a vector here ({W.shape[1]} inputs): nudge b, or c in the last hidden layer"
        if what == "c" and layer != len(self.hidden) - 1:
            return "c is a weight into the output: only the last hidden layer's units have one"
        if self.run.view.state == "running":
            control.pause()  # shaping by hand happens while paused
        if what == "w":
            W[j, 0] += delta
        elif what == "b":
            b[j] += delta
        elif what == "c":
            self.params[-1][0][0, j] += delta
        else:
            self.params[-1][1][0] += delta
        control.set_params(self.params)
        return "" if self.run.active else "the run has ended: the network takes the weights; r restarts training"

    def action_nudge(self, what: str, sign: int) -> None:
        self.message = self.nudge(what, sign * self.step)
        self._show()

    def action_back(self) -> None:
        self.dismiss(self.unit)

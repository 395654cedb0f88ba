"""The backpropagation step-through: forward layer 1..L, the loss, backward L..1, the gradients
and the update, one stage at a time, on one mini-batch at the current weights.

Pushed by the dashboard (`b`) as ``BackpropScreen(trainer)``. It pauses the trainer and reads the
trace through ``trainer.call`` so the network is consistent; `t` takes one training step (the
trainer's next mini-batch) and traces this batch again.
"""

from __future__ import annotations

from dltui.core.backends.numpy_backend import layer_sizes
from dltui.core.trace import (
    Stage,
    finite_difference_check,
    stage,
    stage_order,
    torch_autograd_check,
    trace_batch,
)
from dltui.tui.widgets.grad_check import GradCheckPanel
from dltui.tui.widgets.network_diagram import NetworkDiagram
from dltui.tui.widgets.stage_view import StageView
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

KEYS = "←→ stage · f b g u jump to F B G U · [ ] sample · t train a step · ↑↓ ⇧+arrows scroll · esc back"
KEYS_SHORT = "←→ stage · f/b/g/u jump · [ ] sample · t step · ↑↓ ⇧arrows scroll · esc back"


class BackpropScreen(Screen):
    DEFAULT_CSS = """
    BackpropScreen #bp-title { height: 1; padding: 0 1; background: $panel; text-style: bold; }
    BackpropScreen #bp-stages { height: 1; padding: 0 1; }
    BackpropScreen #bp-main { height: 1fr; }
    BackpropScreen #bp-side { width: 31; height: 1fr; border-right: solid $primary; }
    BackpropScreen #bp-diagram { height: auto; margin-bottom: 1; }
    BackpropScreen #bp-check { height: auto; }
    BackpropScreen #bp-scroll { width: 1fr; height: 1fr; }
    BackpropScreen #bp-keys { height: 1; padding: 0 1; background: $panel; color: $text-muted; }
    """

    BINDINGS = [
        Binding("right", "next", "next stage", priority=True),
        Binding("left", "previous", "previous stage", priority=True),
        Binding("f", "jump('forward')", "forward"),
        Binding("b,k", "jump('backward')", "backward"),
        Binding("g", "jump('gradients')", "gradients"),
        Binding("u", "jump('update')", "update"),
        Binding("right_square_bracket,plus,equals_sign", "sample(1)", "next sample"),
        Binding("left_square_bracket,minus", "sample(-1)", "previous sample"),
        Binding("t,enter", "train_step", "step + trace"),
        Binding("shift+down", "scroll_matrix(1, 0)", "matrix down", show=False),
        Binding("shift+up", "scroll_matrix(-1, 0)", "matrix up", show=False),
        Binding("shift+right", "scroll_matrix(0, 1)", "matrix right", show=False),
        Binding("shift+left", "scroll_matrix(0, -1)", "matrix left", show=False),
        Binding("escape,q", "back", "back"),
    ]

    def __init__(self, trainer, *, batch: int | None = None, torch_check: bool = True,
                 name: str | None = None):
        """``batch``: which mini-batch of the training set (stored order) to trace; default the one
        whose index matches the trainer's position in its epoch. ``torch_check``: also compare with
        torch autograd when torch is installed."""
        super().__init__(name=name)
        self.trainer = trainer
        self.torch_check = torch_check
        d = trainer.data
        self.sizes = layer_sizes(trainer.spec, d.n_features, d.n_outputs)
        self.order = stage_order(len(self.sizes) - 1)
        self.index = 0
        self.sample = 0
        self.batch_index = batch  # None: the batch the trainer trains next (its shuffled order)
        self._rows = None  # after `t`: the rows just trained, traced again at the new weights
        self.trace = None
        self.error: str | None = None
        self._waiting_step: int | None = None

    # ------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        yield Static(id="bp-title")
        yield Static(id="bp-stages")
        with Horizontal(id="bp-main"):
            with Vertical(id="bp-side"):
                yield NetworkDiagram(self.sizes, id="bp-diagram")
                yield GradCheckPanel(id="bp-check")
            with VerticalScroll(id="bp-scroll"):
                yield StageView(id="bp-stage")
        yield Static(KEYS, id="bp-keys", markup=False)

    def on_mount(self) -> None:
        self.trainer.pause()
        self.retrace()

    def on_resize(self) -> None:
        self.query_one("#bp-keys", Static).update(KEYS if self.size.width >= len(KEYS) + 2 else KEYS_SHORT)

    # ------------------------------------------------------------ the trace
    def retrace(self) -> None:
        try:
            self.trace = trace_batch(self.trainer, batch=self.batch_index, rows=self._rows)
            self.error = None
        except Exception as e:  # noqa: BLE001 - shown to the person, the dashboard stays usable
            self.trace, self.error = None, f"Could not trace this batch: {type(e).__name__}: {e}"
        if self.trace is not None:
            self.sample = min(self.sample, self.trace.batch_size - 1)
            self.query_one(GradCheckPanel).update("checking gradients…")
            self.run_worker(self._check, thread=True, exclusive=True, group="gradcheck")
        self.refresh_view()

    def _check(self) -> None:
        tr = self.trace
        numeric = finite_difference_check(tr)
        auto = None
        if self.torch_check:
            auto = torch_autograd_check(tr, picks=[(c.layer, c.param, c.i, c.j) for c in numeric])
        self.app.call_from_thread(self._show_checks, tr, numeric, auto)

    def _show_checks(self, tr, numeric, auto) -> None:
        """On the UI thread: show the checks if they are still for the trace on screen."""
        if tr is self.trace:
            panel = self.query_one(GradCheckPanel)
            panel.show_torch = self.torch_check
            panel.set_checks(numeric, auto)

    @property
    def current(self) -> Stage | None:
        if self.trace is None:
            return None
        kind, layer = self.order[self.index]
        return stage(self.trace, kind, layer, self.sample)

    @property
    def highlighted_layer(self) -> int | None:
        return self.query_one(NetworkDiagram).current_layer

    def refresh_view(self) -> None:
        view = self.query_one(StageView)
        kind, layer = self.order[self.index]
        self.query_one(NetworkDiagram).set_stage(kind, layer)
        self.query_one(GradCheckPanel).set_layer(layer)
        self.query_one("#bp-title", Static).update(self.title_text())
        self.query_one("#bp-stages", Static).update(self.strip_text())
        if self.trace is None:
            view.update(Text(self.error or "no trace", style="bold red"))
            return
        view.show_stage(self.current)

    def title_text(self) -> Text:
        t = self.trainer
        parts = [f"backprop · {t.spec.name}", f"epoch {t.epoch} · step {t.step}"]
        if self.trace is not None:
            b = self.trace.extra.get("batch", {})
            which = {"next": " next", "given": " just trained"}.get(b.get("which"), "")
            parts += [f"sample {self.sample + 1}/{self.trace.batch_size}",
                      f"batch {b.get('index', 0) + 1}/{b.get('count', 1)}{which}", f"C = {self.trace.C:.4g}"]
        parts.append(t.backend.name)
        from dltui.core.sanitize import safe_line  # the preset's name is a file name (issue 14)

        return Text(safe_line(" · ".join(parts)), no_wrap=True, overflow="ellipsis")

    def strip_text(self) -> Text:
        t = Text(no_wrap=True, overflow="ellipsis")
        prev_kind = None
        for k, (kind, layer) in enumerate(self.order):
            if prev_kind is not None and kind != prev_kind:
                t.append("│ ", style="dim")
            prev_kind = kind
            key = "C" if kind == "loss" else f"{kind[0].upper()}{layer}"
            t.append(key, style="bold reverse" if k == self.index else "dim" if k > self.index else "")
            t.append(" ")
        kind, _ = self.order[self.index]
        t.append(f"  {kind}", style="bold")
        return t

    # ------------------------------------------------------------ actions
    def action_next(self) -> None:
        if self.index < len(self.order) - 1:
            self.index += 1
            self.refresh_view()
        else:
            self.app.bell()

    def action_previous(self) -> None:
        if self.index > 0:
            self.index -= 1
            self.refresh_view()
        else:
            self.app.bell()

    def action_jump(self, kind: str) -> None:
        self.index = next(i for i, (k, _) in enumerate(self.order) if k == kind)
        self.refresh_view()

    def action_sample(self, step: int) -> None:
        if self.trace is not None:
            self.sample = (self.sample + step) % self.trace.batch_size
            self.refresh_view()

    def action_scroll_matrix(self, rows: int, cols: int) -> None:
        self.query_one(StageView).scroll_matrix(rows, cols)

    def action_train_step(self) -> None:
        tr = self.trainer
        if self._waiting_step is not None:
            return
        if tr.state not in ("running", "paused"):
            why = "training has finished" if tr.state == "finished" else "the trainer is not running"
            self.notify(f"No step to take: {why}.", severity="warning")
            return
        self._waiting_step = tr.step
        if self.trace is not None and "row_ids" in self.trace.extra.get("batch", {}):
            self._rows = self.trace.extra["batch"]["row_ids"]  # the step trains exactly the traced rows
        tr.step_batch(1)
        self._poll = self.set_interval(0.05, self._step_done)

    def _step_done(self) -> None:
        tr = self.trainer
        if self._waiting_step is not None and (tr.step > self._waiting_step or tr.state == "finished"):
            self._waiting_step = None
            self._poll.stop()
            self.retrace()

    def action_back(self) -> None:
        self.app.pop_screen()

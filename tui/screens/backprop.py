"""The backpropagation step-through: forward layer 1..L, the loss, backward L..1, the gradients
and the update, one stage at a time, on one mini-batch at the current weights.

Pushed by the dashboard (`b`) as ``BackpropScreen(run)``, a client of the ``Run`` like every view.
It pauses the run and asks it for a trace (``run.trace(rows)``, a future); the future's callback
posts a message, so the UI thread never waits on the trainer. `t` takes one training step on the
traced rows (``run.step_batch()``, a future the run finishes when the step has run) and traces them
again when the run reports the step.
"""

from __future__ import annotations

from concurrent.futures import Future

from dltui.core.backends.base import layer_sizes
from dltui.core.data.batching import batch_bounds
from dltui.core.engine.gradcheck import finite_difference_check, torch_autograd_check
from dltui.core.engine.stages import Stage, stage, stage_order
from dltui.core.events import ENDED
from dltui.core.runs import Control
from dltui.tui.widgets.grad_check import GradCheckPanel
from dltui.tui.widgets.network_diagram import NetworkDiagram
from dltui.tui.widgets.stage_view import StageView
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Static

KEYS = "←→ stage · f b g u jump to F B G U · [ ] sample · t train a step · ↑↓ ⇧+arrows scroll · esc back"
KEYS_SHORT = "←→ stage · f/b/g/u jump · [ ] sample · t step · ↑↓ ⇧arrows scroll · esc back"


class TraceReady(Message):
    """A trace the run was asked for has arrived (or failed): ``future`` is done."""

    def __init__(self, future: Future) -> None:
        super().__init__()
        self.future = future


class StepTaken(Message):
    """The run reports the step asked for with `t` has run."""

    def __init__(self, future: Future) -> None:
        super().__init__()
        self.future = future


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
        Binding("left", "previous", "previous stage", priority=True, tooltip="previous / next stage"),
        Binding("f", "jump('forward')", "forward", tooltip="jump to forward / backward / gradients / update"),
        Binding("b,k", "jump('backward')", "backward", key_display="b"),
        Binding("g", "jump('gradients')", "gradients"),
        Binding("u", "jump('update')", "update"),
        Binding("right_square_bracket,plus,equals_sign", "sample(1)", "next sample"),
        Binding("left_square_bracket,minus", "sample(-1)", "previous sample",
                tooltip="previous / next sample of the batch"),
        Binding("t,enter", "train_step", "step + trace", tooltip="train one step on this batch and trace it again"),
        Binding("shift+down", "scroll_matrix(1, 0)", "matrix down", show=False, tooltip="scroll a wide matrix"),
        Binding("shift+up", "scroll_matrix(-1, 0)", "matrix up", show=False),
        Binding("shift+right", "scroll_matrix(0, 1)", "matrix right", show=False),
        Binding("shift+left", "scroll_matrix(0, -1)", "matrix left", show=False),
        Binding("escape,q", "back", "back", tooltip="back to the dashboard"),
    ]
    HELP_KEYS = [("previous", "next"), ("jump('forward')", "jump('backward')", "jump('gradients')", "jump('update')"),
                 ("[ ]  - +", "sample(-1)", "sample(1)"), "train_step", ("↑ ↓", "scroll the stage"),
                 ("⇧ + arrows", "scroll_matrix(1, 0)", "scroll_matrix(-1, 0)", "scroll_matrix(0, 1)",
                  "scroll_matrix(0, -1)"), "back"]

    def __init__(self, run, *, batch: int | None = None, torch_check: bool = True, name: str | None = None):
        """``run``: a ``Run`` (core.runs). ``batch``: which mini-batch of the training set (stored order)
        to trace; default the one the run's next step trains on. ``torch_check``: also compare with torch
        autograd when torch is installed."""
        super().__init__(name=name)
        self.run = run
        self.torch_check = torch_check
        d = run.data
        self.sizes = layer_sizes(run.spec, d.n_features, d.n_outputs)
        self.order = stage_order(len(self.sizes) - 1)
        self.index = 0
        self.sample = 0
        self.batch_index = batch  # None: the batch the run trains next (its shuffled order)
        self._rows = None  # after `t`: the rows just trained, traced again at the new weights
        self.trace = None
        self.error: str | None = None
        self.tracing = False  # a trace is on its way
        self._pending: Future | None = None
        self._waiting_step: Future | None = None
        self._at_step = (run.view.epoch, run.view.step)

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
        if self.run.control is not None and self.run.controls & Control.PAUSE:
            self.run.control.pause()
        self.retrace()

    def on_resize(self) -> None:
        self.query_one("#bp-keys", Static).update(KEYS if self.size.width >= len(KEYS) + 2 else KEYS_SHORT)

    # ------------------------------------------------------------ the trace (asked for, never waited on)
    def retrace(self) -> None:
        """Ask the run for a trace; ``on_trace_ready`` shows it when it comes."""
        self.tracing = True
        rows = self._rows
        if rows is None and self.batch_index is not None:  # mini-batch `batch` in the stored order
            rows = list(range(*batch_bounds(len(self.run.data.x_train), self.batch_size, self.batch_index)))
        fut = self._pending = self.run.trace(rows)
        fut.add_done_callback(lambda f: self.post_message(TraceReady(f)))  # post_message is thread-safe
        self.refresh_view()

    @property
    def batch_size(self) -> int:
        return self.run.spec.values["training"]["batch_size"]

    def on_trace_ready(self, message: TraceReady) -> None:
        if message.future is not self._pending:
            return  # an older trace, overtaken
        self._pending, self.tracing = None, False
        err = message.future.exception()
        if err is None:
            self.trace, self.error = message.future.result(), None
        else:
            self.trace, self.error = None, f"Could not trace this batch: {type(err).__name__}: {err}"
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
            waiting = self.tracing and not self.error
            view.update(Text("tracing this batch…", style="dim") if waiting else
                        Text(self.error or "no trace", style="bold red"))
            return
        view.show_stage(self.current)

    def title_text(self, width: int | None = None) -> Text:
        """The loss and the learning rate first (they must survive 80 columns), then where the batch is;
        the least useful parts go first when it does not fit."""
        from dltui.tui.numfmt import short

        epoch, step = self._at_step
        v = self.run.view
        parts = []  # (name, text), in order on screen
        if self.trace is not None:
            b = self.trace.extra.get("batch", {})
            which = {"next": " (next batch)", "given": " (just trained)"}.get(b.get("which"), "")
            parts.append(("loss", f"C = {self.trace.C:.4g}{which}"))
        elif self.tracing:
            parts.append(("loss", "tracing…"))
        parts += [("lr", f"lr {short(v.lr, 6)}"), ("epoch", f"epoch {epoch} · step {step}")]
        if self.trace is not None:
            parts += [("batch", f"batch {b.get('index', 0) + 1}/{b.get('count', 1)}"),
                      ("sample", f"sample {self.sample + 1}/{self.trace.batch_size}")]
        parts = [("preset", f"backprop · {v.preset}")] + parts + [("backend", v.backend)]
        width = width or max(self.size.width - 2, 20)
        for drop in (None, "backend", "preset", "sample", "batch"):
            parts = [(k, t) for k, t in parts if k != drop]
            line = " · ".join(t for _, t in parts)
            if len(line) <= width:
                break
        from dltui.core.sanitize import safe_line  # the preset's name is a file name

        return Text(safe_line(line), no_wrap=True, overflow="ellipsis")

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
        """Train one step on the traced rows; trace them again when the run reports the step."""
        run = self.run
        if self._waiting_step is not None:
            return
        if run.control is None or not run.controls & Control.STEP or run.state not in ("running", "paused"):
            why = ("this run cannot be stepped (a watched run: its checkpoint is shown)"
                   if not run.controls & Control.STEP else
                   "training has finished" if run.state in ENDED else "the trainer is not running")
            self.notify(f"No step to take: {why}.", severity="warning")
            return
        if self.trace is not None and "row_ids" in self.trace.extra.get("batch", {}):
            self._rows = self.trace.extra["batch"]["row_ids"]  # the step trains exactly the traced rows
        fut = self._waiting_step = run.control.step_batch()
        fut.add_done_callback(lambda f: self.post_message(StepTaken(f)))

    def on_step_taken(self, message: StepTaken) -> None:
        if message.future is not self._waiting_step:
            return
        self._waiting_step = None
        step = message.future.result()
        self._at_step = (self.run.view.epoch if step is None else self._epoch_of(step), step)
        self.retrace()

    def _epoch_of(self, step: int) -> int:
        per = max(1, self.run.view.batches_per_epoch)
        return (step - 1) // per + 1 if step else 0

    def action_back(self) -> None:
        self.app.pop_screen()

"""The training dashboard: status line, loss plot, what the net learned, layer table, matrices.

It shows one ``Run`` (``core.runs``: a ``LiveRun`` or, for ``dltui watch``, a ``WatchedRun``), polled
on a timer at about 10 Hz; each poll says which parts changed and only those are redrawn. Layer
statistics and parameters are asked for only while a widget that shows them is visible.
"""

from __future__ import annotations

import time

import numpy as np
from dltui.core import runs as rn
from dltui.core.runs import Control
from dltui.tui.redraw import PARAMS_EVERY, PLOT_EVERY, STATS_EVERY, STATS_SLACK, STATUS_EVERY, TICK, RedrawBudget
from dltui.tui.screens.network_keys import NetworkKeys
from dltui.tui.screens.playground_keys import PlaygroundKeys
from dltui.tui.screens.run_actions import RunActions, new_run_dir
from dltui.tui.screens.tboard_key import TensorBoardKey
from dltui.tui.widgets.key_hints import KeyHints
from dltui.tui.widgets.layer_table import LayerTable, weights_label
from dltui.tui.widgets.learned_plot import LearnedPlot
from dltui.tui.widgets.loss_plot import LossPlot
from dltui.tui.widgets.matrix_view import MatrixView
from dltui.tui.widgets.network_view import NetworkView
from dltui.tui.widgets.regions_beside import RegionsBeside
from dltui.tui.widgets.status_line import StatusLine
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Static, TabbedContent, TabPane

NARROW_WIDTH, NARROW_HEIGHT = 90, 28


class DashboardScreen(NetworkKeys, PlaygroundKeys, RunActions, TensorBoardKey, Screen):
    BINDINGS = [
        Binding("space", "toggle", "start/pause", key_display="space", tooltip="start / pause"),
        Binding("n", "step_batch", "batch", tooltip="one batch (one optimizer step)"),
        Binding("e", "step_epoch", "epoch", tooltip="run to the end of this epoch (its remaining batches)"),
        Binding("s", "stop", "stop", tooltip="stop (keeps the best weights)"),
        Binding("r", "restart(0)", "restart", tooltip="restart with the same seed (the same run again)"),
        Binding("R", "restart(1)", "new seed", show=False, tooltip="restart with a new seed"),
        Binding("minus", "pace(-1)", "slower", key_display="-",
                tooltip="slower / faster pace (updates per second, shown in the status line)"),
        Binding("plus", "pace(1)", "faster", key_display="+", show=False, tooltip="faster pace (towards max)"),
        Binding("equals_sign", "pace_max", "max", key_display="=", show=False,
                tooltip="pace: max / back to the lesson's pace (at max the plots and the layer table redraw "
                "every 1-9 s, as the UI's share of the CPU allows: drawing takes the CPU from training)"),
        Binding("c", "continue", "continue", tooltip="continue a run that ended, keeping the optimizer's state"),
        Binding("b", "backprop", "backprop", tooltip="backprop step-through on one batch"),
        Binding("o", "settings", "edit", tooltip="edit the preset: layers, activations, inputs, data, noise, "
                "split, batch size, learning rate, optimizer, L1/L2 (restarts the run)"),
        Binding("u", "unit(1)", "unit", show=False, tooltip="next hidden unit (U: previous): 2-D sets show its "
                "output over the plane; 1-D runs open the unit view, where w b c are shaped by hand"),
        Binding("U", "unit(-1)", "unit", show=False, tooltip="previous hidden unit"),
        Binding("d", "discrete", "discretize", show=False, tooltip="2-D sets: the predicted class / its confidence"),
        Binding("i", "points", "points", show=False, tooltip="2-D sets: training / validation / both points"),
        Binding("l", "log_scale", "log", show=False, tooltip="loss plot: log / linear scale"),
        Binding("k", "plot('batches')", "batch losses", show=False,
                tooltip="loss plot: show / hide each mini-batch's own loss (faint dots)"),
        Binding("a", "plot('axis')", "x-axis", show=False,
                tooltip="loss plot x-axis: epochs / updates / seconds (updates and seconds compare batch sizes)"),
        Binding("m", "plot('smoothing')", "smooth", show=False,
                tooltip="loss plot smoothing (TensorBoard's moving average): off / 0.6 / 0.9 / 0.99"),
        Binding("z", "plot('window')", "window", show=False,
                tooltip="loss plot: the whole run / the last 100, 1000, 10000 epochs"),
        Binding("v", "view", "view",
                tooltip="switch the right panel (learned / weights / network); on small terminals, show it"),
        Binding("w", "network", "network", show=False, tooltip="the whole network: every unit's picture and "
                "every weight (←→ unit, ↑↓ layer, < > edge: its weight and gradient, enter: the unit view)"),
        Binding("right_square_bracket", "lr(2.0)", "lr×2", show=False),
        Binding("left_square_bracket", "lr(0.5)", "lr÷2", show=False,
                tooltip="halve / double the learning rate (live)"),
        Binding("x", "predict", "predict", show=False,
                tooltip="CSV presets: write pred.csv for a test CSV with the best checkpoint (as dltui predict)"),
        Binding("C", "compare", "compare", show=False,
                tooltip="compare this run with the other runs of its preset in its runs folder"),
        Binding("T", "tensorboard", "tensorboard", show=False,
                tooltip="TensorBoard files of this run in RUN/tensorboard/, kept up to date while it runs (T stops)"),
        Binding("p", "presets", "presets", tooltip="back to the presets (stops the run)"),
    ]
    # the help screen's lines, in order: an action bound above (its keys, its tooltip), actions sharing
    # the first one's tooltip, or (keys, text) for keys a widget binds
    HELP_KEYS = ["toggle", "step_batch", "step_epoch", "stop", "restart(0)", "restart(1)",
                 ("pace(-1)", "pace(1)"), "pace_max", "continue", "backprop", "settings",
                 ("lr(0.5)", "lr(2.0)"), ("unit(1)", "unit(-1)"), "discrete", "points", "log_scale",
                 "plot('batches')", "plot('axis')", "plot('smoothing')", "plot('window')", "view", "network",
                 ("↑ ↓ enter", "in the layer table: show a layer's weight and gradient matrices"),
                 ("ΔW/W ∇/W", "layer table: ‖ΔW‖/‖W‖ of the last update (about 1e-3 is healthy), ‖∇W‖/‖W‖"),
                 "predict", "compare", "tensorboard",
                 "presets"]

    def __init__(self, spec=None, *, run=None, start: bool = False, watch_dir=None):
        super().__init__()
        self.spec = spec if spec is not None else (run.spec if run is not None else None)
        self.run = run
        self._start = start
        self._watch_dir = watch_dir
        self._last_stats = self._last_params = self._last_status = 0.0
        self._last_plot = self._stats_shown = 0.0
        self._loss_dirty = self._stats_dirty = False
        self._was_idle = True
        self._selected = 0  # index into the layer list (0-based)
        self._show_right = False
        self._user_nav = -1e9  # when the person last moved in the layer table
        self.redraw_budget = RedrawBudget()  # redraw.py: spaces out the costly redraws while training at max pace

    # ------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        yield StatusLine(id="status")
        with Horizontal(id="top"):
            yield LossPlot(id="loss")
            with TabbedContent(id="right", initial="tab-learned"):
                with TabPane("learned", id="tab-learned"):
                    yield LearnedPlot(id="learned")
                with TabPane("weights", id="tab-weights"):
                    yield MatrixView(id="matrix")
                with TabPane("network", id="tab-network"):
                    yield NetworkView(id="network")
            yield RegionsBeside(id="mini-learned")  # small terminals: a 2-D set's regions beside the loss
        yield LayerTable(id="layers")
        yield Static("", id="message")
        yield KeyHints(id="keys")

    def on_mount(self) -> None:
        # the widgets the timer touches, looked up once
        self.w_status, self.w_loss = self.query_one(StatusLine), self.query_one(LossPlot)
        self.w_layers, self.w_right = self.query_one("#layers"), self.query_one("#right", TabbedContent)
        self.w_learned, self.w_matrix = self.query_one("#learned"), self.query_one("#matrix")
        self._layout_for(self.size.width, self.size.height)
        if self.w_layers.can_focus:
            self.w_layers.focus()
        if self.run is None and self._watch_dir is not None:
            self.run = rn.WatchedRun(self._watch_dir)
            self.refresh_bindings()
        if self.run is None and self.spec is not None:
            self._new_run(self.spec, start=self._start)
        else:
            self._use_run(self.run)
        self.set_interval(TICK, self._tick, name="drain")

    def on_resize(self, event) -> None:
        self._layout_for(event.size.width, event.size.height)

    def _layout_for(self, width: int, height: int) -> None:
        narrow = width < NARROW_WIDTH or height < NARROW_HEIGHT
        self.set_class(narrow, "-narrow")
        self.set_class(narrow and self._show_right, "-show-right")
        self._layout_mini(width)

    @property
    def frozen(self) -> bool:
        return bool(getattr(self.app, "freeze_clock", False))

    # ------------------------------------------------------------ runs
    def _new_run(self, spec, *, start: bool) -> bool:
        """Replace the current run by a fresh one from ``spec``; False (and a message) if it cannot start."""
        from dltui.tui.common import user_errors

        try:
            # the pace on screen carries over to a restart; a first run takes the preset's
            pace = self._pace if self._pace is not None else self.run.view.pace if self.run is not None else "preset"
            run = rn.LiveRun(spec, start=start, pace=pace, out_dir=new_run_dir(self.app, spec))
        except user_errors() as e:
            self._say(str(e), "error")
            return False
        if self.run is not None:
            self.run.close()
        self.spec = spec
        self._use_run(run)
        return True

    def _use_run(self, run) -> None:
        self.run = run
        if run is None:
            return
        run.open(lambda fit: self.run_worker(fit, thread=True, name="trainer", group="trainer",
                                             exit_on_error=False))
        if run.data is not None and run.spec is not None:
            self.query_one("#learned").configure(run.data, run.spec)
            self._configure_network(run)
            self.w_loss.set_baseline(run.view.baseline)  # a straight line's loss: does the net beat it?
        self._say(run.view.message, run.view.message_kind)  # e.g. a backend's warning; "" clears
        self._refresh_all()

    def _refresh_all(self) -> None:
        v = self.run.view
        self._loss_dirty = self._stats_dirty = False  # all drawn now (another run's pending parts are moot)
        self._was_idle = True
        self._show_status()
        self._show_loss()
        if v.stats is not None:
            self._show_stats()
        self._show_params()

    # ------------------------------------------------------------ the timer
    def _tick(self) -> None:
        run = self.run
        if run is None:
            return
        changed = run.poll()
        v = run.view
        now = time.monotonic()
        limited = v.state == "running" and not v.pace and not self.read_only  # in-process at max: a CPU budget
        slow = self.redraw_budget.factor(limited)
        if rn.RUN in changed or (rn.HEADER in changed and (v.state != "running" or
                                                            now - self._last_status >= STATUS_EVERY - TICK / 2)):
            self._last_status = now
            self._show_status()
        idle = v.state != "running"
        if limited and self._was_idle:  # paused or new, everything was just drawn: the costly parts can wait
            self._last_plot = self._stats_shown = self._last_stats = self._last_params = now  # an interval
        self._was_idle = idle
        self._loss_dirty |= rn.LOSS in changed
        if self._loss_dirty and (idle or now - self._last_plot >= PLOT_EVERY * slow):
            self._loss_dirty, self._last_plot = False, now
            self._show_loss()
        self._stats_dirty |= rn.STATS in changed  # asked for below, or by the layers log
        due = not limited or now - self._stats_shown >= STATS_EVERY * slow * STATS_SLACK  # paced, paused: at once
        if self._stats_dirty and v.stats is not None and due:
            self._stats_dirty, self._stats_shown = False, now
            self._show_stats()
        if rn.PARAMS in changed:
            self._show_params()
        if rn.MESSAGE in changed:
            self._say(v.message, v.message_kind)
        if (idle or now - self._last_stats >= STATS_EVERY * slow) and self.shows_part("#layers"):
            self._last_stats = now
            run.want_stats()
        if (idle or now - self._last_params >= PARAMS_EVERY * slow) and self.shows_part("#right"):
            self._last_params = now
            run.want_params()

    def shows_part(self, selector: str) -> bool:
        w = self.w_layers if selector == "#layers" else self.w_right
        return w.display and (w is not self.w_right or not self.has_class("-narrow") or self._show_right
                              or self.mini_shown())

    def _show_stats(self) -> None:
        """The layer table, titled with the weights its numbers describe (one moment for all of them)."""
        v = self.run.view
        self.w_layers.show_stats(v.stats)
        self.w_layers.border_title = f"layers · {weights_label(v, self.read_only)}"

    def _show_loss(self) -> None:
        v = self.run.view
        self.w_loss.show_history(v.history, v.task, v.patience, v.test_loss, v.batches, v.batches_per_epoch)

    def _show_status(self) -> None:
        self.w_status.show(self.run.view, frozen=self.frozen, read_only=self.read_only)

    def _show_params(self) -> None:
        v = self.run.view
        if v.params is None:
            return
        with np.errstate(all="ignore"):  # a diverged net's predictions overflow: no warnings on screen
            self.w_learned.show_params(v.params)
            self._show_network(v)
        if not self.w_matrix.display or self.w_right.active != "tab-weights":
            return  # the matrices are drawn when their tab is shown (switching asks for the weights again)
        i = min(self._selected, len(v.params) - 1)
        W = v.params[i][0]
        dW = v.grads[i] if v.grads is not None and i < len(v.grads) else None
        sizes = f"{W.shape[1]}→{W.shape[0]}"
        self.w_matrix.show(f"layer {i + 1} ({sizes}) · {v.params_label}", W, dW)

    def _note(self, text: str, severity: str = "information") -> None:
        """A short notice that replaces the one before (notices never stack)."""
        self.app.clear_notifications()
        self.notify(text, severity=severity, markup=False)  # texts quote [extras], paths and CSV headers

    def _say(self, text: str, kind: str) -> None:
        msg = self.query_one("#message", Static)
        msg.set_class(kind == "error", "-error")
        msg.display = bool(text)
        if not text:
            msg.update("")
            return
        from dltui.core.sanitize import safe  # messages quote file names and CSV headers

        msg.update(Text.assemble(("error: " if kind == "error" else "", "bold"), safe(text)))

    # ------------------------------------------------------------ messages from widgets
    def on_layer_table_layer_selected(self, message) -> None:
        self._selected = max(0, int(message.index) - 1)  # the table counts layers from 1
        if time.monotonic() - self._user_nav < 1.0:  # the person chose it: show its matrices
            self.query_one("#right", TabbedContent).active = "tab-weights"
            if self.has_class("-narrow") and not self._show_right:
                self._show_right = True
                self._layout_for(self.size.width, self.size.height)
        self._show_params()
        if self.run is not None:
            self.run.want_params()

    def on_key(self, event) -> None:
        nav = ("up", "down", "enter", "home", "end", "pageup", "pagedown")
        if self.w_layers.has_focus and event.key in nav:
            self._user_nav = time.monotonic()

    def on_click(self, event) -> None:
        self._user_nav = time.monotonic()

    @on(TabbedContent.TabActivated)
    def _tab_changed(self) -> None:
        if self.run is not None:
            self._show_params()  # the weights at hand now (the matrices are drawn only while shown)
            self.run.want_params()

    # ------------------------------------------------------------ actions
    # the control each training key needs; the others need a run with controls at all
    ACTION_CONTROLS = {"toggle": Control.START | Control.PAUSE, "step_batch": Control.STEP,
                       "step_epoch": Control.EPOCH, "stop": Control.STOP, "lr": Control.SET_LR,
                       "pace": Control.PACE, "pace_max": Control.PACE, "continue": Control.CONTINUE}
    TRAINING_ACTIONS = {*ACTION_CONTROLS, "restart", "settings", "predict"}

    @property
    def read_only(self) -> bool:
        """The run declares no controls (another process's run)."""
        return self.run is not None and not self.run.controls

    def check_action(self, action: str, parameters) -> bool | None:
        """Keys for controls the run does not declare are hidden from the footer (a watched run: all)."""
        if action in self.TRAINING_ACTIONS and self.run is not None:
            need = self.ACTION_CONTROLS.get(action)
            return bool(self.run.controls & need) if need is not None else not self.read_only
        return True

    def _read_only(self) -> bool:
        if self.run is None or self.read_only or self.run.control is None:
            self._note("read-only: this view follows a run another process is writing", severity="warning")
            return True
        return False

    def _ended(self) -> bool:
        if not self.run.active:
            self._note("the run has ended: c continues it, r restarts it (R: new seed), o changes its settings")
            return True
        return False

    def action_toggle(self) -> None:
        if self._read_only() or self._ended():
            return
        self.run.control.toggle()  # the status line follows when the trainer reports it (next tick)

    def action_step_batch(self) -> None:
        if not (self._read_only() or self._ended()):
            self.run.control.step_batch(with_stats=self.shows_part("#layers"))

    def action_step_epoch(self) -> None:
        if not (self._read_only() or self._ended()):
            self.run.control.step_epoch()

    def action_stop(self) -> None:
        if not (self._read_only() or self._ended()):
            self.run.control.stop()

    def action_lr(self, factor: float) -> None:
        from dltui.core.config.spec import SCHEMA

        if self._read_only():
            return
        top = SCHEMA["optimizer"]["lr"].max
        lr = min(self.run.view.lr * factor, top)
        if lr == self.run.view.lr:
            self._note(f"the learning rate is at its largest allowed value, {top:g}")
            return
        self._set_lr(lr)

    def action_log_scale(self) -> None:
        self.query_one(LossPlot).toggle_log()

    def action_plot(self, what: str) -> None:
        plot = self.w_loss
        if what == "batches":
            self._note("batch losses " + ("shown (faint dots)" if plot.toggle_batches() else "hidden"))
        elif what == "axis":
            self._note(f"loss plot x-axis: {plot.cycle_axis()}")
        elif what == "smoothing":
            w = plot.cycle_smoothing()
            self._note(f"smoothing {w:g}" if w else "smoothing off")
        else:
            n = plot.cycle_window()
            self._note(f"the last {n} epochs" if n else "the whole run")

    def action_view(self) -> None:
        if self.has_class("-narrow"):
            self._show_right = not self._show_right
            self._layout_for(self.size.width, self.size.height)
        else:
            tabs = self.query_one("#right", TabbedContent)
            cycle = {"tab-learned": "tab-weights", "tab-weights": "tab-network"}
            tabs.active, self._tab_chosen = cycle.get(tabs.active, "tab-learned"), True
        if self.run is not None:
            self.run.want_params()

    def action_compare(self) -> None:
        from dltui.tui.screens.compare_key import compare_from_dashboard

        compare_from_dashboard(self)

    def action_backprop(self) -> None:
        """The step-through on one batch: live weights, a finished run's best ones, or a watched run's
        checkpoint (there `t` cannot train: the run is another process's)."""
        if self.run is None:
            return
        if self.read_only and self.run.view.params is None:
            self._note("no checkpoint read yet to step through (watch reads it every few seconds)")
            return
        from dltui.tui.screens.backprop import BackpropScreen

        self.app.push_screen(BackpropScreen(self.run))  # it pauses the run; the next poll shows it

    def action_settings(self) -> None:
        if self._read_only():
            return
        from dltui.tui.screens.settings import SettingsScreen

        self.app.push_screen(SettingsScreen(self.spec), self._apply_edit)

    def _set_lr(self, lr: float) -> None:
        """The learning rate, live: the status line shows it (no notice to stack). A run that has ended
        keeps its own; the new one is for the next run."""
        from dltui.core.config.spec import SpecError

        try:
            self.spec = self.spec.with_overrides({"optimizer.lr": lr})
        except SpecError as e:
            self._say(str(e), "error")
            return
        if self.run.active and self.run.control is not None:
            self.run.control.set_lr(lr)
            self._show_status()
        else:
            self._note(f"learning rate {lr:g} for the next run (r restarts); this one has ended")

    def on_unmount(self) -> None:
        if self.run is not None:
            self.run.close()

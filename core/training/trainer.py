"""The training loop: epochs, mini-batches, evaluation without gradients. It emits events
(``events.py``) to plain callbacks (observers: the app, the metrics and layer logs, TensorBoard).

Who does what around it:
- ``control.Control``: the command surface from any thread (pause/resume, step a batch or an epoch,
  stop, ``call(fn)``: ``fn(backend)`` on the training thread at the next batch boundary, even while
  paused, which is how on-demand views read a consistent network), and pacing.
- ``policies``: divergence, early stopping (``early_stopping.py``), checkpoints, as callbacks on one
  hook set; a policy stops the loop by setting ``stop_training``.
- ``state_dict()``/``load_state_dict()``: what a resumed or continued run needs (``resume.py``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import replace
from pathlib import Path

import numpy as np

from .. import events as ev
from ..backends import Backend
from ..backends.autodevice import backend_for
from ..backends.base import CHEAP_LOSS, GRADIENTS
from ..config.spec import Spec
from ..data.dataset import Dataset, batches, load_dataset
from ..events import RunState
from ..runs.history import History
from ..runs.store.folder import RunFolder
from . import facts
from .control import Control
from .early_stopping import EarlyStopping
from .evaluation import test_figures
from .facts import Result
from .order import RowOrder
from .pacing import YIELD_EVERY
from .policies import Checkpoints, Divergence, Policy

Callback = Callable[[ev.Event], None]


class Trainer:
    grads_stale = False  # the run ended: its gradients are the last step's, not of the weights it ends with

    def __init__(self, spec: Spec, backend: str | Backend | None = None, *, data: Dataset | None = None,
                 out_dir: str | Path | None = None, start_paused: bool = False, batch_losses: bool = False,
                 device: str | None = None, params=None, pace: float = 0.0, yield_every: float = 0.0):
        self.spec = spec
        self.data = d = data if data is not None else load_dataset(spec)
        t = spec.values["training"]
        if isinstance(backend, Backend):
            self.backend = backend
        else:  # ``auto``: chosen by a short measured probe (autodevice.py), recorded in the spec
            self.backend = backend_for(spec, d.n_features, d.n_outputs, params=params,
                                       device=device or t["device"], name=backend or t["backend"])
        self.batch_size = t["batch_size"]
        self.backend.set_data(d.x_train, d.y_train, d.x_val, d.y_val, self.batch_size)
        self.run = RunFolder(out_dir) if out_dir else None
        self.recorders: list | None = None  # the folder's writers (RunFolder.recorders); None: the metrics log
        self.batch_losses = batch_losses
        self.epochs = t["epochs"]
        self.exact_train_acc = t.get("exact_train_acc", False)
        self.batches_per_epoch = batches(len(d.x_train), self.batch_size)
        self.lr = spec.values["optimizer"]["lr"]  # the live learning rate (set_lr); the spec stays as given
        self.control = Control(running=not start_paused, pace=pace,
                               yield_every=yield_every or (YIELD_EVERY if pace else 0.0))
        self.early = EarlyStopping(t["patience"], watching=len(d.x_val) > 0)
        self.policies: list[Policy] = [Divergence(), self.early, Checkpoints()]
        self.stop_training: ev.Event | None = None  # set by a policy: the event saying why the loop stops
        self._t_start = self._t_epoch = time.perf_counter()
        self._paused_before, self._steps_before, self._paused_time = 0.0, 0, 0.0
        self._last_ratio: dict[int, float] = {}
        self.order = RowOrder(len(d.x_train), self.batch_size, t["seed"])  # the epochs' shuffles
        self.state = RunState.READY
        self.epoch = self.batch = self.step = 0
        self.history = History()  # bounded memory: a 1M-epoch run keeps a few thousand rows
        self._callbacks: list[Callback] = []
        self.resumed = False  # load_state_dict put it back where a run folder's last checkpoint stopped
        self._elapsed_before = 0.0  # seconds of training before this fit() (a resumed or continued run)
        self.last_params = None  # the weights the run ended with (the best are put back): `continue` starts here

    # ------------------------------------------------------------ commands (any thread): the Control's own
    pause = property(lambda self: self.control.pause)
    resume = property(lambda self: self.control.resume)
    toggle = property(lambda self: self.control.toggle)  # start/pause; True when now running
    stop = property(lambda self: self.control.stop)
    step_epoch = property(lambda self: self.control.step_epoch)
    request_stats = property(lambda self: self.control.request_stats)  # LayerStatsReady after the next batch
    set_pace = property(lambda self: self.control.set_pace)
    running = property(lambda self: self.control.running)
    pace = property(lambda self: self.control.pacer.rate)
    yield_every = property(lambda self: self.control.yield_every)

    def step_batch(self, n: int = 1, with_stats: bool = False) -> Future:
        """Pause and let n more batches run. ``with_stats``: the first of them also reports layer
        statistics, with the update ratio of exactly that step. The future gives the step number once
        those batches have run (or the last step, if the run ends first); nobody has to poll."""
        return self.control.step_batch(n, with_stats, self.step, self.state == RunState.FINISHED)

    def call(self, fn: Callable[[Backend], object]) -> Future:
        """Run fn(backend) on the training thread between batches; at once if no loop is running."""
        return self.control.call(fn, self.backend)

    def set_lr(self, lr: float) -> Future:
        """Change the learning rate from any thread: the backend's at the next batch boundary. The spec
        is not touched (it may be shared with the UI); checkpoints record the live rate."""
        self.lr = lr
        return self.call(lambda b: b.set_lr(lr))

    def next_batch_rows(self) -> np.ndarray:
        """The training-set rows of the mini-batch the next step trains on. Call it on the training
        thread (inside ``call``) or while no loop runs; between epochs it draws the next shuffle early
        (the same one the loop then uses)."""
        return self.order.rows(self.batch, self.batches_per_epoch)

    best_epoch = property(lambda self: self.early.best_epoch)
    best_val = property(lambda self: self.early.best_value)

    # ------------------------------------------------------------ the state a resumed run needs
    def state_dict(self) -> tuple[dict[str, np.ndarray], dict]:
        """(tensors, facts) between steps: optimizer state, this epoch's and the next one's order of the
        rows, counters, the shuffle generator, early stopping, the live learning rate, time trained."""
        tensors, opt = self.backend.get_opt_state()
        rows, order = self.order.state_dict()
        return {**tensors, **rows}, {"optimizer": opt, "epoch": self.epoch, "batch": self.batch, "step": self.step,
                                     **order, "lr": self.lr, **self.early.state_dict(), "elapsed": self.elapsed()}

    def load_state_dict(self, params, tensors: dict, facts_: dict, best_weights=None,
                        history: History | None = None) -> None:
        """Back to where ``state_dict`` was taken (with those weights); ValueError/TypeError/KeyError when
        the state does not fit this trainer's network."""
        self.backend.set_params(params)
        self.backend.set_opt_state({k: v for k, v in tensors.items() if k.startswith("optim.")},
                                   facts_["optimizer"])
        self.order.load_state_dict(tensors, facts_)
        self.epoch, self.batch, self.step = int(facts_["epoch"]), int(facts_["batch"]), int(facts_["step"])
        if facts_.get("lr") is not None and facts_["lr"] != self.lr:
            self.lr = facts_["lr"]
            self.backend.set_lr(self.lr)
        self.early.load_state_dict(facts_, best_weights)
        if history is not None:
            self.history = history
        self._elapsed_before = float(facts_.get("elapsed") or 0.0)
        self.resumed = True

    def prepare_continue(self, epochs: int) -> None:
        """Before another ``fit()``: go on from the weights and optimizer state the run ended with, up to
        ``epochs`` in all, with the patience counted afresh."""
        if self.last_params is None:
            raise RuntimeError("only a run that ended without diverging can continue")
        self._elapsed_before = self.elapsed()
        self.backend.set_params(self.last_params)
        self.epochs, self.early.stale, self.resumed, self.grads_stale = epochs, 0, True, False
        self.control.again()
        self.stop_training, self._paused_time, self.state = None, 0.0, RunState.READY

    # ------------------------------------------------------------ the loop
    def emit(self, event: ev.Event) -> None:
        for cb in self._callbacks:
            cb(event)

    def fresh_grads(self) -> None:
        """Gradients (and the statistics built on them) of the weights a run ended with, recomputed on the
        first ask after the end (``emit_stats``, ``LiveRun`` as the run ends): a full pass over the
        training set. Runs with a layer log pay it once, for the log's last record; others skip it."""
        if self.grads_stale:
            self.grads_stale = False
            try:
                self.backend.refresh_grads()
            except (RuntimeError, MemoryError):  # e.g. no device memory for the whole set: the last step's stay
                pass

    def emit_stats(self) -> None:
        """LayerStatsReady of the weights now (after the end: those it ends with, gradients recomputed). A layer
        whose update ratio cannot be measured now (paused: no step to compare) keeps the last measured one."""
        self.control.take_stats_request()
        self.fresh_grads()
        layers = []
        for s in self.backend.layer_stats():
            if s.update_ratio is None and s.index in self._last_ratio:
                s = replace(s, update_ratio=self._last_ratio[s.index])
            elif s.update_ratio is not None:
                self._last_ratio[s.index] = s.update_ratio
            layers.append(s)
        self.emit(ev.LayerStatsReady(self.epoch, self.step, tuple(layers)))

    def _gate(self) -> bool:
        """Wait until the next batch may run. False when asked to stop."""
        c, announced, t0 = self.control, False, time.perf_counter()
        try:
            while True:
                c.run_calls(self.backend)
                go = c.may_run()
                if go is not None:
                    return go
                if not announced:
                    announced = True
                    c.pacer.reset()
                    self.state = RunState.PAUSED
                    self.emit(ev.Paused(self.epoch, self.step))
                if c.stats_requested:
                    self.emit_stats()
                c.wait()
        finally:
            self.state = RunState.RUNNING
            if announced:
                self._paused_time += time.perf_counter() - t0

    def fit(self, callbacks: Iterable[Callback] = ()) -> Result:
        self._callbacks = list(callbacks)
        if self.run:
            if self.resumed:  # go on in the same folder: its files stay, its lock is taken again
                self.run.lock()
            else:
                self.run.create(self.spec.to_toml())
            self._callbacks += self.recorders if self.recorders is not None else self.run.recorders(self)
        try:
            # a diverging run overflows on its way to NaN: report it with a Diverged event, not warnings
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                return self._loop()
        except Exception as e:
            self.state = RunState.FINISHED
            self.emit(ev.Failed(f"{type(e).__name__}: {e}", self.epoch))
            raise
        finally:
            self.state = RunState.FINISHED
            self.control.end(self.backend, self.step)

    def _loop(self) -> Result:
        """The epochs: train its batches, evaluate, publish the row, let the policies act."""
        self.emit(facts.started_event(self))
        self.state = RunState.RUNNING
        self.control.begin()
        self._t_start = time.perf_counter()
        for p in self.policies:
            p.on_train_begin(self)
        reason = "completed"
        first, start = (self.epoch, self.batch) if 0 < self.batch < self.batches_per_epoch else (self.epoch + 1, 0)
        try:
            for epoch in range(first, self.epochs + 1):
                if self._train_epoch(epoch, start if epoch == first else 0):
                    reason = "stopped"
                    break
                if self.stop_training is None:
                    self._end_epoch(epoch)
                if self.stop_training is not None:
                    break
        except KeyboardInterrupt:
            reason = "stopped"
        return self._finish(reason)

    def _train_epoch(self, epoch: int, start: int = 0) -> bool:
        """The epoch's mini-batches from ``start`` (a resumed run: where it stopped), each after the gate.
        True when asked to stop."""
        be, c = self.backend, self.control
        self.epoch, self.batch = epoch, start
        be.begin_epoch(self.order.begin_epoch(resuming=bool(start)))
        self._t_epoch, self._paused_before, self._steps_before = time.perf_counter(), self._paused_time, self.step
        cheap = CHEAP_LOSS in be.capabilities
        for b in range(start, self.batches_per_epoch):
            if not self._gate():
                return True
            stats = c.stats_requested
            if stats:
                be.mark()
            be.train_step(b)
            self.step += 1
            self.batch = b + 1
            loss = be.last_loss() if (cheap or self.batch_losses or not c.running) else None
            for p in self.policies:
                p.on_batch_end(self, b + 1, loss)
            if self.stop_training is not None:
                return False
            self.emit(ev.BatchEnded(epoch, b + 1, self.step, loss))
            c.steps_done(self.step)
            if stats:
                self.emit_stats()
            c.between_steps(be)  # pacing: sleep until the next step is due, or let the UI take the GIL
        c.epoch_done()
        return False

    def _end_epoch(self, epoch: int) -> None:
        """Evaluate; the policies see the figures (and may stop the run) before and after the row is published."""
        be, d = self.backend, self.data
        train_loss = be.epoch_loss()
        val_loss, val_metric = be.evaluate("val") if len(d.x_val) else (None, None)
        train_metric = None if self.exact_train_acc else be.epoch_metric()  # the epoch's own batches
        if train_metric is None and d.task == "classification":  # or, when asked, a pass over the set
            train_metric = be.evaluate("train")[1]
        logs = {"train_loss": train_loss, "val_loss": val_loss, "train_metric": train_metric,
                "val_metric": val_metric}
        for p in self.policies:
            if self.stop_training is None:
                p.on_evaluated(self, epoch, logs)
        if self.stop_training is not None:
            return
        now = time.perf_counter()
        active = now - self._t_epoch - (self._paused_time - self._paused_before)
        row = ev.EpochEnded(epoch=epoch, step=self.step, lr=self.lr, elapsed=self.elapsed(now), **logs,
                            steps_per_second=(self.step - self._steps_before) / active if active > 0 else 0.0)
        self.history.append(row)
        self.emit(row)
        for p in self.policies:
            p.on_epoch_end(self, epoch, row)

    def elapsed(self, now: float | None = None) -> float:
        """Seconds of training (pauses excluded), earlier fits of this run included."""
        now = time.perf_counter() if now is None else now
        return self._elapsed_before + now - self._t_start - self._paused_time

    def _finish(self, reason: str) -> Result:
        """The stop event, the policies' last word (checkpoints), the best weights back, Finished."""
        be, stop = self.backend, self.stop_training
        diverged = isinstance(stop, ev.Diverged)
        reason = "diverged" if diverged else "early_stop" if isinstance(stop, ev.EarlyStopped) else reason
        if stop is not None:
            self.emit(stop)
        if not diverged:
            self.last_params = be.get_params()
        for p in self.policies:
            p.on_train_end(self, reason)
        if self.early.best_weights is not None:
            be.set_params(self.early.best_weights)
        self.grads_stale = not diverged and GRADIENTS in be.capabilities  # fresh_grads: when asked
        self.state = RunState.FINISHED
        h = self.history
        test = test_figures(be, self.data, self.spec.values["loss"]["name"]) if h and not diverged else (None, None)
        result = Result(reason, self.epoch if reason != "stopped" else h.total, self.step, self.best_epoch,
                        self.best_val, h[-1].train_loss if h else None, h, *test)
        self.emit(ev.Finished(reason, h.total, self.step, self.best_epoch, self.best_val, result.final_train_loss,
                              self.elapsed(), result.test_loss, result.test_metric))
        return result

"""The training loop: epochs, mini-batches, evaluation without gradients, early stopping,
checkpoints, divergence detection. It emits events (``events.py``) to plain callbacks.

Control from another thread (the TUI's) goes through flags the loop checks between
batches: ``pause``/``resume``, ``step_batch``, ``step_epoch``, ``stop``; ``call(fn)`` runs
``fn(backend)`` on the training thread at the next batch boundary (even while paused), which
is how on-demand views (layer statistics, traces) read a consistent network.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
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
from ..data.batching import batch_size_for
from ..data.dataset import Dataset, batches, load_dataset
from ..runs.history import History
from ..runs.store.checkpoint import save_checkpoint
from ..runs.store.folder import MetricsLog, RunDir
from . import facts
from .early_stopping import EarlyStopping
from .evaluation import test_figures
from .facts import Result, finite
from .pacing import YIELD_EVERY, Pacer, between_steps
from .resume import continue_run, resume_state

Callback = Callable[[ev.Event], None]
BEST_SAVE_INTERVAL = 1.0  # seconds between best-checkpoint writes while improving fast


class Trainer:
    grads_stale = False  # the run ended: its gradients are the last step's, not of the weights it ends with

    def __init__(self, spec: Spec, backend: str | Backend | None = None, *, data: Dataset | None = None,
                 out_dir: str | Path | None = None, start_paused: bool = False, batch_losses: bool = False,
                 device: str | None = None, params=None, pace: float = 0.0, yield_every: float = 0.0):
        self.spec = spec
        self.data = data if data is not None else load_dataset(spec)
        d = self.data
        if isinstance(backend, Backend):
            self.backend = backend
        else:
            name = backend or spec.values["training"]["backend"]
            device = device or spec.values["training"]["device"]
            # ``auto``: chosen by a short measured probe (autodevice.py), recorded in the spec
            self.backend = backend_for(spec, d.n_features, d.n_outputs, params=params, device=device, name=name)
        self.batch_size = spec.values["training"]["batch_size"]
        self.backend.set_data(d.x_train, d.y_train, d.x_val, d.y_val, self.batch_size)
        self.run = RunDir(out_dir) if out_dir else None
        self.batch_losses = batch_losses
        self.epochs = spec.values["training"]["epochs"]
        self.exact_train_acc = spec.values["training"].get("exact_train_acc", False)
        self.batches_per_epoch = batches(len(d.x_train), self.batch_size)
        self.lr = spec.values["optimizer"]["lr"]  # the live learning rate (set_lr); the spec stays as given
        self.early = EarlyStopping(spec.values["training"]["patience"], watching=len(d.x_val) > 0)
        self._last_best_save = 0.0
        self._t_start = self._t_epoch = time.perf_counter()
        self._paused_before, self._steps_before = 0.0, 0
        # control (guarded by _cond)
        self._cond = threading.Condition()
        self._running = not start_paused
        self._budget = 0
        self._epoch_budget = False
        self._stop = False
        self._calls: deque[tuple[Callable, Future]] = deque()
        self._step_waiters: list[tuple[int, Future]] = []
        self._step_target = 0
        self._stats_requested = False
        self.pacer = Pacer(pace)  # updates per second while running freely (0: max); set_pace
        self.yield_every = yield_every or (YIELD_EVERY if pace else 0.0)  # seconds between GIL yields
        self._last_ratio: dict[int, float] = {}
        self._rng = np.random.default_rng([spec.values["training"]["seed"], 1])  # the epochs' shuffles
        self._perm: np.ndarray | None = None  # this epoch's order of the training rows
        self._next_perm: np.ndarray | None = None  # the next epoch's, when someone looked ahead
        # progress
        self.state = "ready"  # ready | running | paused | finished
        self.epoch = 0
        self.batch = 0
        self.step = 0
        self.history = History()  # bounded memory: a 1M-epoch run keeps a few thousand rows
        self._paused_time = 0.0
        self._callbacks: list[Callback] = []
        self.resumed = False  # resume.restore put it back where a run folder's last checkpoint stopped
        self._elapsed_before = 0.0  # seconds of training before this fit() (a resumed or continued run)
        self._last_params = None  # the weights the run ended with (the best are put back): `continue` starts here

    # ------------------------------------------------------------ control (any thread)
    def pause(self) -> None:
        with self._cond:
            self._running = False
            self._cond.notify_all()

    def resume(self) -> None:
        with self._cond:
            self._running = True
            self._cond.notify_all()

    def toggle(self) -> bool:
        """Start/pause; returns True when now running."""
        with self._cond:
            self._running = not self._running
            self._cond.notify_all()
            return self._running

    @property
    def running(self) -> bool:
        return self._running

    def wait_for_control(self, timeout: float) -> bool:
        """Pacing's sleep between steps (pacing.py), woken by any control: False once stopped, paused or unpaced."""
        with self._cond:
            if not (self._stop or self._calls or not self._running or not self.pacer.rate):
                self._cond.wait(timeout)
        self._run_calls()
        return not self._stop and self._running and bool(self.pacer.rate)

    def step_batch(self, n: int = 1, with_stats: bool = False) -> Future:
        """Pause and let n more batches run. ``with_stats``: the first of them also reports layer
        statistics, with the update ratio of exactly that step. The future gives the step number once
        those batches have run (or the last step, if the run ends first); nobody has to poll."""
        fut: Future = Future()
        with self._cond:
            self._running = False
            self._budget += n
            if with_stats:
                self._stats_requested = True
            self._step_target = max(self._step_target, self.step) + n  # counts a batch already in flight
            self._step_waiters.append((self._step_target, fut))
            self._cond.notify_all()
            if self.state == "finished":
                self._resolve_steps(final=True)
        return fut

    def _resolve_steps(self, final: bool = False) -> None:
        """Finish the futures of step_batch whose steps have run (``final``: all of them)."""
        waiting = []
        for target, fut in self._step_waiters:
            if final or self.step >= target:
                if not fut.done():
                    fut.set_result(self.step)
            else:
                waiting.append((target, fut))
        self._step_waiters = waiting

    def set_pace(self, rate: float) -> None:
        """Updates per second while running (0: as fast as it can); wakes a loop sleeping between steps."""
        with self._cond:
            self.pacer.set(rate)
            self._cond.notify_all()

    @property
    def pace(self) -> float:
        return self.pacer.rate

    def step_epoch(self) -> None:
        with self._cond:
            self._running = False
            self._epoch_budget = True
            self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()

    def request_stats(self) -> None:
        """Ask for a LayerStatsReady event after the next batch (or now, if paused)."""
        with self._cond:
            self._stats_requested = True
            self._cond.notify_all()

    def call(self, fn: Callable[[Backend], object]) -> Future:
        """Run fn(backend) on the training thread between batches; at once if no loop is running."""
        fut: Future = Future()
        with self._cond:
            if self.state in ("running", "paused"):
                self._calls.append((fn, fut))
                self._cond.notify_all()
                return fut
        self._run_one(fn, fut)
        return fut

    def next_batch_rows(self) -> np.ndarray:
        """The training-set rows of the mini-batch the next step trains on. Call it on the training
        thread (inside ``call``) or while no loop runs; between epochs it draws the next shuffle early
        (the same one the loop then uses)."""
        n = len(self.data.x_train)
        bs = batch_size_for(n, self.batch_size)
        if self._perm is None or self.batch >= self.batches_per_epoch:
            if self._next_perm is None:
                self._next_perm = self._rng.permutation(n)
            perm, b = self._next_perm, 0
        else:
            perm, b = self._perm, self.batch
        return perm[b * bs:(b + 1) * bs]

    def set_lr(self, lr: float) -> Future:
        """Change the learning rate from any thread: the backend's at the next batch boundary. The spec
        is not touched (it may be shared with the UI); checkpoints record the live rate."""
        self.lr = lr
        return self.call(lambda b: b.set_lr(lr))

    @property
    def best_epoch(self) -> int:
        return self.early.best_epoch

    @property
    def best_val(self) -> float | None:
        return self.early.best_value

    # ------------------------------------------------------------ the loop
    def _emit(self, event: ev.Event) -> None:
        for cb in self._callbacks:
            cb(event)

    def _run_one(self, fn, fut) -> None:
        try:
            fut.set_result(fn(self.backend))
        except BaseException as e:  # noqa: BLE001 - handed to the caller
            fut.set_exception(e)

    def _run_calls(self) -> None:
        while True:
            with self._cond:
                if not self._calls:
                    return
                fn, fut = self._calls.popleft()
            self._run_one(fn, fut)

    def emit_stats(self) -> None:
        """LayerStatsReady of the weights now (after the end: those it ends with, gradients recomputed). A layer
        whose update ratio cannot be measured now (paused: no step to compare) keeps the last measured one."""
        self._stats_requested = False
        facts.fresh_grads(self)
        layers = []
        for s in self.backend.layer_stats():
            if s.update_ratio is None and s.index in self._last_ratio:
                s = replace(s, update_ratio=self._last_ratio[s.index])
            elif s.update_ratio is not None:
                self._last_ratio[s.index] = s.update_ratio
            layers.append(s)
        self._emit(ev.LayerStatsReady(self.epoch, self.step, tuple(layers)))

    def _gate(self) -> bool:
        """Wait until the next batch may run. False when asked to stop."""
        announced = False
        t0 = time.perf_counter()
        try:
            while True:
                self._run_calls()
                with self._cond:
                    if self._stop:
                        return False
                    if self._running or self._epoch_budget:
                        return True
                    if self._budget > 0:
                        self._budget -= 1
                        return True
                if not announced:
                    announced = True
                    self.pacer.reset()
                    self.state = "paused"
                    self._emit(ev.Paused(self.epoch, self.step))
                if self._stats_requested:
                    self.emit_stats()
                with self._cond:
                    if not (self._stop or self._running or self._epoch_budget or self._budget or self._calls
                            or self._stats_requested):
                        self._cond.wait(0.1)
        finally:
            self.state = "running"
            if announced:
                self._paused_time += time.perf_counter() - t0

    def _save(self, kind: str, params, epoch: int, metrics: dict) -> None:
        if not self.run:
            return
        path = self.run.best if kind == "best" else self.run.last
        meta, extra = facts.checkpoint_meta(self, epoch, metrics), None
        if kind == "last":  # what a resumed run needs: optimizer state, shuffles, counters
            extra, meta["resume"] = resume_state(self)
        save_checkpoint(path, params, meta, extra)
        self._emit(ev.CheckpointSaved(str(path), kind, epoch))

    def fit(self, callbacks: Iterable[Callback] = ()) -> Result:
        self._callbacks = list(callbacks)
        if self.run:
            if self.resumed:  # go on in the same folder: its files stay, its lock is taken again
                self.run.lock()
            else:
                self.run.create(self.spec.to_toml())
            self._callbacks.append(MetricsLog(self.run))
        try:
            return self._fit()
        except Exception as e:
            self.state = "finished"
            self._emit(ev.Failed(f"{type(e).__name__}: {e}", self.epoch))
            raise
        finally:
            with self._cond:
                calls, self._calls = list(self._calls), deque()
                self.state = "finished"
                self._resolve_steps(final=True)
            for fn, fut in calls:
                self._run_one(fn, fut)

    def _fit(self) -> Result:
        # a diverging run overflows on its way to NaN: report it with a Diverged event, not warnings
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return self._loop()

    def _loop(self) -> Result:
        """The epochs, each a named step: train its batches, evaluate, checkpoint, early stopping."""
        self._emit(facts.started_event(self))
        self.state = "running"
        self._t_start = time.perf_counter()
        reason, diverged = "completed", None
        first, start = (self.epoch, self.batch) if 0 < self.batch < self.batches_per_epoch else (self.epoch + 1, 0)
        try:
            for epoch in range(first, self.epochs + 1):
                stopped, diverged = self._train_epoch(epoch, start if epoch == first else 0)
                if stopped or diverged:
                    reason = "stopped" if stopped else reason
                    break
                diverged = self._end_epoch(epoch)
                if diverged:
                    break
                self._checkpoint_best()
                if self.early.should_stop:
                    self._emit(ev.EarlyStopped(epoch, self.best_epoch, self.best_val, self.early.patience))
                    reason = "early_stop"
                    break
        except KeyboardInterrupt:
            reason = "stopped"
        return self._finish("diverged" if diverged else reason, diverged)

    def _train_epoch(self, epoch: int, start: int = 0) -> tuple[bool, ev.Diverged | None]:
        """The epoch's mini-batches from ``start`` (a resumed run: where it stopped), each after the gate.
        (stopped, a Diverged event or None)."""
        be = self.backend
        self.epoch, self.batch = epoch, start
        if not start or self._perm is None:
            perm = self._next_perm if self._next_perm is not None else self._rng.permutation(len(self.data.x_train))
            self._perm, self._next_perm = perm, None
        perm = self._perm
        be.begin_epoch(perm)
        self._t_epoch, self._paused_before, self._steps_before = time.perf_counter(), self._paused_time, self.step
        cheap = CHEAP_LOSS in be.capabilities
        for b in range(start, self.batches_per_epoch):
            if not self._gate():
                return True, None
            stats = self._stats_requested
            if stats:
                be.mark()
            be.train_step(b)
            self.step += 1
            self.batch = b + 1
            loss = be.last_loss() if (cheap or self.batch_losses or not self._running) else None
            if loss is not None and not math.isfinite(loss):
                return False, ev.Diverged(epoch, b + 1, loss, facts.diverged_msg(self, loss, epoch, b + 1))
            self._emit(ev.BatchEnded(epoch, b + 1, self.step, loss))
            if self._step_waiters:
                with self._cond:
                    self._resolve_steps()
            if stats:
                self.emit_stats()
            between_steps(self)  # pacing.py: sleep until the next step is due, or let the UI take the GIL
        with self._cond:
            self._epoch_budget = False
        return False, None

    def _end_epoch(self, epoch: int) -> ev.Diverged | None:
        """Evaluate, update early stopping, emit EpochEnded; a Diverged event if a loss is not finite."""
        be, d = self.backend, self.data
        has_val = len(d.x_val) > 0
        train_loss = be.epoch_loss()
        val_loss, val_metric = be.evaluate("val") if has_val else (None, None)
        train_metric = None if self.exact_train_acc else be.epoch_metric()  # the epoch's own batches
        if train_metric is None and d.task == "classification":  # or, when asked, a pass over the set
            train_metric = be.evaluate("train")[1]
        if not (finite(train_loss) and finite(val_loss)):
            bad = train_loss if not finite(train_loss) else val_loss
            return ev.Diverged(epoch, self.batch, bad, facts.diverged_msg(self, bad, epoch, self.batch))
        self.early.update(epoch, val_loss if has_val else train_loss, be.get_params)
        now = time.perf_counter()
        active = now - self._t_epoch - (self._paused_time - self._paused_before)
        row = ev.EpochEnded(
            epoch=epoch, step=self.step, train_loss=train_loss, val_loss=val_loss,
            train_metric=train_metric, val_metric=val_metric, best_epoch=self.best_epoch,
            best_val_loss=self.best_val, patience_left=self.early.patience_left, lr=self.lr,
            elapsed=self.elapsed(now),
            steps_per_second=(self.step - self._steps_before) / active if active > 0 else 0.0)
        self.history.append(row)
        self._emit(row)
        return None

    def elapsed(self, now: float | None = None) -> float:
        """Seconds of training (pauses excluded), earlier fits of this run included."""
        now = time.perf_counter() if now is None else now
        return self._elapsed_before + now - self._t_start - self._paused_time

    def prepare_continue(self, epochs: int) -> None:
        """Before another ``fit()``: go on from where the run ended, up to ``epochs`` in all (resume.py)."""
        continue_run(self, epochs)

    def _checkpoint_best(self, final: bool = False) -> None:
        """Write the best weights when they changed, at most every BEST_SAVE_INTERVAL seconds while
        training (``final``: now)."""
        now = time.perf_counter()
        if self.early.best_dirty and self.run and (final or now - self._last_best_save >= BEST_SAVE_INTERVAL):
            self._save("best", self.early.best_weights, self.best_epoch, {"val_loss": self.best_val})
            self._last_best_save, self.early.best_dirty = now, False

    def _finish(self, reason: str, diverged: ev.Diverged | None) -> Result:
        """Report divergence or write the last checkpoint, put the best weights back, emit Finished."""
        be = self.backend
        if diverged:
            self._emit(diverged)
        else:
            self._last_params = be.get_params()
            if self.run and self.history:
                self._save("last", self._last_params, self.history[-1].epoch, facts.last_metrics(self, reason))
        if self.early.best_weights is not None:
            be.set_params(self.early.best_weights)
            self._checkpoint_best(final=True)
        self.grads_stale = not diverged and GRADIENTS in be.capabilities  # facts.fresh_grads: when asked
        self.state = "finished"
        result = Result(reason, self.epoch if reason != "stopped" else self.history.total, self.step,
                        self.best_epoch, self.best_val, self.history[-1].train_loss if self.history else None,
                        self.history, *(test_figures(self.backend, self.data, self.spec.values["loss"]["name"])
                          if self.history and not diverged else (None, None)))
        self._emit(ev.Finished(reason, self.history.total, self.step, self.best_epoch, self.best_val,
                               result.final_train_loss, self.elapsed(), result.test_loss, result.test_metric))
        return result

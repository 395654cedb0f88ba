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
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from . import events as ev
from .backends import Backend, make_backend
from .backends.numpy_backend import layer_sizes
from .checkpoint import save_checkpoint
from .data import Dataset, batches, load_dataset
from .rundir import MetricsLog, RunDir
from .spec import Spec

Callback = Callable[[ev.Event], None]
BEST_SAVE_INTERVAL = 1.0  # seconds between best-checkpoint writes while improving fast


@dataclass
class Result:
    reason: str
    epochs_run: int
    steps: int
    best_epoch: int
    best_val_loss: float | None
    final_train_loss: float | None
    history: list[ev.EpochEnded] = field(default_factory=list)
    test_loss: float | None = None  # the kept (best-validation) weights on the test split, if any
    test_metric: float | None = None


def _finite(x) -> bool:
    return x is None or math.isfinite(x)


class Trainer:
    def __init__(self, spec: Spec, backend: str | Backend | None = None, *, data: Dataset | None = None,
                 out_dir: str | Path | None = None, start_paused: bool = False, batch_losses: bool = False,
                 device: str | None = None, params=None):
        self.spec = spec
        self.data = data if data is not None else load_dataset(spec)
        d = self.data
        if isinstance(backend, Backend):
            self.backend = backend
        else:
            name = backend or spec.values["training"]["backend"]
            device = device or spec.values["training"]["device"]
            self.backend = make_backend(name, spec, d.n_features, d.n_outputs, params=params, device=device)
        self.batch_size = spec.values["training"]["batch_size"]
        self.backend.set_data(d.x_train, d.y_train, d.x_val, d.y_val, self.batch_size)
        self.run = RunDir(out_dir) if out_dir else None
        self.batch_losses = batch_losses
        self.epochs = spec.values["training"]["epochs"]
        self.patience = spec.values["training"]["patience"]
        self.batches_per_epoch = batches(len(d.x_train), self.batch_size)
        # control (guarded by _cond)
        self._cond = threading.Condition()
        self._running = not start_paused
        self._budget = 0
        self._epoch_budget = False
        self._stop = False
        self._calls: deque[tuple[Callable, Future]] = deque()
        self._stats_requested = False
        self._last_ratio: dict[int, float] = {}
        self._rng = np.random.default_rng([spec.values["training"]["seed"], 1])  # the epochs' shuffles
        self._perm: np.ndarray | None = None  # this epoch's order of the training rows
        self._next_perm: np.ndarray | None = None  # the next epoch's, when someone looked ahead
        # progress
        self.state = "ready"  # ready | running | paused | finished
        self.epoch = 0
        self.batch = 0
        self.step = 0
        self.best_epoch = 0
        self.best_val: float | None = None
        self.history: list[ev.EpochEnded] = []
        self._paused_time = 0.0
        self._callbacks: list[Callback] = []

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

    def step_batch(self, n: int = 1, with_stats: bool = False) -> None:
        """Pause and let n more batches run. ``with_stats``: the first of them also reports layer
        statistics, with the update ratio of exactly that step."""
        with self._cond:
            self._running = False
            self._budget += n
            if with_stats:
                self._stats_requested = True
            self._cond.notify_all()

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
        bs = n if self.batch_size <= 0 else self.batch_size
        if self._perm is None or self.batch >= self.batches_per_epoch:
            if self._next_perm is None:
                self._next_perm = self._rng.permutation(n)
            perm, b = self._next_perm, 0
        else:
            perm, b = self._perm, self.batch
        return perm[b * bs:(b + 1) * bs]

    def set_lr(self, lr: float) -> Future:
        self.spec.values["optimizer"]["lr"] = lr
        return self.call(lambda b: b.set_lr(lr))

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

    def _stats_event(self) -> None:
        """Emit layer statistics. A layer whose update ratio could not be measured now (stats asked
        for while paused, with no step to compare) keeps the ratio of the last measured step."""
        self._stats_requested = False
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
                    self.state = "paused"
                    self._emit(ev.Paused(self.epoch, self.step))
                if self._stats_requested:
                    self._stats_event()
                with self._cond:
                    if not (self._stop or self._running or self._epoch_budget or self._budget or self._calls
                            or self._stats_requested):
                        self._cond.wait(0.1)
        finally:
            self.state = "running"
            if announced:
                self._paused_time += time.perf_counter() - t0

    def _meta(self, epoch: int, metrics: dict) -> dict:
        d = self.data
        return {"preset": self.spec.values, "preset_name": self.spec.name, "epoch": epoch, "metrics": metrics,
                "features": d.features.to_dict(), "task": d.task, "n_outputs": d.n_outputs,
                "layer_sizes": layer_sizes(self.spec, d.n_features, d.n_outputs),
                "activations": self.spec.activations, "backend": self.backend.name,
                "dtype": self.spec.values["training"]["dtype"]}

    def _save(self, kind: str, params, epoch: int, metrics: dict) -> None:
        if not self.run:
            return
        path = self.run.best if kind == "best" else self.run.last
        save_checkpoint(path, params, self._meta(epoch, metrics))
        self._emit(ev.CheckpointSaved(str(path), kind, epoch))

    def fit(self, callbacks: Iterable[Callback] = ()) -> Result:
        self._callbacks = list(callbacks)
        if self.run:
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
            for fn, fut in calls:
                self._run_one(fn, fut)

    def _fit(self) -> Result:
        # a diverging run overflows on its way to NaN: report it with a Diverged event, not warnings
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return self._loop()

    def _loop(self) -> Result:
        spec, d, be = self.spec, self.data, self.backend
        sizes = layer_sizes(spec, d.n_features, d.n_outputs)
        n_params = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
        self._emit(ev.RunStarted(
            preset=spec.name, title=spec.values["about"]["title"], backend=be.name, device=be.describe_device(),
            task=d.task, n_train=len(d.x_train), n_val=len(d.x_val), n_features=d.n_features,
            n_outputs=d.n_outputs, layer_sizes=tuple(sizes), activations=tuple(spec.activations),
            n_params=n_params, epochs=self.epochs, batch_size=self.batch_size,
            batches_per_epoch=self.batches_per_epoch, seed=spec.values["training"]["seed"],
            out_dir=str(self.run.path) if self.run else None))
        self.state = "running"
        has_val = len(d.x_val) > 0
        cheap = getattr(be, "cheap_loss", False)
        best_params, stale, reason = None, 0, "completed"
        last_best_save, best_dirty, last_row = 0.0, False, {}
        t_start = time.perf_counter()
        diverged: ev.Diverged | None = None
        try:
            for epoch in range(1, self.epochs + 1):
                self.epoch, self.batch = epoch, 0
                perm = self._next_perm if self._next_perm is not None else self._rng.permutation(len(d.x_train))
                self._perm, self._next_perm = perm, None
                be.begin_epoch(perm)
                t_epoch, paused_before, steps_before = time.perf_counter(), self._paused_time, self.step
                for b in range(self.batches_per_epoch):
                    if not self._gate():
                        reason = "stopped"
                        break
                    stats = self._stats_requested
                    if stats:
                        be.mark()
                    be.train_step(b)
                    self.step += 1
                    self.batch = b + 1
                    loss = be.last_loss() if (cheap or self.batch_losses or not self._running) else None
                    if loss is not None and not math.isfinite(loss):
                        diverged = ev.Diverged(epoch, b + 1, loss, self._diverged_msg(loss, epoch, b + 1))
                        break
                    self._emit(ev.BatchEnded(epoch, b + 1, self.step, loss))
                    if stats:
                        self._stats_event()
                if reason == "stopped" or diverged:
                    break
                with self._cond:
                    self._epoch_budget = False
                train_loss = be.epoch_loss()
                val_loss, val_metric = be.evaluate("val") if has_val else (None, None)
                train_metric = be.evaluate("train")[1] if d.task == "classification" else None
                if not (_finite(train_loss) and _finite(val_loss)):
                    bad = train_loss if not _finite(train_loss) else val_loss
                    diverged = ev.Diverged(epoch, self.batch, bad, self._diverged_msg(bad, epoch, self.batch))
                    break
                crit = val_loss if has_val else train_loss
                if self.best_val is None or crit < self.best_val:
                    self.best_val, self.best_epoch, stale = crit, epoch, 0
                    best_params = be.get_params()
                    best_dirty = True
                else:
                    stale += 1
                active = time.perf_counter() - t_epoch - (self._paused_time - paused_before)
                elapsed = time.perf_counter() - t_start - self._paused_time
                use_patience = self.patience > 0 and has_val
                row = ev.EpochEnded(
                    epoch=epoch, step=self.step, train_loss=train_loss, val_loss=val_loss,
                    train_metric=train_metric, val_metric=val_metric, best_epoch=self.best_epoch,
                    best_val_loss=self.best_val, patience_left=(self.patience - stale) if use_patience else None,
                    lr=spec.values["optimizer"]["lr"], elapsed=elapsed,
                    steps_per_second=(self.step - steps_before) / active if active > 0 else 0.0)
                self.history.append(row)
                last_row = {"train_loss": train_loss, "val_loss": val_loss, "val_metric": val_metric}
                self._emit(row)
                now = time.perf_counter()
                if best_dirty and self.run and now - last_best_save >= BEST_SAVE_INTERVAL:
                    self._save("best", best_params, self.best_epoch, {"val_loss": self.best_val})
                    last_best_save, best_dirty = now, False
                if use_patience and stale >= self.patience:
                    self._emit(ev.EarlyStopped(epoch, self.best_epoch, self.best_val, self.patience))
                    reason = "early_stop"
                    break
        except KeyboardInterrupt:
            reason = "stopped"
        if diverged:
            reason = "diverged"
            self._emit(diverged)
        elif self.run and self.history:
            partial = self.batch < self.batches_per_epoch and reason == "stopped"
            self._save("last", be.get_params(), self.history[-1].epoch,
                       {**last_row, "step": self.step, "partial_epoch": partial})
        if best_params is not None:
            be.set_params(best_params)
            if best_dirty:
                self._save("best", best_params, self.best_epoch, {"val_loss": self.best_val})
        self.state = "finished"
        result = Result(reason, self.epoch if reason != "stopped" else len(self.history), self.step,
                        self.best_epoch, self.best_val, self.history[-1].train_loss if self.history else None,
                        self.history, *(self.test_figures() if self.history and not diverged else (None, None)))
        self._emit(ev.Finished(reason, len(self.history), self.step, self.best_epoch, self.best_val,
                               result.final_train_loss, time.perf_counter() - t_start - self._paused_time,
                               result.test_loss, result.test_metric))
        return result

    def test_figures(self) -> tuple[float | None, float | None]:
        """(loss, accuracy or None) of the current weights on the test split; (None, None) without one."""
        d = self.data
        if d.x_test is None or not len(d.x_test):
            return None, None
        from .nn import LOSSES

        loss = LOSSES[self.spec.values["loss"]["name"]]()
        out = np.asarray(self.backend.predict(d.x_test), np.float64)
        y = d.y_test if d.task == "classification" else np.asarray(d.y_test, np.float64)
        return float(loss.forward(out, y)), loss.metric(out, y)

    def _diverged_msg(self, loss: float, epoch: int, batch: int) -> str:
        lr = self.spec.values["optimizer"]["lr"]
        keep = (f" The best weights (epoch {self.best_epoch}) are kept." if self.best_epoch else
                " No epoch finished, so there is nothing to keep.")
        return (f"The loss became {loss} at epoch {epoch}, batch {batch}: training diverged. "
                f"Try a smaller learning rate than {lr:g} (--set optimizer.lr=...).{keep}")

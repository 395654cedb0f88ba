"""A live run: one Trainer on its own thread, and the view built from its events.

The trainer calls one plain callback on its thread. Batch ends (thousands a second) are coalesced
into one slot; every other event is queued. The UI drains both on a timer (``poll``) and learns which
parts changed, so a fast run cannot flood the screen. Costly parts (layer statistics, parameters)
are asked for only when a visible view wants them; traces come back as futures.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import islice
from queue import Empty, SimpleQueue

import numpy as np

from .. import events as ev
from ..backends.base import DEVICE_INFO, GRADIENTS
from ..events import RunState
from ..experiments.baseline import run_baseline
from ..training.pacing import YIELD_EVERY, preset_pace
from .base import BATCH_HISTORY, HEADER, STATS, Control, RunView
from .fold import fold_epoch, fold_event
from .store.layerlog import EVERY as LAYERS_EVERY

GPU_EVERY = 2.0  # seconds between reads of the GPU's memory for the status line
LIVE_CONTROLS = (Control.START | Control.PAUSE | Control.STEP | Control.EPOCH | Control.STOP | Control.SET_LR
                 | Control.PACE | Control.CONTINUE | Control.SET_PARAMS)


class _Rate:
    """Steps per second over the last couple of seconds of running, and time spent running."""

    def __init__(self, clock=time.perf_counter):
        self.clock = clock
        self.samples: list[tuple[float, int]] = []
        self.active = 0.0
        self._since: float | None = None

    def update(self, step: int, running: bool) -> None:
        now = self.clock()
        if self._since is not None:
            self.active += now - self._since
        if running:
            self._since = now
            self.samples.append((now, step))
            while len(self.samples) > 2 and now - self.samples[0][0] > 2.0:
                self.samples.pop(0)
        else:
            self._since = None
            self.samples.clear()

    def rate(self) -> float | None:
        if len(self.samples) < 2:
            return None
        (t0, s0), (t1, s1) = self.samples[0], self.samples[-1]
        return (s1 - s0) / (t1 - t0) if t1 > t0 else None


def yield_every() -> float:
    """Seconds between the training thread's GIL yields in the app (``DLTUI_YIELD_MS``: a benchmark knob;
    0 turns the yields off to measure what they cost and what they fix)."""
    try:
        return max(0.0, float(os.environ.get("DLTUI_YIELD_MS", YIELD_EVERY * 1000)) / 1000)
    except ValueError:
        return YIELD_EVERY


def gpu_note(backend) -> str:
    """'NVIDIA H100 80GB HBM3 · 1.2/79 GB' from the backend's device_info(), or '' if it has none."""
    if DEVICE_INFO not in backend.capabilities:
        return ""
    try:
        info = backend.device_info()
    except Exception:  # noqa: BLE001 - a status line must not break the run
        return ""
    name, total = info.get("name") or "", info.get("mem_total")
    used = info.get("mem_reserved") or info.get("mem_used")
    if used is not None and total:
        return f"{name} · {used / 2**30:.1f}/{total / 2**30:.0f} GB"
    return name


def _params_and_grads(step: int):
    """What the trainer thread reads for the matrix view: (step, weights, gradients or None)."""
    def read(be):
        return step, be.get_params(), (be.get_grads() if GRADIENTS in be.capabilities else None)
    return read


class LiveRun:
    """One Trainer, its thread and the view built from its events (``Run`` protocol)."""

    controls = LIVE_CONTROLS
    control = property(lambda self: self)  # its own RunControl: the trainer's commands, through this view
    read_only = False

    def __init__(self, spec=None, *, backend: str | None = None, device: str | None = None, start: bool = False,
                 clock=time.perf_counter, trainer=None, pace: float | str = 0.0, out_dir=None):
        from ..training.trainer import Trainer

        tr = trainer if trainer is not None else Trainer(spec, backend=backend, device=device,
                                                         start_paused=not start, yield_every=yield_every(),
                                                         out_dir=out_dir)
        if trainer is None:  # a number (0: max), or "preset": the preset's (auto: ~20 s a lesson, max for a CSV)
            tr.set_pace(preset_pace(tr.spec.values, tr.batches_per_epoch) if pace == "preset" else float(pace))
        self.trainer, self.spec, self.data = tr, tr.spec, tr.data
        self.queue: SimpleQueue = SimpleQueue()
        t = tr.spec.values["training"]
        self.view = RunView(preset=tr.spec.name, title=tr.spec.values["about"]["title"], backend=tr.backend.name,
                            device=tr.backend.describe_device(), task=tr.data.task, epochs_total=tr.epochs,
                            batches_per_epoch=tr.batches_per_epoch, patience=t["patience"], lr=tr.lr,
                            seed=t["seed"], activations=tuple(tr.spec.activations), epoch=tr.epoch, step=tr.step,
                            pace=tr.pace, batch_size=tr.batch_size, n_train=len(tr.data.x_train))
        self._rate = _Rate(clock)
        self._params_future: Future | None = None
        self._stats_pending = self._stats_fresh = False
        self._epoch_in_flight, self._epochs_queued = False, 0
        self._gpu = str(tr.backend.device).startswith("cuda") and DEVICE_INFO in tr.backend.capabilities
        self._gpu_at = -1e9
        self._latest_batch: ev.BatchEnded | None = None
        self._batch_losses: deque = deque(maxlen=BATCH_HISTORY)  # every batch's (step, loss), appended there
        self._seen_batch: ev.BatchEnded | None = None
        self._tracer: ThreadPoolExecutor | None = None
        self._spawn: Callable | None = None
        self.opened = False
        self.view.out_dir = str(tr.run.path) if tr.run else ""
        if tr.run is not None and trainer is None:  # the folder's writers: metrics, and layers for `dltui watch`
            tr.recorders = tr.run.recorders(tr, layers_every=LAYERS_EVERY)
        if tr.spec.values["loss"]["name"] == "mse":  # a straight line's loss (saved beside the metrics)
            self.view.baseline = run_baseline(tr.data, self.view.out_dir)
        if tr.backend.warning:  # declared on the Backend interface: a setting this run ignores
            self.view.message = tr.backend.warning

    @classmethod
    def wrap(cls, trainer) -> LiveRun:
        """A run around a trainer someone else already drives (its events do not reach this view)."""
        run = cls(trainer=trainer)
        run.opened = True
        return run

    # ------------------------------------------------------------ the thread
    def open(self, spawn: Callable[[Callable[[], None]], object] | None = None) -> None:
        """Start Trainer.fit on a thread: ``spawn(fn)`` (e.g. a Textual thread worker) or a plain one."""
        if self.opened:
            return
        self.opened = True
        self._spawn = spawn
        self._start_thread()

    def _start_thread(self) -> None:
        if self._spawn is None:
            threading.Thread(target=self._fit, name="dltui-trainer", daemon=True).start()
        else:
            self._spawn(self._fit)

    @property
    def can_continue(self) -> bool:
        """The run ended (finished, stopped, early stop) without diverging: ``continue_run`` goes on."""
        return self.trainer.state == RunState.FINISHED and self.trainer.last_params is not None \
            and self.view.state == RunState.FINISHED

    def continue_run(self, epochs: int | None = None) -> int | None:
        """Go on training from where the run ended, with its optimizer state, up to ``epochs`` in all
        (default: the epochs left, or as many again as the preset asks when it reached its last). The new
        total, or None when the run cannot continue."""
        tr, v = self.trainer, self.view
        if not self.can_continue:
            return None
        if epochs is None:
            done = tr.epoch >= tr.epochs and tr.batch >= tr.batches_per_epoch
            epochs = tr.epochs + tr.spec.values["training"]["epochs"] if done else tr.epochs
        tr.prepare_continue(epochs)
        v.epochs_total, v.end_reason, v.state, v.message = epochs, None, RunState.RUNNING, ""
        v.params_step = v.stats_step = -1
        self._start_thread()
        return epochs

    def close(self) -> None:
        """Stop the trainer and let the helper thread go (a later request starts a new one)."""
        self.stop()
        if self._tracer is not None:
            self._tracer.shutdown(wait=False)
            self._tracer = None

    def _fit(self) -> None:
        try:
            with np.errstate(all="ignore"):
                self.trainer.fit(callbacks=[self.on_event])
        except Exception:  # noqa: BLE001 - the trainer has already emitted Failed with the message
            pass
        if self.trainer.step == 0 and self.trainer.run is not None:
            self.trainer.run.remove_untrained()  # a preset opened and left untrained leaves no folder

    def on_event(self, e: ev.Event) -> None:
        """The trainer's callback (training thread): batch ends go to one slot (an attribute store is
        atomic), every other event to the queue."""
        if type(e) is ev.BatchEnded:
            self._latest_batch = e
            if e.loss is not None:
                self._batch_losses.append((e.step, e.loss))  # deque.append: atomic, no lock
        else:
            if type(e) is ev.Finished:  # a view shows the end's statistics: gradients of the weights it ends
                self.trainer.fresh_grads()  # with, recomputed here (training thread) before the UI learns of it
            self.queue.put(e)

    # ------------------------------------------------------------ state
    @property
    def state(self) -> RunState:
        return self.view.state if self.view.ended else self.trainer.state

    @property
    def active(self) -> bool:
        return not self.view.ended and self.trainer.state != RunState.FINISHED

    @property
    def started_training(self) -> bool:
        return self.trainer.step > 0

    @property
    def stats_pending(self) -> bool:
        """Layer statistics were asked for and have not arrived yet."""
        return self._stats_pending

    @property
    def busy(self) -> bool:
        """An epoch asked for with `e` is still running (or more are queued)."""
        return self._epoch_in_flight or self._epochs_queued > 0

    # ------------------------------------------------------------ controls (UI thread, never blocking)
    def toggle(self) -> bool:
        self._epochs_queued = 0
        return self.trainer.toggle()

    def pause(self) -> None:
        self._epochs_queued = 0
        self.trainer.pause()

    def step_batch(self, with_stats: bool = False) -> Future:
        """One optimizer step; the future gives its step number once it has run. ``with_stats``: it also
        reports layer statistics, with the update ratio of exactly this step."""
        self._epochs_queued = 0
        if with_stats:
            self._stats_pending = True
        return self.trainer.step_batch(1, with_stats=with_stats)

    def step_epoch(self) -> None:
        """One more epoch; presses while an epoch is still running are queued, not lost."""
        if self._epoch_in_flight:
            self._epochs_queued += 1
            return
        self._epoch_in_flight = True
        self.trainer.step_epoch()

    def stop(self) -> None:
        self._epochs_queued = 0
        self.trainer.stop()

    def set_lr(self, lr: float) -> None:
        self.trainer.set_lr(lr)
        self.view.lr = lr

    def set_params(self, params) -> Future:
        """Weights edited by hand: the view shows them now; the trainer takes them on its own thread at
        the next batch boundary (``trainer.call``, waited on by the helper thread, never by the UI's).
        Training goes on from them. The future is done once they are in."""
        params = [(np.array(W, copy=True), np.array(b, copy=True)) for W, b in params]
        v = self.view
        v.params, v.params_label = [(W.copy(), b.copy()) for W, b in params], "edited by hand"
        self._params_future = None  # weights read before the edit must not come back over it
        return self._helper().submit(lambda: self.trainer.call(lambda be: be.set_params(params)).result())

    def set_pace(self, rate: float) -> None:
        """Updates per second while running (0: max); takes effect before the next step."""
        self.trainer.set_pace(rate)
        self.view.pace = rate

    def trace(self, rows=None) -> Future:
        """A future of the trace of these training rows (None: the batch the next step trains), taken on
        the training thread between batches (or on a helper thread when no loop runs)."""
        from ..engine.tracing import trace_rows

        return self._helper().submit(lambda: trace_rows(self.trainer, rows).result())

    def _helper(self) -> ThreadPoolExecutor:
        """A thread that waits on the trainer for the UI: when no loop runs, ``trainer.call`` runs the
        work at once on the calling thread - this one, never the UI's."""
        if self._tracer is None:
            self._tracer = ThreadPoolExecutor(1, thread_name_prefix="dltui-run")
        return self._tracer

    # ------------------------------------------------------------ on-demand views
    def want_stats(self) -> None:
        v = self.view
        if self._stats_pending or v.stats_step == v.step:
            return
        if self.trainer.state == RunState.FINISHED:
            v.stats, v.stats_step, self._stats_fresh = tuple(self.trainer.backend.layer_stats()), v.step, True
            return
        self._stats_pending = True
        self.trainer.request_stats()

    def want_params(self) -> None:
        if self._params_future is not None or self.view.params_step == self.view.step:
            return
        read = _params_and_grads(self.view.step)
        self._params_future = self._helper().submit(lambda: self.trainer.call(read).result())

    # ------------------------------------------------------------ draining
    def poll(self) -> set[str]:
        v, changed = self.view, set()
        n = self._drain(changed)
        if self._stats_fresh:
            self._stats_fresh = False
            changed.add(STATS)
        changed |= self._take_params()
        running = v.state == RunState.RUNNING
        if self._gpu and time.monotonic() - self._gpu_at >= GPU_EVERY:
            self._gpu_at = time.monotonic()
            note = gpu_note(self.trainer.backend)
            if note != v.device_note:
                v.device_note = note
                changed.add(HEADER)
        self._rate.update(v.step, running)
        rate = self._rate.rate()
        if rate is not None:
            v.steps_per_s = rate
        v.elapsed = self._rate.active
        if n or running:
            changed.add(HEADER)
        return changed

    def _drain(self, changed: set[str]) -> int:
        """Fold the latest batch and every queued event; how many there were. At max pace a small net
        ends a thousand epochs a second, and every microsecond here is taken from the training thread
        (the GIL): the batch losses move in one C-level call, and epoch ends take a short path."""
        n, log, v = 0, self._batch_losses, self.view
        v.batches.extend(islice(iter(log.popleft, None), len(log)))  # popleft until the count taken now
        get, epoch_ended = self.queue.get_nowait, ev.EpochEnded
        while True:
            b = self._latest_batch  # the latest batch first: a Paused or EpochEnded queued after it is newer
            if b is not None and b is not self._seen_batch:
                self._seen_batch = b
                if b.step >= v.step:
                    self.fold(b, changed)
                n += 1
            try:
                e = get()
            except Empty:
                return n
            n += 1
            if type(e) is epoch_ended and not self._epoch_in_flight:  # no isinstance chain for the commonest
                fold_epoch(v, e, changed)
            else:
                self.fold(e, changed)

    def _take_params(self) -> set[str]:
        f = self._params_future
        if f is None or not f.done():
            return set()
        self._params_future = None
        if f.exception() is not None:
            return set()
        v = self.view
        v.params_step, v.params, v.grads = f.result()
        best = v.history[-1].best_epoch if v.history else 0
        ended = self.trainer.state == RunState.FINISHED and v.state == RunState.FINISHED and best
        v.params_label = (f"best @ epoch {best} (gradients: whole training set)" if ended
                          else f"live · step {v.params_step}")
        return {"params"}

    def fold(self, e: ev.Event, changed: set[str]) -> None:
        """Fold one event into the view (UI thread); the run's own bookkeeping follows."""
        fold_event(self.view, e, changed, running=self.trainer.running)
        if isinstance(e, ev.EpochEnded) and self._epoch_in_flight:
            self._epoch_in_flight = False
            if self._epochs_queued:
                self._epochs_queued -= 1
                self.step_epoch()
        elif isinstance(e, (ev.LayerStatsReady, ev.Failed, ev.Finished)):
            self._stats_pending = False
        if isinstance(e, ev.Finished) and self.view.out_dir and self.view.message_kind != "error":
            self.view.message += f" · kept in {self.view.out_dir}"

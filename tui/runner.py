"""Where the dashboard's numbers come from: a live run (the trainer in a Textual thread worker)
or a run folder another process is writing (``dltui watch``).

The trainer calls one plain callback, ``queue.put``, on its own thread. The UI drains the queue
on a timer (``poll``), folds every event into one ``RunView`` and learns which parts changed, so
a fast run cannot flood the screen. No widget is touched from the training thread; views that cost
something (layer statistics, parameters) are asked for only when a visible widget wants them.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty, SimpleQueue

import numpy as np
from dltui.core import events as ev

# the parts of the dashboard a poll can mark as changed
HEADER, LOSS, STATS, PARAMS, MESSAGE, RUN = "header", "loss", "stats", "params", "message", "run"

END_WORDS = {"completed": "finished all epochs", "early_stop": "stopped early (no better validation loss)",
             "stopped": "stopped", "diverged": "diverged"}


@dataclass
class RunView:
    """Everything the dashboard shows about one run, as plain values."""

    preset: str = ""
    title: str = ""
    backend: str = ""
    device: str = ""
    device_note: str = ""  # GPU name and memory, when the run is on one
    task: str = "regression"
    epochs_total: int = 0
    batches_per_epoch: int = 0
    patience: int = 0
    lr: float = 0.0
    seed: int = 0
    layer_sizes: tuple[int, ...] = ()
    activations: tuple[str, ...] = ()
    epoch: int = 0  # epochs finished or in progress (1-based once running)
    batch: int = 0
    step: int = 0
    state: str = "ready"  # ready | running | paused | finished | failed
    history: list[ev.EpochEnded] = field(default_factory=list)
    stats: tuple[ev.LayerStats, ...] | None = None
    stats_step: int = -1
    params: list | None = None
    grads: list | None = None
    params_step: int = -1
    message: str = ""
    message_kind: str = "info"  # info | error
    end_reason: str | None = None
    test_loss: float | None = None  # the best-validation weights on the test split ([data] test_ratio)
    elapsed: float = 0.0  # seconds running (pauses excluded)
    steps_per_s: float = 0.0

    @property
    def ended(self) -> bool:
        return self.state in ("finished", "failed", "diverged")

    @property
    def eta(self) -> float | None:
        if self.steps_per_s <= 0 or self.ended or not self.batches_per_epoch:
            return None
        return max(0, self.epochs_total * self.batches_per_epoch - self.step) / self.steps_per_s


class _Rate:
    """Steps per second over the last couple of seconds of running, and time spent running."""

    def __init__(self, clock=time.perf_counter):
        self.clock = clock
        self.samples: list[tuple[float, int]] = []
        self.active = 0.0
        self._since: float | None = None

    def update(self, step: int, running: bool) -> None:
        now = self.clock()
        if running:
            if self._since is not None:
                self.active += now - self._since
            self._since = now
            self.samples.append((now, step))
            while len(self.samples) > 2 and now - self.samples[0][0] > 2.0:
                self.samples.pop(0)
        else:
            if self._since is not None:
                self.active += now - self._since
            self._since = None
            self.samples.clear()

    def rate(self) -> float | None:
        if len(self.samples) < 2:
            return None
        (t0, s0), (t1, s1) = self.samples[0], self.samples[-1]
        return (s1 - s0) / (t1 - t0) if t1 > t0 else None


GPU_EVERY = 2.0  # seconds between reads of the GPU's memory for the status line


def gpu_note(backend) -> str:
    """'NVIDIA H100 80GB HBM3 · 1.2/79 GB' from the backend's device_info(), or '' if it has none."""
    info_of = getattr(backend, "device_info", None)
    if info_of is None:
        return ""
    try:
        info = info_of()
    except Exception:  # noqa: BLE001 - a status line must not break the run
        return ""
    name, total = info.get("name") or "", info.get("mem_total")
    used = info.get("mem_reserved") or info.get("mem_used")
    if used is not None and total:
        return f"{name} · {used / 2**30:.1f}/{total / 2**30:.0f} GB"
    return name


def grads_of(backend) -> list | None:
    """Host copies of each layer's last weight gradient, where the backend exposes them."""
    if hasattr(backend, "get_grads"):
        return [np.asarray(g) for g in backend.get_grads()]
    net = getattr(backend, "net", None)
    if net is not None and hasattr(net, "linears"):
        return [lin.dW.copy() for lin in net.linears]
    return None


class LiveRun:
    """One Trainer, its worker thread and the view built from its events."""

    read_only = False

    def __init__(self, spec, *, backend: str | None = None, device: str | None = None, start: bool = False,
                 clock=time.perf_counter):
        from dltui.core.trainer import Trainer

        self.spec = spec
        self.queue: SimpleQueue = SimpleQueue()
        self.trainer = Trainer(spec, backend=backend, device=device, start_paused=not start)
        t = spec.values["training"]
        tr = self.trainer
        self.view = RunView(preset=spec.name, title=spec.values["about"]["title"], backend=tr.backend.name,
                            device=tr.backend.describe_device(), task=tr.data.task,
                            epochs_total=tr.epochs, batches_per_epoch=tr.batches_per_epoch,
                            patience=t["patience"], lr=spec.values["optimizer"]["lr"], seed=t["seed"],
                            activations=tuple(spec.activations))
        self._rate = _Rate(clock)
        self._params_future: Future | None = None
        self._stats_pending = False
        self._stats_fresh = False
        self._epoch_in_flight = False
        self._epochs_queued = 0
        self._gpu = str(getattr(tr.backend, "device", "")).startswith("cuda")
        self._gpu_at = -1e9
        self._latest_batch: ev.BatchEnded | None = None
        self._seen_batch: ev.BatchEnded | None = None
        self.worker = None

    @property
    def data(self):
        return self.trainer.data

    # ------------------------------------------------------------ the worker
    def start(self, node) -> None:
        """Run Trainer.fit in a thread worker owned by ``node`` (a screen)."""
        self.worker = node.run_worker(self._fit, thread=True, name="trainer", group="trainer",
                                      exit_on_error=False)

    def _fit(self) -> None:
        try:
            with np.errstate(all="ignore"):
                self.trainer.fit(callbacks=[self._on_event])
        except Exception:  # noqa: BLE001 - the trainer has already emitted Failed with the message
            pass

    def _on_event(self, e: ev.Event) -> None:
        """The trainer's callback (training thread). Batch ends, thousands a second, are coalesced
        into one slot the UI reads (an attribute store is atomic); every other event is queued."""
        if type(e) is ev.BatchEnded:
            self._latest_batch = e
        else:
            self.queue.put(e)

    # ------------------------------------------------------------ controls (UI thread)
    def toggle(self) -> bool:
        self._epochs_queued = 0
        return self.trainer.toggle()

    def step_batch(self, with_stats: bool = False) -> None:
        """One optimizer step. ``with_stats``: the step also reports layer statistics, with the
        update ratio of exactly this step (the request and the step reach the trainer together)."""
        self._epochs_queued = 0
        tr = self.trainer
        if with_stats:
            self._stats_pending = True
        tr.step_batch(1, with_stats=with_stats)

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

    @property
    def active(self) -> bool:
        return not self.view.ended and self.trainer.state != "finished"

    @property
    def started_training(self) -> bool:
        return self.trainer.step > 0

    # ------------------------------------------------------------ on-demand views
    def want_stats(self) -> None:
        if self._stats_pending or self.view.stats_step == self.view.step:
            return
        if self.trainer.state == "finished":
            self.view.stats = tuple(self.trainer.backend.layer_stats())
            self.view.stats_step = self.view.step
            self._stats_fresh = True
            return
        self._stats_pending = True
        self.trainer.request_stats()

    def want_params(self) -> None:
        if self._params_future is not None or self.view.params_step == self.view.step:
            return
        step = self.view.step
        self._params_future = self.trainer.call(lambda b: (step, b.get_params(), grads_of(b)))

    # ------------------------------------------------------------ draining
    def poll(self) -> set[str]:
        v, changed = self.view, set()
        n = 0
        while True:
            # the latest batch first: a Paused or EpochEnded queued after it is newer
            b = self._latest_batch
            if b is not None and b is not self._seen_batch:
                self._seen_batch = b
                if b.step >= v.step:
                    self._apply(b, changed)
                n += 1
            try:
                e = self.queue.get_nowait()
            except Empty:
                break
            n += 1
            self._apply(e, changed)
        if self._stats_fresh:
            self._stats_fresh = False
            changed.add(STATS)
        f = self._params_future
        if f is not None and f.done():
            self._params_future = None
            if f.exception() is None:
                step, params, grads = f.result()
                v.params, v.grads, v.params_step = params, grads, step
                changed.add(PARAMS)
        running = v.state == "running"
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

    def _apply(self, e: ev.Event, changed: set[str]) -> None:
        v = self.view
        if isinstance(e, ev.BatchEnded):
            v.epoch, v.batch, v.step = e.epoch, e.batch, e.step
            if v.state != "running":
                v.state = "running"
        elif isinstance(e, ev.Paused):
            if e.step >= v.step:  # not an old pause the latest batch has overtaken
                v.state, v.step = "paused", e.step
        elif isinstance(e, ev.EpochEnded):
            v.history.append(e)
            v.epoch, v.step, v.lr = max(v.epoch, e.epoch), max(v.step, e.step), e.lr
            changed.add(LOSS)
            if self._epoch_in_flight:
                self._epoch_in_flight = False
                if self._epochs_queued:
                    self._epochs_queued -= 1
                    self.step_epoch()
        elif isinstance(e, ev.LayerStatsReady):
            v.stats, v.stats_step = e.layers, e.step
            self._stats_pending = False
            changed.add(STATS)
        elif isinstance(e, ev.RunStarted):
            v.layer_sizes, v.activations = e.layer_sizes, e.activations
            v.backend, v.device = e.backend, e.device
            v.state = "running" if self.trainer.running else "paused"
        elif isinstance(e, ev.EarlyStopped):
            v.message, v.message_kind = (f"early stop at epoch {e.epoch}: no better validation loss for "
                                         f"{e.patience} epochs; best {e.best_val_loss:.4g} at epoch "
                                         f"{e.best_epoch}, whose weights are kept"), "info"
            changed.add(MESSAGE)
        elif isinstance(e, ev.Diverged):
            v.state = "diverged"
            v.message, v.message_kind = e.message, "error"
            changed.update((MESSAGE, RUN))
        elif isinstance(e, ev.Failed):
            v.state, v.end_reason = "failed", "failed"
            v.message = f"the run failed: {e.message}. The last good weights are kept."
            v.message_kind = "error"
            self._stats_pending = False
            changed.update((MESSAGE, RUN))
        elif isinstance(e, ev.Finished):
            if v.state not in ("failed", "diverged"):
                v.state = "finished"
            v.end_reason, v.step = e.reason, e.steps
            if e.reason in ("completed", "stopped") and v.message_kind != "error":
                best = ("" if e.best_val_loss is None else
                        f"; best {e.best_val_loss:.4g} at epoch {e.best_epoch}")
                v.message, v.message_kind = f"{END_WORDS[e.reason]} after {e.epochs_run} epochs{best}", "info"
            v.test_loss = getattr(e, "test_loss", None)
            if v.test_loss is not None and v.message_kind != "error":
                v.message += f"; test loss of those weights {v.test_loss:.4g}"
            changed.add(LOSS)
            self._stats_pending = False
            v.params_step = v.stats_step = -1  # the trainer put the best weights back: show those
            changed.update((MESSAGE, RUN))


class WatchRun:
    """A run folder that `dltui train --out` is writing: metrics.jsonl, status.json, best checkpoint."""

    read_only = True
    CHECKPOINT_EVERY = 3.0
    STATUS_EVERY = 1.0

    def __init__(self, run_dir: str | Path, clock=time.monotonic):
        from dltui.core.rundir import RunDir

        self.run = RunDir(run_dir)
        self.clock = clock
        self.offset = 0
        self.spec = None
        self.data = None
        self.view = RunView(preset=self.run.path.name, state="running")
        self._status_at = -1e9
        self._ckpt_at = -1e9
        self._ckpt_mtime = None
        self._load_preset()

    def _load_preset(self) -> None:
        from dltui.core.spec import SpecError, spec_from_dict

        try:
            import tomllib
        except ModuleNotFoundError:  # Python 3.10
            import tomli as tomllib
        try:
            values = tomllib.loads(self.run.preset.read_text(encoding="utf-8"))
            self.spec = spec_from_dict(values, self.run.path.name, str(self.run.preset))
        except (OSError, ValueError, SpecError):
            return
        v, s = self.view, self.spec
        v.title, v.task = s.values["about"]["title"], s.task
        v.epochs_total, v.patience = s.values["training"]["epochs"], s.values["training"]["patience"]
        v.lr, v.seed = s.values["optimizer"]["lr"], s.values["training"]["seed"]
        v.activations = tuple(s.activations)
        try:
            from dltui.core.data import load_dataset

            self.data = load_dataset(s)
        except Exception:  # noqa: BLE001 - e.g. a CSV path relative to another folder: no learned plot
            self.data = None

    # controls do nothing: the run belongs to another process
    def toggle(self) -> bool:
        return False

    step_batch = step_epoch = stop = want_stats = want_params = lambda self, *a: None  # noqa: E731

    def set_lr(self, lr: float) -> None:
        pass

    active = property(lambda self: not self.view.ended)
    started_training = True

    def poll(self) -> set[str]:
        v, changed = self.view, set()
        rows, self.offset = read_rows(self.run.metrics, self.offset)
        for r in rows:
            e = ev.EpochEnded(**{k: r.get(k) for k in ev.EpochEnded.__dataclass_fields__})
            v.history.append(e)
            v.epoch, v.step, v.lr, v.elapsed = e.epoch, e.step, e.lr, e.elapsed
            v.steps_per_s = e.steps_per_second
            v.batch = v.batches_per_epoch
        if rows:
            changed.update((LOSS, HEADER))
        now = self.clock()
        if now - self._status_at >= self.STATUS_EVERY:
            self._status_at = now
            changed |= self._read_status()
        if now - self._ckpt_at >= self.CHECKPOINT_EVERY:
            self._ckpt_at = now
            changed |= self._read_checkpoint()
        return changed

    def _read_status(self) -> set[str]:
        v, st = self.view, self.run.read_status()
        if not st:
            if not self.run.path.exists():
                return self._say(f"{self.run.path}: no such run folder.", "error")
            return set()
        changed = set()
        s = st.get("started") or {}
        if s and not v.batches_per_epoch:
            v.preset, v.backend = s.get("preset", v.preset), s.get("backend", "")
            v.device, v.epochs_total = s.get("device", ""), s.get("epochs", v.epochs_total)
            v.batches_per_epoch = s.get("batches_per_epoch", 0)
            v.layer_sizes, v.task = tuple(s.get("layer_sizes", ())), s.get("task", v.task)
            changed.add(HEADER)
        state = st.get("state")
        if state in ("finished", "failed") and not v.ended:
            end = st.get("end") or {}
            v.state = state
            v.end_reason = end.get("reason", state)
            if state == "failed":
                why = end.get("message", "no message")
                changed |= self._say(f"the run has ended: it failed ({why}).", "error")
            else:
                words = END_WORDS.get(v.end_reason, v.end_reason)
                n = end.get("epochs_run", v.epoch)
                changed |= self._say(f"the run has ended: {words} after {n} epochs "
                                     f"(best at epoch {end.get('best_epoch', '?')}).", "info")
            self._ckpt_at = -1e9
            changed.add(HEADER)
        elif state == "running" and not v.ended:
            pid = st.get("pid")
            if isinstance(pid, int) and not _alive(pid) and time.time() - st.get("updated", 0) > 5:
                v.state = "failed"
                changed |= self._say(f"the run has ended: its process ({pid}) is gone without a final "
                                     "status.",
                                     "error")
        return changed

    def _read_checkpoint(self) -> set[str]:
        from dltui.core.backends.base import make_layer_stats
        from dltui.core.checkpoint import CheckpointError, load_checkpoint

        ck = self.run.checkpoint()
        try:
            mtime = ck.stat().st_mtime_ns
        except OSError:
            return set()
        if mtime == self._ckpt_mtime:
            return set()
        try:
            params, meta = load_checkpoint(ck)
        except (CheckpointError, OSError, ValueError):
            return set()  # being replaced right now: try again later
        self._ckpt_mtime = mtime
        v = self.view
        acts = list(v.activations) + ["identity"]
        v.params, v.grads, v.params_step = params, None, int(meta.get("epoch", 0))
        v.stats = tuple(make_layer_stats(i + 1, acts[i] if i < len(acts) else "identity", W, b,
                                         None, None, None) for i, (W, b) in enumerate(params))
        v.stats_step = v.params_step
        return {PARAMS, STATS}

    def _say(self, text: str, kind: str) -> set[str]:
        self.view.message, self.view.message_kind = text, kind
        return {MESSAGE}


def read_rows(path: Path, offset: int) -> tuple[list[dict], int]:
    from dltui.core.rundir import read_metrics

    try:
        if offset and path.stat().st_size < offset:  # the file was started again
            offset = 0
    except OSError:
        return [], offset
    rows, offset = read_metrics(path, offset)
    return [r for r in rows if isinstance(r, dict) and "epoch" in r], offset


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


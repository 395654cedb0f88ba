"""Runs read from a run folder (``dltui train --out``): metrics.jsonl, status.json, preset.toml and the
best checkpoint. ``WatchedRun`` follows a folder another process is writing (incrementally, on each
poll); ``FinishedRun`` reads a folder once. Neither has training controls."""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from ..events import RunState
from .base import END_WORDS, HEADER, LOSS, MESSAGE, PARAMS, STATS, Control, RunView, failed
from .store.scan import pid_alive


class WatchedRun:
    """A run folder that `dltui train --out` is writing (``Run`` protocol, read-only)."""

    controls = Control.NONE
    control = None  # another process's run (or a past one): nothing to control
    CHECKPOINT_EVERY = 3.0
    STATUS_EVERY = 1.0

    def __init__(self, run_dir: str | Path, clock=time.monotonic):
        from .store.folder import RunFolder

        self.run = RunFolder(run_dir)
        self.clock = clock
        self.offset = 0
        self.spec = None
        self.data = None
        self.view = RunView(preset=self.run.path.name, state=RunState.RUNNING, read_dir=str(self.run.path))
        self._status_at = self._ckpt_at = -1e9
        self._ckpt_mtime = None
        self._tracer: ThreadPoolExecutor | None = None
        from .store.layerlog import LayerLogReader

        self._layers = LayerLogReader(run_dir)  # per-layer stats the run logs every few seconds
        self._logged_stats = False
        self._load_preset()

    def _load_preset(self) -> None:
        from ..config.limits import read_preset_toml
        from ..config.spec import spec_from_dict
        from ..errors import SpecError

        try:
            values = read_preset_toml(self.run.preset)  # a bounded read
            self.spec = spec_from_dict(values, self.run.path.name, str(self.run.preset))
        except (OSError, ValueError, SpecError, RecursionError):
            return
        v, s = self.view, self.spec
        v.title, v.task = s.values["about"]["title"], s.task
        v.epochs_total, v.patience = s.values["training"]["epochs"], s.values["training"]["patience"]
        v.lr, v.seed = s.values["optimizer"]["lr"], s.values["training"]["seed"]
        v.batch_size = s.values["training"]["batch_size"]
        v.activations = tuple(s.activations)
        try:
            from ..data.dataset import load_dataset

            self.data = load_dataset(s)
        except Exception:  # noqa: BLE001 - e.g. a CSV path relative to another folder: no learned plot
            self.data = None
        if s.values["loss"]["name"] == "mse":  # the saved linear baseline, else computed (nothing written)
            from ..experiments.baseline import run_baseline

            v.baseline = run_baseline(self.data, "", str(self.run.path))

    # ------------------------------------------------------------ the protocol: no controls
    state = property(lambda self: self.view.state)
    read_only = True  # no controls: the run belongs to another process
    active = property(lambda self: not self.view.ended)
    started_training = True

    def open(self, spawn=None) -> None:
        pass

    def close(self) -> None:
        if self._tracer is not None:
            self._tracer.shutdown(wait=False)

    def want_stats(self) -> None:
        pass  # the statistics come with each checkpoint read

    def want_params(self) -> None:
        pass

    def trace(self, rows=None) -> Future:
        """A trace at the best checkpoint's weights (NumPy), of these training rows or the first batch."""
        if self.spec is None or self.data is None or self.view.params is None:
            return failed(RuntimeError("this run folder has no preset, data or checkpoint to trace with"))
        if self._tracer is None:
            self._tracer = ThreadPoolExecutor(1, thread_name_prefix="dltui-trace")
        return self._tracer.submit(_trace_folder, self.spec, self.data, self.view.params, rows)

    # ------------------------------------------------------------ reading the folder
    def poll(self) -> set[str]:
        changed = self._read_metrics() | self._read_layer_log()
        now = self.clock()
        if now - self._status_at >= self.STATUS_EVERY:
            self._status_at = now
            changed |= self._read_status()
        if now - self._ckpt_at >= self.CHECKPOINT_EVERY:
            self._ckpt_at = now
            changed |= self._read_checkpoint()
        return changed

    def _read_metrics(self) -> set[str]:
        from .store.folder import epoch_row

        v = self.view
        rows, self.offset = read_rows(self.run.metrics, self.offset)
        for r in rows:
            e = epoch_row(r)
            v.history.append(e)
            v.epoch, v.step, v.lr, v.elapsed = e.epoch, e.step, e.lr, e.elapsed
            v.steps_per_s = e.steps_per_second
            v.batch = v.batches_per_epoch
        return {LOSS, HEADER} if rows else set()

    def _read_layer_log(self) -> set[str]:
        """The newest per-layer stats the run logged (layers.jsonl): gradients and update ratios too."""
        recs = self._layers.poll()
        if not recs:
            return set()
        self._logged_stats = True
        self.view.stats, self.view.stats_step = tuple(recs[-1].layers), recs[-1].step
        return {STATS}

    def _read_status(self) -> set[str]:
        v, st = self.view, self.run.read_status()
        if not st:
            if not self.run.path.exists():
                return self._say(f"{self.run.path}: no such run folder.", "error")
            return set()
        changed = self._read_started(st.get("started") or {})
        state = st.get("state")
        if state in ("finished", "failed") and not v.ended:
            changed |= self._ended(state, st.get("end") or {})
        elif state == "running" and not v.ended:
            pid = st.get("pid")
            if isinstance(pid, int) and not pid_alive(pid) and time.time() - st.get("updated", 0) > 5:
                v.state = RunState.FAILED
                changed |= self._say(f"the run has ended: its process ({pid}) is gone without a final "
                                     "status.", "error")
        return changed

    def _read_started(self, s: dict) -> set[str]:
        v = self.view
        if not s or v.batches_per_epoch:
            return set()
        v.preset, v.backend = s.get("preset", v.preset), s.get("backend", "")
        v.device, v.epochs_total = s.get("device", ""), s.get("epochs", v.epochs_total)
        v.batches_per_epoch = s.get("batches_per_epoch", 0)
        v.n_train = s.get("n_train", 0)
        v.layer_sizes, v.task = tuple(s.get("layer_sizes", ())), s.get("task", v.task)
        return {HEADER}

    def _ended(self, state: str, end: dict) -> set[str]:
        v = self.view
        v.state = RunState(state)
        v.end_reason = end.get("reason", state)
        if state == "failed":
            changed = self._say(f"the run has ended: it failed ({end.get('message', 'no message')}).", "error")
        else:
            words = END_WORDS.get(v.end_reason, v.end_reason)
            n = end.get("epochs_run", v.epoch)
            changed = self._say(f"the run has ended: {words} after {n} epochs "
                                f"(best at epoch {end.get('best_epoch', '?')}).", "info")
        self._ckpt_at = -1e9
        return changed | {HEADER}

    def _read_checkpoint(self) -> set[str]:
        from ..backends.base import make_layer_stats
        from ..errors import CheckpointError
        from .store.checkpoint import load_checkpoint

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
        v.params_label = f"best checkpoint, epoch {v.params_step}"
        if self._logged_stats:  # the run's own logged stats (with gradients) stay in the table
            return {PARAMS}
        v.stats = tuple(make_layer_stats(i + 1, acts[i] if i < len(acts) else "identity", W, b,
                                         None, None, None) for i, (W, b) in enumerate(params))
        v.stats_step = v.params_step
        return {PARAMS, STATS}

    def _say(self, text: str, kind: str) -> set[str]:
        self.view.message, self.view.message_kind = text, kind
        return {MESSAGE}


class FinishedRun(WatchedRun):
    """A run folder read once, all of it, on the first poll (for views that compare finished runs)."""

    def __init__(self, run_dir: str | Path):
        super().__init__(run_dir, clock=lambda: 0.0)
        self._read = False

    def poll(self) -> set[str]:
        if self._read:
            return set()
        self._read = True
        self._status_at = self._ckpt_at = -1e9
        return super().poll()


def _trace_folder(spec, data, params, rows):
    from ..backends import make_backend
    from ..engine.tracing import trace_batch

    be = make_backend("numpy", spec, data.n_features, data.n_outputs, params=params, device="cpu")
    if rows is not None:
        return be.trace(data.x_train[rows], data.y_train[rows])
    return trace_batch(be, data, batch=0, batch_size=spec.values["training"]["batch_size"])


def read_rows(path: Path, offset: int) -> tuple[list[dict], int]:
    from .store.folder import read_metrics, read_sampled

    try:
        if offset and path.stat().st_size < offset:  # the file was started again
            offset = 0
    except OSError:
        return [], offset
    if offset == 0:
        rows, offset = read_sampled(path)
    else:
        rows, offset = read_metrics(path, offset)
    return [r for r in rows if isinstance(r, dict) and "epoch" in r], offset

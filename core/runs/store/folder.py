"""The run folder's format and its one owner, ``RunFolder``: every file of a run folder is named, written,
locked and removed here - preset.toml, metrics.jsonl, status.json, best/last (and previous-*) checkpoints,
layers.jsonl (``layerlog.py``), baseline.json, tensorboard/ and .lock - and ``RunFolder.recorders`` is the
one factory that hands the writers (metrics log, layer log, TensorBoard) to every door: the trainer (the
CLI, the app's live run, a sweep's worker) and ``monitor()``.

``MetricsLog`` is a trainer callback that appends one JSON object per epoch to metrics.jsonl
(buffered: flushed at the first epoch or batch end ``FLUSH_EVERY`` seconds after the last flush, and
at once when the run pauses or ends, so ``dltui watch`` and ``tail -f`` follow a fraction of a second
behind) and keeps status.json current. ``read_metrics`` reads a log that may still be growing;
``read_sampled`` opens a long one in bounded memory.

One folder holds one run: ``RunFolder.lock`` takes an exclusive ``flock`` on ``.lock`` in the
folder, held for the process's life (the kernel drops it when the process dies, even by kill -9),
and ``create`` takes it before it touches anything. Default folder names carry the time and the
process id, so jobs started in the same second get different folders. Readers (``read_metrics``,
``read_status``) skip malformed rows and fields and say so in ``notes`` instead of failing.
"""

from __future__ import annotations

import errno
import json
import math
import os
import stat
import time
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

from ... import events as ev
from ...errors import RunBusy  # noqa: F401 - raised here, importable from here
from .checkpoint import atomic_write, save_checkpoint
from .layerlog import FILENAME as LAYERS_FILE  # per-layer statistics on a time schedule
from .layerlog import LayerLog

try:
    import fcntl
except ImportError:  # Windows: no flock; the exclusive create of the folder still separates runs
    fcntl = None


MAX_STATUS = 1024 * 1024  # bytes of status.json read; a bigger one is not a status
_HELD: dict[str, int] = {}  # real path of a locked folder -> the lock file's descriptor (-1: no locks there)
NO_LOCKS = tuple(getattr(errno, n) for n in ("ENOLCK", "EOPNOTSUPP", "ENOTSUP", "ENOSYS") if hasattr(errno, n))
RUN_FILES = ("preset.toml", "metrics.jsonl", "status.json", "best.safetensors", "last.safetensors")
BASELINE_FILE = "baseline.json"  # the linear baseline's figures (experiments/baseline.py computes them)
TENSORBOARD_DIR = "tensorboard"  # the app's T key writes TensorBoard files of the run here


class RunFolder:
    def __init__(self, path: str | Path):
        self.path = Path(path)

    preset = property(lambda self: self.path / "preset.toml")
    metrics = property(lambda self: self.path / "metrics.jsonl")
    status = property(lambda self: self.path / "status.json")
    best = property(lambda self: self.path / "best.safetensors")
    last = property(lambda self: self.path / "last.safetensors")
    layers = property(lambda self: self.path / LAYERS_FILE)
    baseline = property(lambda self: self.path / BASELINE_FILE)
    tensorboard = property(lambda self: self.path / TENSORBOARD_DIR)
    predictions = property(lambda self: self.path / "pred.csv")  # the app's predict key writes it

    def has_run(self) -> bool:
        return any(p.exists() for p in (self.metrics, self.best, self.last))

    def lock(self) -> None:
        """Make the folder if needed and hold it for this process; RunBusy if another process does.
        Taking it again in the same process is a no-op."""
        self.path.mkdir(parents=True, exist_ok=True)
        key = os.path.realpath(self.path)
        if key in _HELD or fcntl is None:
            return
        fd = os.open(self.path / ".lock", os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            os.close(fd)
            if e.errno in NO_LOCKS:  # a file system without locks (some NFS mounts): run unlocked, as before
                _HELD[key] = -1
                return
            if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
            raise RunBusy(f"{self.path}: another dltui process is writing a run in this folder right now "
                          f"(pid {self._lock_owner()}). Choose another --out folder, or wait for it to "
                          "end.") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        _HELD[key] = fd

    def unlock(self) -> None:
        fd = _HELD.pop(os.path.realpath(self.path), None)
        if fd is not None and fd >= 0:
            os.close(fd)

    def _lock_owner(self) -> str:
        try:
            return (self.path / ".lock").read_text()[:12].strip() or "unknown"
        except OSError:
            return "unknown"

    def create(self, preset_toml: str) -> None:
        """Start a fresh run here, holding the folder's lock. An earlier run's metrics and status are
        replaced; its checkpoints are kept as previous-*.safetensors until this run writes its own
        (``MetricsLog`` removes them then), so a run stopped early loses nothing. Orphan temp files
        of a killed run are removed."""
        self.lock()
        self.clean_temp_files()
        for old in (self.metrics, self.status):
            if old.exists():
                old.unlink()
        for old in (self.best, self.last):
            if old.exists():
                os.replace(old, self.path / f"previous-{old.name}")
        atomic_write(self.preset, preset_toml)

    def clean_temp_files(self) -> list[str]:
        """Remove the temp files an atomic write of a run file leaves when its process is killed."""
        gone = []
        for name in RUN_FILES:
            for tmp in self.path.glob(f".{name}.*.tmp"):
                try:
                    tmp.unlink()
                    gone.append(tmp.name)
                except OSError:
                    pass
        return gone

    def drop_previous(self) -> None:
        for name in ("previous-best.safetensors", "previous-last.safetensors"):
            try:
                (self.path / name).unlink()
            except FileNotFoundError:
                pass

    def write_status(self, **fields) -> None:
        doc = json.dumps({"updated": time.time(), "pid": os.getpid(), **fields}, indent=1)
        atomic_write(self.status, doc, fsync=False)  # a progress note: no need to wait for the disk

    def read_status(self, notes: list[str] | None = None) -> dict:
        """status.json with every field of the wrong type left out ({} if unreadable)."""
        try:
            with _open_regular(self.status) as fh:
                raw = fh.read(MAX_STATUS) if fh is not None else b""
            doc = json.loads(raw)
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, RecursionError):
            _note(notes, f"{self.status}: not readable as JSON; ignored")
            return {}
        return clean_status(doc, notes, str(self.status))

    def write_checkpoint(self, kind: str, params, meta: dict, extra: dict | None = None) -> Path:
        """best.safetensors or last.safetensors (``kind``), written atomically; its path."""
        path = self.best if kind == "best" else self.last
        save_checkpoint(path, params, meta, extra)
        return path

    def write_baseline(self, figures: dict) -> None:
        atomic_write(self.baseline, json.dumps(figures), fsync=False)

    def read_baseline(self) -> dict:
        """baseline.json's figures ({} when there is none, or it is not readable)."""
        try:
            with _open_regular(self.baseline) as fh:
                doc = json.loads(fh.read(MAX_STATUS) if fh is not None else b"")
        except (OSError, ValueError, RecursionError):
            return {}
        return doc if isinstance(doc, dict) else {}

    def remove_untrained(self) -> None:
        """The files a run that never took a step wrote (its preset, status, an empty log, the baseline), and
        the folder when nothing else is in it."""
        for name in (*RUN_FILES, LAYERS_FILE, BASELINE_FILE, ".lock"):
            try:
                (self.path / name).unlink()
            except OSError:
                pass
        self.unlock()
        try:
            self.path.rmdir()
        except OSError:
            pass

    def recorders(self, trainer=None, layers_every: float | None = None, tensorboard: str | None = None) -> list:
        """The writers of this folder as trainer callbacks, the one factory every door uses: the metrics
        log (metrics.jsonl, status.json), with ``layers_every`` > 0 the layer log (layers.jsonl; 0 removes
        an old one) and with ``tensorboard`` TensorBoard event files in that folder (TensorBoardMissing,
        OSError at once). ``trainer`` None: a loop of one's own (``monitor()``) feeds them itself."""
        out: list = []
        if layers_every:
            out.append(LayerLog(trainer, self.path, every=layers_every))
        elif layers_every == 0:
            self.layers.unlink(missing_ok=True)
        if tensorboard:
            from ...integrations.tensorboard_live import TensorBoardLog

            out.append(TensorBoardLog(trainer, tensorboard))
        return [*out, MetricsLog(self)]  # last: status.json says "finished" once the others are done

    def checkpoint(self) -> Path:
        """The best checkpoint if there is one, else the last."""
        return self.best if self.best.exists() else self.last



RunDir = RunFolder  # its name until this round (branches that still say RunDir)

def default_run_dir(preset_name: str, root: str | Path = "runs") -> Path:
    """runs/PRESET-YYYYmmdd-HHMMSS-PID: jobs started in the same second (a SLURM array, a sweep) get
    different folders; a name already taken gets a suffix."""
    base = Path(root) / f"{preset_name}-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
    path, n = base, 1
    while path.exists():
        n += 1
        path = base.with_name(f"{base.name}-{n}")
    return path


@contextmanager
def _open_regular(path: Path):
    """The file opened for reading, or None if it is not a regular file. Opened without blocking, so a
    named pipe put in a run folder cannot hang a reader (``watch``)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            yield None
            return
        with os.fdopen(fd, "rb", closefd=False) as fh:
            yield fh
    finally:
        os.close(fd)


def _note(notes: list[str] | None, text: str) -> None:
    if notes is not None:
        notes.append(text)


def _num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


STATUS_TYPES = {"updated": _num, "pid": lambda v: isinstance(v, int) and not isinstance(v, bool) and v > 0,
                "state": lambda v: isinstance(v, str), "epoch": lambda v: isinstance(v, int),
                "started": lambda v: isinstance(v, dict), "end": lambda v: isinstance(v, dict),
                "signal": lambda v: isinstance(v, str)}
STARTED_TYPES = {"preset": str, "backend": str, "device": str, "epochs": int, "batches_per_epoch": int,
                 "task": str, "layer_sizes": list}
END_TYPES = {"reason": str, "message": str, "epochs_run": int, "best_epoch": int}


def _typed(d: dict, types: dict, notes, where: str) -> dict:
    out = {}
    for k, v in d.items():
        t = types.get(k)
        ok = t is None or (isinstance(v, t) and not isinstance(v, bool) if isinstance(t, type) else t(v))
        if k == "layer_sizes" and ok:
            ok = all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in v)
        if ok:
            out[k] = v
        else:
            _note(notes, f"{where}: field '{k}' has the wrong type; ignored")
    return out


def clean_status(doc, notes: list[str] | None = None, where: str = "status.json") -> dict:
    """A status document with malformed fields left out, so a reader can use what is there."""
    if not isinstance(doc, dict):
        _note(notes, f"{where}: not a JSON object; ignored")
        return {}
    out = _typed(doc, STATUS_TYPES, notes, where)
    if "started" in out:
        out["started"] = _typed(out["started"], STARTED_TYPES, notes, where)
    if "end" in out:
        out["end"] = _typed(out["end"], END_TYPES, notes, where)
    return out


STATUS_INTERVAL = 1.0  # seconds between status.json updates while running
FLUSH_EVERY = 0.2  # seconds a row may wait in metrics.jsonl's buffer (a flush and dataclasses.asdict each epoch
# were ~10% of a small preset's headless run); a slow epoch's row is flushed at once
EPOCH_FIELDS = tuple(ev.EpochEnded.__dataclass_fields__)


class MetricsLog:
    """Trainer callback writing metrics.jsonl and status.json."""

    def __init__(self, run: RunFolder):
        self.run = run
        self.fh = None
        self.started: dict = {}
        self.last_status = self.last_flush = 0.0
        self.pending = False  # rows written since the last flush

    def flush_due(self) -> None:
        """Flush rows left in the buffer once FLUSH_EVERY has passed (each batch, and the monitor's steps,
        call it: a row waits at most that long even when the next epoch is slow)."""
        if self.pending and time.monotonic() - self.last_flush >= FLUSH_EVERY:
            self._flush()

    def _flush(self) -> None:
        self.last_flush, self.pending = time.monotonic(), False
        self.fh.flush()

    def __call__(self, event: ev.Event) -> None:
        kind = type(event)
        if kind is ev.BatchEnded:  # the most frequent event: nothing to write
            if self.pending:
                self.flush_due()
            return
        if kind is ev.EpochEnded:
            self.fh.write(json.dumps({k: getattr(event, k) for k in EPOCH_FIELDS}) + "\n")
            self.pending = True
            self.flush_due()
            now = time.monotonic()
            if event.epoch == 1 or now - self.last_status >= STATUS_INTERVAL:
                self.last_status = now
                self.run.write_status(state="running", started=self.started, epoch=event.epoch)
        elif isinstance(event, ev.RunStarted):
            self.fh = self.run.metrics.open("a", encoding="utf-8")
            self.started = asdict(event)
            self.run.write_status(state="running", started=self.started, epoch=0)
        elif kind is ev.Paused and self.fh:  # what a reader sees of a paused run is complete
            self._flush()
        elif isinstance(event, ev.CheckpointSaved):
            self.run.drop_previous()  # this run has a checkpoint now: an overwritten run's can go
        elif isinstance(event, (ev.Finished, ev.Failed)):
            if self.fh:
                self.fh.close()
                self.fh, self.pending = None, False
            self.run.write_status(state="finished" if isinstance(event, ev.Finished) else "failed",
                                  started=self.started, end=asdict(event))
            self.run.unlock()


ROW_INT = ("epoch", "step", "best_epoch")
ROW_NEEDED = ("train_loss", "lr", "elapsed", "steps_per_second")
ROW_NUM = ("train_loss", "val_loss", "train_metric", "val_metric", "best_val_loss", "patience_left", "lr",
           "elapsed", "steps_per_second")


def clean_row(row) -> dict | None:
    """A metrics row if every field an epoch row has is of the right type, else None."""
    if not isinstance(row, dict):
        return None
    for k in ROW_INT:
        v = row.get(k)
        if not (isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2**53):
            return None
    for k in ROW_NUM:
        v = row.get(k)
        if (v is not None or k in ROW_NEEDED) and not _num(v):
            return None
        if _num(v) and k in ("elapsed", "steps_per_second", "lr") and not math.isfinite(v):
            return None
    return row


def epoch_row(r: dict) -> ev.EpochEnded:
    """A metrics.jsonl row as the trainer's EpochEnded (a field the row lacks is None)."""
    return ev.EpochEnded(**{k: r.get(k) for k in ev.EpochEnded.__dataclass_fields__})


def read_metrics(path: str | Path, offset: int = 0, notes: list[str] | None = None) -> tuple[list[dict], int]:
    """Complete lines of metrics.jsonl from byte ``offset``; returns (rows, new offset).
    A half-written last line is left for the next call; a malformed row is skipped with a note."""
    p = Path(path)
    try:
        with _open_regular(p) as fh:
            if fh is None:
                _note(notes, f"{p}: not a regular file; not read")
                return [], offset
            fh.seek(offset)
            chunk = fh.read(MAX_METRICS_READ)
    except OSError:  # gone, a folder, unreadable: nothing to read now
        return [], offset
    end = chunk.rfind(b"\n") + 1
    if end == 0 and len(chunk) == MAX_METRICS_READ:  # one absurdly long line: skip past it
        _note(notes, f"{p}: a line longer than {MAX_METRICS_READ} bytes; skipped")
        return [], offset + len(chunk)
    rows = []
    for n, line in enumerate(chunk[:end].splitlines()):
        if not line.strip():
            continue
        try:
            row = clean_row(json.loads(line))
        except (ValueError, RecursionError):  # not JSON, or not UTF-8
            row = None
        if row is None:
            _note(notes, f"{p}: a malformed row (the {n + 1}. line read) was skipped")
            continue
        rows.append(row)
    return rows, offset + end


MAX_METRICS_READ = 64 * 1024 * 1024


TAIL_BYTES = 1 << 20  # a long log is opened by reading this much of its end in full ...
SAMPLES = 2048  # ... and this many lines spread over the rest


def read_sampled(path: str | Path, tail: int = TAIL_BYTES, samples: int = SAMPLES) -> tuple[list[dict], int]:
    """The rows of a metrics log to open it with: all of it when small; when long, ``samples`` lines spread
    evenly over it and every line of its last ``tail`` bytes - so a 200k-epoch log opens in a fraction of
    a second, in bounded memory. Returns (rows in order, the offset after the last complete line)."""
    try:
        size = Path(path).stat().st_size
    except OSError:
        return [], 0
    if size <= 2 * tail:
        return read_metrics(path, 0)
    rows: list[dict] = []
    cut = size - tail
    with Path(path).open("rb") as fh:
        for k in range(samples):
            fh.seek(cut * k // samples)
            if k:
                fh.readline()  # the rest of a line cut by the seek
            line = fh.readline()
            if fh.tell() > cut:
                break
            try:
                row = clean_row(json.loads(line))
            except (ValueError, RecursionError):  # not JSON, or not UTF-8
                continue
            if row is not None:
                rows.append(row)
        fh.seek(cut)
        fh.readline()
        start = fh.tell()
    tail_rows, offset = read_metrics(path, start)
    by_epoch = {r["epoch"]: r for r in rows + tail_rows}  # an epoch written twice (a run resumed past a kill):
    return [by_epoch[e] for e in sorted(by_epoch)], offset  # its last row, as the run went on from it

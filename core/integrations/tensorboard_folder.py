"""TensorBoard files from a run folder (the app's ``T`` key): a run's ``metrics.jsonl`` rows become
scalars, its ``layers.jsonl`` records per-layer weight and gradient histograms, written with
tensorboardX into ``RUN/tensorboard/`` (or a folder given), so ``tensorboard --logdir`` shows a run
trained in the app, watched, or long finished - not only one started with ``--tensorboard``.

``TensorBoardExport(run_dir).poll()`` writes what is new since the last call (incremental: the
files' offsets are kept), so calling it every couple of seconds follows a run that is still going;
``TensorBoardFollow`` does exactly that on a thread of its own (never the UI's).

Tags are the ones ``--tensorboard`` writes (``core.tboard``): ``Loss/train``, ``Loss/valid``,
``Accuracy/train``, ``Accuracy/valid``, ``lr`` at each epoch's global step; ``weights/layerN`` and
``grads/layerN`` at each layer record's step. A layer record keeps a small histogram of each
layer (8 buckets between its min and max, with mean and std), not the weights themselves; the
TensorBoard histogram is built from exactly that (same buckets, exact count, sum and sum of squares).
A new export replaces the event files an earlier export wrote there (``*.dltui``), nothing else.
"""

from __future__ import annotations

import math
import threading
from pathlib import Path

import numpy as np

from ..backends.base import hist_range
from ..runs.store.folder import TENSORBOARD_DIR, RunFolder, read_metrics
from ..runs.store.layerlog import LayerLogReader
from .tensorboard_live import _tensorboardx

SUBDIR = TENSORBOARD_DIR
SUFFIX = ".dltui"  # marks the event files this module writes (a new export replaces only those)
SCALARS = (("Loss/train", "train_loss"), ("Loss/valid", "val_loss"), ("Accuracy/train", "train_metric"),
           ("Accuracy/valid", "val_metric"), ("lr", "lr"))


def check_available(what: str = "T (TensorBoard files)") -> None:
    """Raise ``TensorBoardMissing`` (with how to install it) when tensorboardX is not installed."""
    _tensorboardx(what)


def default_logdir(run_dir: str | Path) -> Path:
    return RunFolder(run_dir).tensorboard


def hist_parts(n: int, mean: float, std: float, lo: float, hi: float, counts) -> dict | None:
    """HistogramProto fields of a layer record's summary histogram (None: nothing finite to show).
    The buckets are ``core.backends.base.histogram``'s: ``len(counts)`` equal ones over [lo, hi]."""
    vals = (mean, std, lo, hi)
    if not counts or not sum(counts) or not all(isinstance(v, float) and math.isfinite(v) for v in vals):
        return None
    a, b = hist_range(lo, hi)
    limits = np.linspace(a, b, len(counts) + 1)[1:].tolist()
    return {"min": lo, "max": hi, "num": n, "sum": mean * n, "sum_squares": n * (std * std + mean * mean),
            "bucket_limits": limits, "bucket_counts": [int(c) for c in counts]}


class TensorBoardExport:
    """Writes one run folder's history as TensorBoard events (see the module doc).
    Raises ``core.tboard.TensorBoardMissing`` when tensorboardX is not installed."""

    def __init__(self, run_dir: str | Path, logdir: str | Path | None = None):
        self.run_dir = Path(run_dir)
        self.logdir = Path(logdir) if logdir is not None else default_logdir(run_dir)
        file_writer, self._summary, self._Summary = _tensorboardx()
        self.logdir.mkdir(parents=True, exist_ok=True)
        for old in self.logdir.glob(f"events.out.tfevents.*{SUFFIX}"):
            old.unlink(missing_ok=True)
        self.writer = file_writer(str(self.logdir), max_queue=1000, flush_secs=2, filename_suffix=SUFFIX)
        self._offset = 0
        self._layers = LayerLogReader(self.run_dir)
        self._hist_step = -1  # the last layer record written (the log may be rewritten when it is thinned)
        self.rows = self.records = 0
        self.notes: list[str] = []

    def poll(self) -> int:
        """Write the rows and layer records that arrived since the last call; how many."""
        rows, self._offset = read_metrics(RunFolder(self.run_dir).metrics, self._offset, self.notes)
        S = self._Summary
        for r in rows:
            vals = [S.Value(tag=tag, simple_value=float(r[k])) for tag, k in SCALARS if r.get(k) is not None]
            self.writer.add_summary(S(value=vals), r["step"])
        new = [e for e in self._layers.poll() if e.step > self._hist_step]
        for e in new:
            self._histograms(e)
            self._hist_step = e.step
        self.rows += len(rows)
        self.records += len(new)
        if rows or new:
            self.writer.flush()
        return len(rows) + len(new)

    def _histograms(self, e) -> None:
        for s in e.layers:
            n = s.n_in * s.n_out
            for tag, parts in ((f"weights/layer{s.index}", hist_parts(n, s.w_mean, s.w_std, s.w_min, s.w_max,
                                                                        s.w_hist)),
                               (f"grads/layer{s.index}", hist_parts(n, s.g_mean, s.g_std, s.g_min, s.g_max,
                                                                      s.g_hist))):
                if parts is not None:
                    self.writer.add_summary(self._summary.histogram_raw(tag, **parts), e.step)

    def close(self) -> None:
        self.writer.close()


class TensorBoardFollow:
    """A ``TensorBoardExport`` polled every ``every`` seconds on a daemon thread until ``stop()``
    (or until ``done()`` has said twice that the run is over).
    ``rows``/``records``/``error`` are plain attributes a UI thread reads."""

    def __init__(self, export: TensorBoardExport, every: float = 2.0, done=lambda: False):
        self.export, self.every, self.done = export, every, done
        self.error: str | None = None
        self.finished = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="dltui-tensorboard", daemon=True)

    @property
    def rows(self) -> int:
        return self.export.rows

    @property
    def records(self) -> int:
        return self.export.records

    def start(self) -> TensorBoardFollow:
        self._thread.start()
        return self

    def _loop(self) -> None:
        try:
            was_over = False
            while True:
                over = self.done()  # read before the poll; one more poll after the run is seen over, for
                self.export.poll()  # the files its last events write (the final layer record)
                if (over and was_over) or self._stop.wait(self.every):
                    break
                was_over = over
        except Exception as e:  # noqa: BLE001 - a full disk, a folder gone: said on screen, not raised
            self.error = f"{type(e).__name__}: {e}"
        finally:
            try:
                self.export.close()
            except Exception as e:  # noqa: BLE001
                self.error = self.error or f"{type(e).__name__}: {e}"
            self.finished = True

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def stop(self, wait: float = 5.0) -> None:
        self._stop.set()
        if wait and self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(wait)

"""Per-layer statistics on a time schedule, written to a run folder's ``layers.jsonl`` so that
`dltui watch` shows the same layer table as a live run (gradients included), with history.

``LayerLog(trainer, run_dir)`` is a trainer callback: at the first batch and then every ``every``
seconds it asks the trainer for statistics (``Trainer.request_stats()``; the trainer measures them
after the next step, update ratio included) and appends the ``LayerStatsReady`` it gets as one JSON
line. The file stays under ``max_bytes``: when it grows past it, the older half of the history is
thinned (every second record kept) and the file is rewritten atomically, so a long run keeps its
whole span at a coarser grain. ``LayerLogReader`` follows the file (restarting when it was
rewritten); ``read_layer_stats(run_dir)`` returns the whole history at once.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict
from pathlib import Path

from ... import events as ev
from .checkpoint import atomic_write

FILENAME = "layers.jsonl"
EVERY = 2.0  # seconds between records
MAX_BYTES = 1 << 20  # the file's ceiling (about 2,000 records of a 3-layer net)


def _clean(x):
    """JSON has no NaN/inf: write them as strings Python's float() reads back."""
    if isinstance(x, float) and not math.isfinite(x):
        return repr(x)
    return x


def encode(e: ev.LayerStatsReady, when: float | None = None) -> str:
    layers = [{k: _clean(v) for k, v in asdict(s).items()} for s in e.layers]
    return json.dumps({"epoch": e.epoch, "step": e.step, "time": when or time.time(), "layers": layers})


def _layer(d: dict) -> ev.LayerStats:
    fields = ev.LayerStats.__dataclass_fields__
    vals = {k: d.get(k) for k in fields}
    for k, v in vals.items():
        if isinstance(v, str) and k not in ("activation", "inactive_kind"):
            vals[k] = float(v)
    vals["w_hist"], vals["g_hist"] = tuple(d.get("w_hist") or ()), tuple(d.get("g_hist") or ())
    return ev.LayerStats(**vals)


def decode(line: str | bytes) -> ev.LayerStatsReady | None:
    try:
        d = json.loads(line)
        return ev.LayerStatsReady(int(d["epoch"]), int(d["step"]), tuple(_layer(x) for x in d["layers"]))
    except (ValueError, KeyError, TypeError):
        return None


class LayerLog:
    """Trainer callback writing layers.jsonl (see the module doc). ``clock`` is for tests."""

    def __init__(self, trainer, run_dir: str | Path, every: float = EVERY, max_bytes: int = MAX_BYTES,
                 clock=time.monotonic):
        self.trainer = trainer
        self.path = Path(run_dir) / FILENAME
        self.every, self.max_bytes, self.clock = every, max_bytes, clock
        self._asked_at: float | None = None
        self._lines: list[str] = []
        self._size = 0
        self.records = 0

    def __call__(self, event: ev.Event) -> None:
        if isinstance(event, ev.RunStarted):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.trainer is not None and self.trainer.resumed and self.path.exists():  # a resumed run: go on with it
                self._lines = self.path.read_text(encoding="utf-8").splitlines(keepends=True)
            else:
                atomic_write(self.path, "", fsync=False)
                self._lines = []
            self._size, self._asked_at = sum(len(x.encode()) for x in self._lines), None
        elif isinstance(event, ev.BatchEnded):
            now = self.clock()
            if self._asked_at is None or now - self._asked_at >= self.every:
                self._asked_at = now
                self.trainer.request_stats()
        elif isinstance(event, ev.LayerStatsReady):
            self.write(event)
        elif isinstance(event, ev.Finished) and event.reason != "diverged" and self.trainer is not None:
            # one last record, of the weights the run ends with (the best ones, put back, gradients
            # recomputed): what `watch` shows once the run is over. Emitted to every callback alike.
            self.trainer.emit_stats()

    def write(self, event: ev.LayerStatsReady) -> None:
        line = encode(event) + "\n"
        self._lines.append(line)
        self._size += len(line.encode())
        self.records += 1
        if self._size > self.max_bytes:
            self._compact()
        else:
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(line)

    def _compact(self) -> None:
        half = len(self._lines) // 2
        self._lines = self._lines[:half][::2] + self._lines[half:]
        self._size = sum(len(x.encode()) for x in self._lines)
        atomic_write(self.path, "".join(self._lines), fsync=False)


class LayerLogReader:
    """Follows layers.jsonl from another process: ``poll()`` returns the new records (all of them
    again, after ``reset`` is set, when the writer rewrote the file)."""

    def __init__(self, run_dir: str | Path):
        self.path = Path(run_dir) / FILENAME
        self.offset = 0
        self._ino: int | None = None
        self.reset = False

    def poll(self) -> list[ev.LayerStatsReady]:
        try:
            st = self.path.stat()
        except OSError:
            return []
        self.reset = st.st_ino != self._ino or st.st_size < self.offset
        if self.reset:
            self.offset, self._ino = 0, st.st_ino
        with self.path.open("rb") as fh:
            fh.seek(self.offset)
            chunk = fh.read()
        end = chunk.rfind(b"\n") + 1
        self.offset += end
        return [e for e in map(decode, chunk[:end].splitlines()) if e is not None]


def read_layer_stats(run_dir: str | Path) -> list[ev.LayerStatsReady]:
    """Every record in the run's layers.jsonl, oldest first ([] when there is none). The last one is
    what the layer table shows; ``[e.layers[i].g_norm for e in ...]`` is layer i+1's gradient history."""
    return LayerLogReader(run_dir).poll()

"""A run directory: preset.toml, metrics.jsonl, status.json, best/last checkpoints.

``MetricsLog`` is a trainer callback that appends one JSON object per epoch to
metrics.jsonl (flushed each time, so ``dltui watch`` and ``tail -f`` can follow it) and
keeps status.json current. ``read_metrics`` reads a log that may still be growing.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict
from pathlib import Path

from . import events as ev
from .checkpoint import atomic_write


class RunDir:
    def __init__(self, path: str | Path):
        self.path = Path(path)

    preset = property(lambda self: self.path / "preset.toml")
    metrics = property(lambda self: self.path / "metrics.jsonl")
    status = property(lambda self: self.path / "status.json")
    best = property(lambda self: self.path / "best.safetensors")
    last = property(lambda self: self.path / "last.safetensors")

    def has_run(self) -> bool:
        return any(p.exists() for p in (self.metrics, self.best, self.last))

    def create(self, preset_toml: str) -> None:
        """Start a fresh run here: the files of an earlier run in this folder are removed."""
        self.path.mkdir(parents=True, exist_ok=True)
        for old in (self.metrics, self.best, self.last, self.status):
            if old.exists():
                old.unlink()
        atomic_write(self.preset, preset_toml)

    def write_status(self, **fields) -> None:
        doc = json.dumps({"updated": time.time(), "pid": os.getpid(), **fields}, indent=1)
        atomic_write(self.status, doc, fsync=False)  # a progress note: no need to wait for the disk

    def read_status(self) -> dict:
        try:
            return json.loads(self.status.read_text())
        except (OSError, json.JSONDecodeError):
            return {}

    def checkpoint(self) -> Path:
        """The best checkpoint if there is one, else the last."""
        return self.best if self.best.exists() else self.last


def default_run_dir(preset_name: str, root: str | Path = "runs") -> Path:
    return Path(root) / f"{preset_name}-{time.strftime('%Y%m%d-%H%M%S')}"


STATUS_INTERVAL = 1.0  # seconds between status.json updates while running


class MetricsLog:
    """Trainer callback writing metrics.jsonl and status.json."""

    def __init__(self, run: RunDir):
        self.run = run
        self.fh = None
        self.started: dict = {}
        self.last_status = 0.0

    def __call__(self, event: ev.Event) -> None:
        if isinstance(event, ev.RunStarted):
            self.fh = self.run.metrics.open("a", encoding="utf-8")
            self.started = asdict(event)
            self.run.write_status(state="running", started=self.started, epoch=0)
        elif isinstance(event, ev.EpochEnded):
            self.fh.write(json.dumps(asdict(event)) + "\n")
            self.fh.flush()
            now = time.monotonic()
            if event.epoch == 1 or now - self.last_status >= STATUS_INTERVAL:
                self.last_status = now
                self.run.write_status(state="running", started=self.started, epoch=event.epoch)
        elif isinstance(event, (ev.Finished, ev.Failed)):
            if self.fh:
                self.fh.close()
                self.fh = None
            self.run.write_status(state="finished" if isinstance(event, ev.Finished) else "failed",
                                  started=self.started, end=asdict(event))


def read_metrics(path: str | Path, offset: int = 0) -> tuple[list[dict], int]:
    """Complete lines of metrics.jsonl from byte ``offset``; returns (rows, new offset).
    A half-written last line is left for the next call."""
    p = Path(path)
    if not p.exists():
        return [], offset
    with p.open("rb") as fh:
        fh.seek(offset)
        chunk = fh.read()
    end = chunk.rfind(b"\n") + 1
    rows = []
    for line in chunk[:end].splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows, offset + end

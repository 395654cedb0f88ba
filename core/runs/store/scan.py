"""A folder of runs (or of sweeps of runs) at a glance: state, preset, device, epoch, best loss, age.

``scan_runs(root)`` finds run folders (holding status.json, metrics.jsonl or preset.toml) at most
``depth`` levels down and summarises each from its status.json and the last line of its
metrics.jsonl, without reading whole files. A run whose status says "running" but whose process
is gone is "killed"; one that has not written for ``STALE`` seconds is "stale" (its process may be
on another machine, or stuck).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

RUN_FILES = ("status.json", "metrics.jsonl", "preset.toml")
STALE = 300.0  # seconds without a write before a "running" run is called stale


@dataclass
class RunRow:
    path: Path
    name: str  # relative to the scanned root
    state: str  # running | completed | early_stop | stopped | diverged | failed | killed | stale | unknown
    preset: str = ""
    device: str = ""
    epoch: int = 0
    epochs: int = 0
    best: float | None = None
    age: float | None = None  # seconds since the run last wrote anything


def is_run(p: Path) -> bool:
    return any((p / f).exists() for f in RUN_FILES)


def find_runs(root: Path, depth: int = 3) -> list[Path]:
    """Run folders at most ``depth`` levels under ``root`` (root included). A folder that is a run
    is still searched, in case a sweep keeps its own status beside its runs."""
    out: list[Path] = [root] if is_run(root) else []
    if depth <= 0:
        return out
    try:
        kids = sorted(k for k in root.iterdir() if k.is_dir() and not k.name.startswith("."))
    except OSError:
        return out
    for k in kids:
        out += find_runs(k, depth - 1)
    return out


def last_line(path: Path, chunk: int = 8192) -> dict:
    """The last complete JSON line of a file (reads only its end)."""
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - chunk))
            lines = fh.read().split(b"\n")
    except OSError:
        return {}
    for line in reversed(lines):
        try:
            d = json.loads(line)
            if isinstance(d, dict):
                return d
        except ValueError:
            continue
    return {}


def pid_alive(pid) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return True  # unknown: do not call it killed
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _mtime(p: Path) -> float | None:
    times = []
    for f in RUN_FILES + ("layers.jsonl",):
        try:
            times.append((p / f).stat().st_mtime)
        except OSError:
            pass
    return max(times) if times else None


def summarize(p: Path, root: Path, now: float | None = None) -> RunRow:
    now = time.time() if now is None else now
    try:
        st = json.loads((p / "status.json").read_text())
    except (OSError, ValueError):
        st = {}
    st = st if isinstance(st, dict) else {}
    started, end = st.get("started") or {}, st.get("end") or {}
    last = last_line(p / "metrics.jsonl")
    mt = _mtime(p)
    row = RunRow(path=p, name=str(p.relative_to(root)) if p != root else p.name, state="unknown",
                 preset=started.get("preset", ""), device=f"{started.get('backend', '')} {started.get('device', '')}"
                 .strip(), epoch=int(last.get("epoch") or st.get("epoch") or 0), epochs=int(started.get("epochs") or 0),
                 best=end.get("best_val_loss", last.get("best_val_loss")), age=None if mt is None else now - mt)
    state = st.get("state")
    if state == "finished":
        row.state = end.get("reason", "completed")
    elif state == "failed":
        row.state = "failed"
    elif state == "running":
        if not pid_alive(st.get("pid")):
            row.state = "killed"
        elif row.age is not None and row.age > STALE:
            row.state = "stale"
        else:
            row.state = "running"
    if not p.exists():
        row.state = "gone"
    return row


def scan_runs(root: str | Path, depth: int = 3, now: float | None = None) -> list[RunRow]:
    """Every run under ``root``, the most recently active first."""
    root = Path(root)
    rows = [summarize(p, root, now) for p in find_runs(root, depth)]
    return sorted(rows, key=lambda r: (r.age is None, r.age if r.age is not None else 0.0))

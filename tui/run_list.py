"""A folder of runs as table rows (``dltui watch`` without a run, the app's runs overview): the figures
``core.runs.store.scan`` reads, formatted; folder and preset names are input, so every cell is
escaped (``safe_line``: no control character reaches the terminal)."""

from __future__ import annotations

from dltui.core.runs.store.scan import RunRow
from dltui.core.sanitize import safe_line


def fmt_age(s: float | None) -> str:
    if s is None:
        return "?"
    s = max(0.0, s)
    for unit, n in (("d", 86400), ("h", 3600), ("m", 60)):
        if s >= n:
            return f"{s / n:.0f}{unit}"
    return f"{s:.0f}s"


def fmt_row(r: RunRow) -> list[str]:
    ep = f"{r.epoch}/{r.epochs}" if r.epochs else str(r.epoch)
    best = "-" if not isinstance(r.best, (int, float)) else f"{r.best:.4g}"
    return [safe_line(x) for x in (r.name, r.state, r.preset or "-", r.device or "-", ep, best, fmt_age(r.age))]


COLUMNS = ("run", "state", "preset", "device", "epoch", "best loss", "age")

"""The dashboard's top line: preset · backend/device · epoch x/N · batch · steps/s · elapsed · ETA · state."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

STATE_WORDS = {"ready": "ready", "running": "running", "paused": "paused", "finished": "ended",
               "failed": "failed"}


def clock_text(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    s = int(seconds)
    h, m = divmod(s // 60, 60)
    return f"{h}:{m:02d}:{s % 60:02d}" if h else f"{m:02d}:{s % 60:02d}"


def rate_text(r: float) -> str:
    if r >= 1e4:
        return f"{r / 1e3:.0f}k"
    if r >= 1e3:
        return f"{r / 1e3:.1f}k"
    return f"{r:.0f}" if r >= 10 else f"{r:.1f}"


def status_text(view, *, frozen: bool = False, read_only: bool = False) -> Text:
    """The line for a RunView; ``frozen`` replaces the time-dependent parts by fixed dashes (tests)."""
    v = view
    dev = f"{v.backend}/{v.device}" if v.backend else "…"
    left = Text.assemble(("dltui", "bold"), f" · {v.preset} · {dev}")
    if read_only:
        left.append(" · watching", "italic")
    parts = [f"epoch {v.epoch}/{v.epochs_total}"]
    if v.batches_per_epoch:
        parts.append(f"batch {v.batch}/{v.batches_per_epoch}")
    parts.append(f"step {v.step}")
    if frozen:
        parts += ["– steps/s", "--:--", "ETA --:--"]
    else:
        parts += [f"{rate_text(v.steps_per_s)} steps/s" if v.steps_per_s else "– steps/s",
                  clock_text(v.elapsed), f"ETA {clock_text(v.eta)}"]
    right = Text(" · ".join(parts))
    right.append(" · ")
    right.append(STATE_WORDS.get(v.state, v.state).upper(), "bold reverse" if v.state == "running" else "bold")
    return left, right


class StatusLine(Static):
    """One line; the left part (what runs where) and the right part (progress) are padded apart."""

    DEFAULT_CSS = """
    StatusLine { height: 1; width: 1fr; }
    """

    def show(self, view, *, frozen: bool = False, read_only: bool = False) -> None:
        left, right = status_text(view, frozen=frozen, read_only=read_only)
        width = max(self.size.width, 1)
        gap = width - left.cell_len - right.cell_len
        if gap >= 2:
            line = Text.assemble(left, " " * gap, right)
        else:  # too narrow: drop the title part
            line = Text.assemble(right) if right.cell_len <= width else right
        line.no_wrap, line.overflow = True, "ellipsis"
        self._last = (view, frozen, read_only)
        self.update(line)

    def on_resize(self) -> None:
        if getattr(self, "_last", None):
            v, f, r = self._last
            self.show(v, frozen=f, read_only=r)

"""The dashboard's top line: preset · backend/device · run folder · epoch x/N · batch · steps/s · elapsed ·
ETA · lr · batch size · pace · state. The learning rate, the batch size and the pace are never dropped."""

from __future__ import annotations

from dltui.core.training.pacing import pace_text
from dltui.tui.numfmt import short
from rich.text import Text
from textual.widget import Widget

STATE_WORDS = {"ready": "ready", "running": "running", "paused": "paused", "finished": "ended",
               "failed": "failed", "diverged": "diverged"}


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


def status_parts(view, *, frozen: bool = False, read_only: bool = False) -> list[tuple[str, Text]]:
    """The line's pieces, as (name, text), left part first; the widget drops some when narrow."""
    from dltui.core.sanitize import safe_line  # names and fields a watched run's files give

    v = view
    dev = f"{v.backend}/{v.device}" if v.backend else "…"
    parts = [("app", Text("dltui · ", "bold")), ("preset", Text(safe_line(v.preset), "bold")),
             ("backend", Text(safe_line(f" · {dev}")))]
    if v.device_note:
        parts.append(("gpu", Text(safe_line(f" ({v.device_note})"))))
    if read_only:
        parts.append(("watch", Text(" · watching", "italic")))
    elif v.out_dir:  # the run folder it writes (as `dltui train`): predict, trace, watch, resume it later
        parts.append(("folder", Text(f" · {v.out_dir}", "dim")))
    right = [("epoch", f"epoch {v.epoch}/{v.epochs_total}")]
    if v.batches_per_epoch:
        right.append(("batch", f"batch {v.batch}/{v.batches_per_epoch}"))
    right.append(("step", f"step {v.step}"))
    if v.state == "running":  # the rate and the time left mean something only while it runs
        right += [("rate", "– steps/s" if frozen or not v.steps_per_s else f"{rate_text(v.steps_per_s)} steps/s"),
                  ("elapsed", clock_text(None if frozen else v.elapsed)),
                  ("eta", f"ETA {clock_text(None if frozen else v.eta)}")]
    else:
        right.append(("elapsed", clock_text(None if frozen else v.elapsed)))
    right += settings_parts(v, read_only)
    word = STATE_WORDS.get(v.state, v.state).upper()
    right.append(("state", Text(word, "bold reverse" if v.state == "running" else "bold")))
    return parts + [("|", Text())] + [(k, t if isinstance(t, Text) else Text(t)) for k, t in right]


def settings_parts(v, read_only: bool = False) -> list[tuple[str, str]]:
    """lr, batch size and (for a run that trains here) pace: what decides how the run moves."""
    bs = "full" if not v.batch_size or (v.n_train and v.batch_size >= v.n_train) else str(v.batch_size)
    out = [("lr", f"lr {short(v.lr, 6)}"), ("bs", f"bs {bs}")]
    if not read_only:
        out.append(("pace", f"pace {pace_text(v.pace)}"))
    return out


# the preset's name goes last: at 80 columns it stays with the epoch, pace and state (the batch size and
# then the lr give way to a long name with a long epoch count)
DROP_ORDER = ["gpu", "app", "eta", "elapsed", "folder", "rate", "step", "batch", "watch", "backend", "bs", "lr",
              "preset"]


def fit_line(parts: list[tuple[str, Text]], width: int) -> Text:
    """Join the parts (left block, padding, right block joined by ' · '), dropping the least useful
    pieces until the line fits ``width``."""
    parts = list(parts)

    def build() -> Text:
        cut = [k for k, _ in parts].index("|")
        left = Text.assemble(*(t for _, t in parts[:cut]))
        right = Text(" · ").join(t for _, t in parts[cut + 1:])
        gap = width - left.cell_len - right.cell_len
        return Text.assemble(left, " " * max(gap, 1), right) if left.cell_len else right

    for name in [None] + DROP_ORDER:
        if name is not None:
            parts = [(k, t) for k, t in parts if k != name]
        line = build()
        if line.cell_len <= width:
            return line
    line.truncate(width, overflow="ellipsis")
    return line


def status_text(view, *, frozen: bool = False, read_only: bool = False, width: int = 200) -> Text:
    return fit_line(status_parts(view, frozen=frozen, read_only=read_only), width)


class StatusLine(Widget):
    """One line: what runs where on the left, the progress on the right. Redrawing it never
    reflows the screen (a Static's update would)."""

    DEFAULT_CSS = """
    StatusLine { height: 1; width: 1fr; }
    """

    _last = None

    def show(self, view, *, frozen: bool = False, read_only: bool = False) -> None:
        self._last = (view, frozen, read_only)
        self.refresh()

    def render(self) -> Text:
        if not self._last:
            return Text("")
        v, f, r = self._last
        return status_text(v, frozen=f, read_only=r, width=self.content_size.width or 100)

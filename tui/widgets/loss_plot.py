"""Train and validation loss per epoch (textual-plotext), with the best epoch marked.

Linear or log scale (``log``); the title carries the best loss, the early-stop patience left and,
for classification, the validation accuracy. Lines differ by marker as well as colour, so the plot
reads the same with NO_COLOR or 16 colours.

What teaches batches: a faint trace of the mini-batches' own losses under the epoch curves
(``toggle_batches``), an x-axis in epochs, updates (optimizer steps) or seconds (``cycle_axis``: updates
and seconds are the fair ways to compare batch sizes), TensorBoard-style smoothing of the curves
(``cycle_smoothing``: an exponential moving average, debiased, weight 0.6/0.9/0.99) and a window on the
last N epochs (``cycle_window``). The points drawn are thinned to what the width can show, so a redraw
costs the same at 100 epochs and at 1M.
"""

from __future__ import annotations

import math

import numpy as np
from textual_plotext import PlotextPlot

AXES = ("epoch", "update", "seconds")
SMOOTHING = (0.0, 0.6, 0.9, 0.99)
WINDOWS = (0, 100, 1000, 10000)  # 0: the whole run


def loss_title(history, task: str, patience: int, test_loss: float | None = None,
               baseline: float | None = None) -> str:
    if not history:
        return "loss · no epoch yet"  # the plot shows the batches' own losses meanwhile
    last = history[-1]
    parts = []
    if last.best_val_loss is not None:
        parts.append(f"best {last.best_val_loss:.4g} @ {last.best_epoch}"
                     + (f", test {test_loss:.4g}" if test_loss is not None else ""))
    if last.patience_left is not None and patience:
        parts.append(f"patience {last.patience_left}/{patience}")

    if task == "classification":
        if last.val_metric is not None:
            parts.append(f"val acc {last.val_metric:.1%} @ {last.epoch}")  # which epoch's: the last one drawn
        elif last.train_metric is not None:
            parts.append(f"acc {last.train_metric:.1%} @ {last.epoch}")
    if baseline is not None:
        parts.append(f"linear baseline {baseline:.4g}")
    return " · ".join(parts)


class LossPlot(PlotextPlot):
    """``show_history(history, task, patience)`` redraws; ``log`` toggles the y scale."""

    DEFAULT_CSS = """
    LossPlot { height: 1fr; width: 1fr; min-height: 6; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, classes=classes)
        self.log_scale = True
        self.axis, self.smoothing, self.window, self.show_batches = "epoch", 0.0, 0, False
        self._history: list = []
        self._batches: list = []  # (step, loss) of single mini-batches
        self._bpe = 1
        self._problem, self._patience = "regression", 0
        self.ghost: list = []  # the previous run's epochs, drawn faint behind this run's (set_ghost)
        self.ghost_label = "before"
        self._ghost_cache: tuple = (None, [])  # (the settings it was drawn for, its points)
        self.baseline: float | None = None  # the linear baseline's validation MSE: a horizontal line
        self.test_loss: float | None = None  # set when a run with a test split ends

    def on_mount(self) -> None:
        super().on_mount()
        self._draw()

    def show_history(self, history, task: str = "regression", patience: int = 0,
                     test_loss: float | None = None, batches=(), batches_per_epoch: int = 1) -> None:
        self._history, self._problem, self._patience = list(history), task, patience
        self.test_loss = test_loss
        self._batches, self._bpe = list(batches), max(batches_per_epoch, 1)
        self._draw()

    def set_ghost(self, history, label: str = "before") -> None:
        """Keep another run's curve (its validation loss, else its training loss) faint behind this one's."""
        self.ghost, self.ghost_label = list(history), label
        self._ghost_cache = (None, [])
        self._draw()

    def _ghost_points(self) -> list[tuple[float, float]]:
        """The ghost's validation curve (its training curve without one), on this plot's axis and scale."""
        if not self.ghost:
            return []
        key = (self.axis, self.smoothing, self.window, self.log_scale, 2 * max(self.size.width, 40), self._bpe)
        if self._ghost_cache[0] != key:  # the ghost does not change while this run trains: drawn once a setting
            self._ghost_cache = (key, self._ghost_series())
        return self._ghost_cache[1]

    def _ghost_series(self) -> list[tuple[float, float]]:
        s = plot_series(self.ghost, [], self._bpe, axis=self.axis, smoothing=self.smoothing, window=self.window,
                        log=self.log_scale, points=2 * max(self.size.width, 40))
        return s["val"] or s["train"]

    def set_baseline(self, value: float | None) -> None:
        self.baseline = value
        self._draw()

    def toggle_log(self) -> bool:
        self.log_scale = not self.log_scale
        self._draw()
        return self.log_scale

    def toggle_batches(self) -> bool:
        self.show_batches = not self.show_batches
        self._draw()
        return self.show_batches

    def cycle_axis(self) -> str:
        self.axis = AXES[(AXES.index(self.axis) + 1) % len(AXES)]
        self._draw()
        return self.axis

    def cycle_smoothing(self) -> float:
        self.smoothing = SMOOTHING[(SMOOTHING.index(self.smoothing) + 1) % len(SMOOTHING)]
        self._draw()
        return self.smoothing

    def cycle_window(self) -> int:
        """All, then the last 100, 1000, 10000 epochs (the sizes shorter than the run), then all again."""
        n = self._history[-1].epoch if self._history else 0
        sizes = [w for w in WINDOWS if w == 0 or w < n]
        i = sizes.index(self.window) if self.window in sizes else 0
        self.window = sizes[(i + 1) % len(sizes)]
        self._draw()
        return self.window

    @property
    def title_text(self) -> str:
        return loss_title(self._history, self._problem, self._patience, self.test_loss, self.baseline)

    def render(self):
        top, bottom = self.fitted_labels(self.size.width - 2)
        self.plt.title(top)
        self.plt.xlabel(bottom)
        return super().render()

    def fitted_labels(self, width: int) -> tuple[str, str]:
        """('loss (log) · best …', 'epoch · patience … · acc …'), shortened to fit ``width``."""
        scale = "log" if self.log_scale else "linear"
        parts = [p for p in self.title_text.split(" · ") if p]
        top = [f"loss ({scale})"] + [p for p in parts if p.startswith(("best", "no epoch"))]
        axis = {"epoch": "epoch", "update": "updates", "seconds": "seconds"}[self.axis]
        extra = ([f"smooth {self.smoothing:g}"] if self.smoothing else []) + \
            ([f"last {self.window}"] if self.window else [])
        bottom = [p for p in parts if p.startswith(("patience", "acc", "val acc", "linear"))]
        fit = lambda xs: " · ".join(xs) if len(" · ".join(xs)) <= width else xs[0] + " · " + xs[-1]  # noqa: E731
        return fit(top)[:max(width, 0)] if len(top) > 1 else top[0], fit_first([axis] + extra, bottom, width)

    def _draw(self) -> None:
        """Set the plot's data. On the log scale the values are log10'd here and the y ticks labelled
        with the losses (plotext's own log scale transforms in place and breaks on redraws)."""
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        # before the first epoch ends, the batches' own losses are all there is to show: show them
        batches = self._batches if self.show_batches or not self._history else []
        series = plot_series(self._history, batches, self._bpe, axis=self.axis,
                             smoothing=self.smoothing, window=self.window, log=self.log_scale,
                             points=2 * max(self.size.width, 40))
        ghost = self._ghost_points()
        if not series["train"] and not series["val"] and not series["batch"] and not ghost:
            plt.xlim(0, 1)
            plt.ylim(0, 1)
            plt.yticks([])
            self.refresh()
            return
        if ghost:  # first, so this run's lines are drawn over it
            plt.plot(*zip(*ghost), label=self.ghost_label, marker="·", color="gray")
        if series["batch"]:
            plt.scatter(*zip(*series["batch"]), label="batch", marker="dot", color="gray")
        if series["train"]:
            plt.plot(*zip(*series["train"]), label="train", marker="braille", color="cyan")
        if series["val"]:
            plt.plot(*zip(*series["val"]), label="val", marker="hd", color="orange")
        ys = [y for _, y in series["train"] + series["val"] + series["batch"] + ghost]
        base = _y(self.baseline, self.log_scale) if self._problem == "regression" else None
        if base is not None:
            plt.hline(base, color="magenta")
            ys.append(base)
        lo, hi_y = min(ys), max(ys)
        if hi_y - lo < 1e-9:
            lo, hi_y = lo - 0.5, hi_y + 0.5
        plt.ylim(lo, hi_y)
        ticks = value_ticks(lo, hi_y)
        plt.yticks(ticks, [_label(t, self.log_scale) for t in ticks])
        if series["best_x"] is not None:  # a vertical line, labelled by a mark on the loss it kept
            plt.vline(series["best_x"], color="green")
            if series["best"][1] is not None:
                plt.scatter([series["best"][0]], [series["best"][1]], marker="●", color="green",
                            label=f"best @ {self._history[-1].best_epoch}")
        x0, x1 = series["xlim"]
        if ghost:
            x0, x1 = min(x0, ghost[0][0]), max(x1, ghost[-1][0])
        plt.xlim(x0, x1)
        if self.axis == "epoch":
            plt.xticks([t for t in epoch_ticks(int(x1)) if t >= x0])
        else:
            plt.xticks(*axis_ticks(x0, x1))
        self.refresh()


def ema(values: list[float], weight: float) -> list[float]:
    """TensorBoard's smoothing: an exponential moving average, debiased (the first points are not pulled
    towards 0). ``weight`` 0 returns the values."""
    if not weight:
        return list(values)
    out, acc = [], 0.0
    for i, v in enumerate(values, 1):
        acc = weight * acc + (1 - weight) * v
        out.append(acc / (1 - weight ** i))
    return out


def fit_first(kept: list[str], rest: list[str], width: int) -> str:
    """``kept`` (the axis and the settings the person chose: smoothing, window - issue 23: they vanished
    once a run had patience and accuracy to show) joined with ' · ', then as many of ``rest`` as fit."""
    out = " · ".join(kept)
    for part in rest:
        if len(out) + 3 + len(part) <= width:
            out += " · " + part
    return out[:max(width, 0)]


def plot_series(history, batches, bpe: int, *, axis: str = "epoch", smoothing: float = 0.0, window: int = 0,
                log: bool = True, points: int = 200) -> dict:
    """What the plot draws, as plain data: {'train', 'val', 'batch': [(x, y)], 'best_x', 'best': (x, y) of
    the best epoch's (unsmoothed) loss, 'xlim'}."""
    h = list(history)
    out = {"train": [], "val": [], "batch": [], "best_x": None, "best": None, "xlim": (0, 1)}
    if not h:  # the first epoch is under way: only its batches' losses
        pts = [(s / bpe if axis == "epoch" else float(s), _y(v, log)) for s, v in batches]
        out["batch"] = thin([p for p in pts if p[1] is not None], 2 * points)
        if out["batch"]:
            xs = [x for x, _ in out["batch"]]
            out["xlim"] = (min(xs), max(max(xs), min(xs) + 1))
        return out
    if window:
        h = [e for e in h if e.epoch > h[-1].epoch - window] or h[-1:]
    steps = np.array([e.step for e in h], float)
    secs = np.array([e.elapsed or 0.0 for e in h], float)

    def x_of_step(s):
        if axis == "update":
            return float(s)
        if axis == "seconds":
            return float(np.interp(s, steps, secs)) if len(steps) > 1 else 0.0
        return s / bpe

    def x_of(e):
        return {"epoch": e.epoch, "update": e.step, "seconds": e.elapsed or 0.0}[axis]

    # unsmoothed, only the rows drawn are read (thinned first: a redraw reads ~points rows, not the
    # history's thousands); smoothing needs every row, each point being an average of those before it
    drawn = h if smoothing else thin(h, points)
    for key, attr in (("train", "train_loss"), ("val", "val_loss")):
        rows = [(x_of(e), getattr(e, attr)) for e in drawn if getattr(e, attr) is not None]
        rows = [(x, v) for x, v in rows if math.isfinite(v)]
        ys = ema([v for _, v in rows], smoothing)
        pts = [(x, _y(v, log)) for (x, _), v in zip(rows, ys)]
        out[key] = thin([p for p in pts if p[1] is not None], points)
    first_step = h[0].step - bpe if window else 0
    bs = [(x_of_step(s), _y(v, log)) for s, v in batches if s > first_step]
    out["batch"] = thin([p for p in bs if p[1] is not None], 2 * points)
    best = h[-1].best_epoch
    if best and best >= h[0].epoch:  # (not when a window hides it)
        row = next((e for e in reversed(h) if e.epoch <= best), h[0])  # long runs keep some old epochs only
        x = x_of(row) if row.epoch == best else {"epoch": best, "update": best * bpe}.get(axis) or float(
            np.interp(best, [e.epoch for e in h], secs))
        y = h[-1].best_val_loss if h[-1].best_val_loss is not None else row.train_loss
        out["best_x"], out["best"] = x, (x, _y(y, log))
    xs = [x for k in ("train", "val", "batch") for x, _ in out[k]]
    lo = min(xs) if xs else 0
    if axis == "epoch" and not window:
        lo = min(lo, 1)
    out["xlim"] = (lo, max(max(xs) if xs else 1, lo + 1))
    return out


def axis_ticks(lo: float, hi: float, n: int = 4) -> tuple[list[float], list[str]]:
    """Round ticks for updates or seconds, labelled short (1.5k, 20k)."""
    raw = max((hi - lo) / max(n - 1, 1), 1e-9)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    t = math.ceil(lo / step) * step
    ticks = []
    while t <= hi + 1e-9:
        ticks.append(t)
        t += step
    return ticks, [_short(v) for v in ticks]


def _short(v: float) -> str:
    if abs(v) >= 1e6:
        return f"{v / 1e6:g}M"
    if abs(v) >= 1e3:
        return f"{v / 1e3:g}k"
    return f"{v:g}"


def thin(history: list, n: int) -> list:
    """At most about ``n`` points, evenly spread, always with the first, the last and (epoch rows) the
    best: the plot cannot show more (two braille dots a cell) and plotext's cost grows with the points."""
    if len(history) <= n:
        return history
    step = len(history) / n
    keep = {int(i * step) for i in range(n)} | {0, len(history) - 1}
    best = getattr(history[-1], "best_epoch", None)
    if best:
        keep |= {i for i in (best - 1,) if 0 <= i < len(history) and history[i].epoch == best}
    return [history[i] for i in sorted(keep)]


def value_ticks(lo: float, hi: float, n: int = 4) -> list[float]:
    return [lo + (hi - lo) * i / (n - 1) for i in range(n)]


def _label(t: float, log: bool) -> str:
    v = 10 ** t if log else t
    if abs(v) >= 1e4:
        return f"{v:.1e}"
    return f"{v:.0f}" if abs(v) >= 100 else f"{v:.2g}"


def _y(v, log: bool):
    """A loss as plotted: None when missing or not finite; log10 on the log scale."""
    if v is None or not math.isfinite(v):
        return None
    return math.log10(max(v, 1e-12)) if log else v


def epoch_ticks(hi: int, n: int = 5) -> list[int]:
    """Whole-number epoch ticks from 1 to about ``hi``, at a round step."""
    raw = max(1, (hi - 1) / max(n - 1, 1))
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    ticks = [1] + list(range(int(step), hi + 1, int(step)))
    return sorted(set(ticks))

"""Train and validation loss per epoch (textual-plotext), with the best epoch marked.

Linear or log scale (``log``); the title carries the best loss, the early-stop patience left and,
for classification, the validation accuracy. Lines differ by marker as well as colour, so the plot
reads the same with NO_COLOR or 16 colours.
"""

from __future__ import annotations

import math

from textual_plotext import PlotextPlot


def loss_title(history, task: str, patience: int, test_loss: float | None = None,
               baseline: float | None = None) -> str:
    if not history:
        return "loss · no epoch yet"
    last = history[-1]
    parts = []
    if last.best_val_loss is not None:
        parts.append(f"best {last.best_val_loss:.4g} @ {last.best_epoch}"
                     + (f", test {test_loss:.4g}" if test_loss is not None else ""))
    if last.patience_left is not None and patience:
        parts.append(f"patience {last.patience_left}/{patience}")

    if task == "classification":
        if last.val_metric is not None:
            parts.append(f"val acc {last.val_metric:.1%}")
        elif last.train_metric is not None:
            parts.append(f"acc {last.train_metric:.1%}")
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
        self._history: list = []
        self._problem, self._patience = "regression", 0
        self.ghost: list = []  # the previous run's epochs, drawn faint behind this run's (set_ghost)
        self.ghost_label = "before"
        self.baseline: float | None = None  # the linear baseline's validation MSE: a horizontal line
        self.test_loss: float | None = None  # set when a run with a test split ends

    def on_mount(self) -> None:
        super().on_mount()
        self._draw()

    def show_history(self, history, task: str = "regression", patience: int = 0,
                     test_loss: float | None = None) -> None:
        self._history, self._problem, self._patience = list(history), task, patience
        self.test_loss = test_loss
        self._draw()

    def set_ghost(self, history, label: str = "before") -> None:
        """Keep another run's curve (its validation loss, else its training loss) faint behind this one's."""
        self.ghost, self.ghost_label = list(history), label
        self._draw()

    def _ghost_points(self, log: bool) -> list[tuple[int, float]]:
        h = thin(self.ghost, 2 * max(self.size.width, 40))
        pts = [(e.epoch, _y(e.val_loss if e.val_loss is not None else e.train_loss, log)) for e in h]
        return [p for p in pts if p[1] is not None]

    def set_baseline(self, value: float | None) -> None:
        self.baseline = value
        self._draw()

    def toggle_log(self) -> bool:
        self.log_scale = not self.log_scale
        self._draw()
        return self.log_scale

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
        bottom = ["epoch"] + [p for p in parts if p.startswith(("patience", "acc", "val acc", "linear"))]
        fit = lambda xs: " · ".join(xs) if len(" · ".join(xs)) <= width else xs[0] + " · " + xs[-1]  # noqa: E731
        return fit(top)[:max(width, 0)] if len(top) > 1 else top[0], fit(bottom)[:max(width, 0)]

    def _draw(self) -> None:
        """Set the plot's data. On the log scale the values are log10'd here and the y ticks labelled
        with the losses (plotext's own log scale transforms in place and breaks on redraws)."""
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        h, log = thin(self._history, 2 * max(self.size.width, 40)), self.log_scale
        train = [(e.epoch, _y(e.train_loss, log)) for e in h]
        train = [p for p in train if p[1] is not None]
        val = [(e.epoch, _y(e.val_loss, log)) for e in h]
        val = [p for p in val if p[1] is not None]
        ghost = self._ghost_points(log)
        if not train and not val and not ghost:
            plt.xlim(0, 1)
            plt.ylim(0, 1)
            plt.yticks([])
            self.refresh()
            return
        if ghost:  # first, so this run's lines are drawn over it
            plt.plot(*zip(*ghost), label=self.ghost_label, marker="·", color="gray")
        if train:
            plt.plot(*zip(*train), label="train", marker="braille", color="cyan")
        if val:
            plt.plot(*zip(*val), label="val", marker="hd", color="orange")
        ys = [y for _, y in train + val + ghost]
        base = _y(self.baseline, log) if self._problem == "regression" else None
        if base is not None:
            plt.hline(base, color="magenta")
            ys.append(base)
        lo, hi_y = min(ys), max(ys)
        if hi_y - lo < 1e-9:
            lo, hi_y = lo - 0.5, hi_y + 0.5
        plt.ylim(lo, hi_y)
        ticks = value_ticks(lo, hi_y)
        plt.yticks(ticks, [_label(t, log) for t in ticks])
        best = h[-1].best_epoch if h else 0
        if best:
            plt.vline(best, color="green")
        hi = max(h[-1].epoch if h else 0, ghost[-1][0] if ghost else 0, 2)
        plt.xlim(1, hi)
        plt.xticks(epoch_ticks(hi))
        self.refresh()


def thin(history: list, n: int) -> list:
    """At most about ``n`` epochs, evenly spread, always with the first, the last and the best:
    the plot cannot show more (two braille dots a cell) and plotext's cost grows with the points."""
    if len(history) <= n:
        return history
    step = len(history) / n
    keep = {int(i * step) for i in range(n)} | {0, len(history) - 1}
    best = history[-1].best_epoch
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

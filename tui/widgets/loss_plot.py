"""Train and validation loss per epoch (textual-plotext), with the best epoch marked.

Linear or log scale (``log``); the title carries the best loss, the early-stop patience left and,
for classification, the validation accuracy. Lines differ by marker as well as colour, so the plot
reads the same with NO_COLOR or 16 colours.
"""

from __future__ import annotations

import math

from textual_plotext import PlotextPlot


def loss_title(history, task: str, patience: int) -> str:
    if not history:
        return "loss · no epoch yet"
    last = history[-1]
    parts = []
    if last.best_val_loss is not None:
        parts.append(f"best {last.best_val_loss:.4g} @ {last.best_epoch}")
    if last.patience_left is not None and patience:
        parts.append(f"patience {last.patience_left}/{patience}")
    if task == "classification":
        acc = last.val_metric if last.val_metric is not None else last.train_metric
        if acc is not None:
            parts.append(f"acc {acc:.1%}")
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

    def on_mount(self) -> None:
        super().on_mount()
        self._draw()

    def show_history(self, history, task: str = "regression", patience: int = 0) -> None:
        self._history, self._problem, self._patience = list(history), task, patience
        self._draw()

    def toggle_log(self) -> bool:
        self.log_scale = not self.log_scale
        self._draw()
        return self.log_scale

    @property
    def title_text(self) -> str:
        return loss_title(self._history, self._problem, self._patience)

    def _draw(self) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        h = self._history
        plt.xlabel("epoch")
        self.border_title = f"loss ({'log' if self.log_scale else 'linear'})"
        self.border_subtitle = self.title_text
        train = [(e.epoch, _pos(e.train_loss, self.log_scale)) for e in h]
        train = [p for p in train if p[1] is not None]
        val = [(e.epoch, _pos(e.val_loss, self.log_scale)) for e in h]
        val = [p for p in val if p[1] is not None]
        if not train and not val:
            plt.yscale("linear")
            plt.xlim(0, 1)
            plt.ylim(0, 1)
            self.refresh()
            return
        plt.yscale("log" if self.log_scale else "linear")
        x = [e.epoch for e in h]
        if train:
            plt.plot(*zip(*train), label="train", marker="braille", color="cyan")
        if val:
            plt.plot(*zip(*val), label="val", marker="dot", color="orange")
        best = h[-1].best_epoch
        if best:
            plt.vline(best, color="green")
        if len(x) == 1:
            plt.xlim(0, x[0] + 1)
        self.refresh()


def _pos(v, log: bool):
    """Loss values for the plot; on a log scale zero or negatives become a tiny positive number."""
    if v is None or not math.isfinite(v):
        return None
    return max(v, 1e-12) if log else v

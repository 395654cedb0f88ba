"""TensorBoard export: a trainer callback writing event files, so the course's SummaryWriter habit
still works (`tensorboard --logdir DIR`).

Scalars every epoch at the run's global step (the course's tags: ``Loss/train``, ``Loss/valid``,
``Accuracy/train``, ``Accuracy/valid``, ``lr``); per-layer weight and gradient histograms
(``weights/layerN``, ``grads/layerN``) every ``every`` seconds, when the trainer reports layer
statistics (it is asked through ``Trainer.request_stats()``, like ``layerlog``).

The writer is tensorboardX's (the optional ``dltui[tensorboard]`` extra). Measured on the 2-core
dev machine: importing tensorboardX costs about 0.1 s when torch is not imported (it tries to
import torch at start-up, which costs 0.8 s); torch.utils.tensorboard costs about 0.85 s and
needs torch. So tensorboardX is imported with torch hidden when torch is not already loaded, and a
NumPy run stays torch-free.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from . import events as ev

EVERY = 2.0
INSTALL_HINT = 'pip install "dltui[tensorboard]" (or pip install tensorboardX)'


class TensorBoardMissing(ImportError):
    pass


def summary_writer_class():
    """tensorboardX.SummaryWriter, imported without pulling in torch when torch is not loaded yet."""
    hide = "torch" not in sys.modules
    if hide:
        sys.modules["torch"] = None  # type: ignore[assignment] - makes `import torch` fail fast
    try:
        from tensorboardX import SummaryWriter
    except ImportError:
        raise TensorBoardMissing(f"--tensorboard needs tensorboardX, which is not installed: {INSTALL_HINT}.") \
            from None
    finally:
        if hide and sys.modules.get("torch", 0) is None:
            del sys.modules["torch"]
    return SummaryWriter


def weights_and_grads(backend) -> list[tuple[np.ndarray, np.ndarray | None]]:
    """Host copies of each layer's weights and its last gradient (None where unknown)."""
    params = backend.get_params()
    net = getattr(backend, "net", None)
    if net is not None and hasattr(net, "linears"):  # the NumPy engine
        grads = [np.array(lin.dW) for lin in net.linears]
    elif hasattr(backend, "linears"):  # torch
        grads = [None if lin.weight.grad is None else lin.weight.grad.detach().cpu().double().numpy()
                 for lin in backend.linears]
    else:
        grads = [None] * len(params)
    return [(np.asarray(W), g) for (W, _), g in zip(params, grads)]


class TensorBoardLog:
    """Trainer callback (see the module doc). ``writer`` may be given (tests); else one is made in
    ``logdir``."""

    def __init__(self, trainer, logdir: str | Path, every: float = EVERY, writer=None, clock=time.monotonic):
        self.trainer = trainer
        self.logdir = Path(logdir)
        self.writer = writer if writer is not None else summary_writer_class()(logdir=str(self.logdir))
        self.every, self.clock = every, clock
        self._asked_at: float | None = None
        self.histograms = 0

    def __call__(self, e: ev.Event) -> None:
        if isinstance(e, ev.EpochEnded):
            self.scalars(e)
        elif isinstance(e, ev.BatchEnded):
            now = self.clock()
            if self.every > 0 and (self._asked_at is None or now - self._asked_at >= self.every):
                self._asked_at = now
                self.trainer.request_stats()
        elif isinstance(e, ev.LayerStatsReady):
            self.histogram(e.step)
        elif isinstance(e, (ev.Finished, ev.Failed)):
            self.writer.close()

    def scalars(self, e: ev.EpochEnded) -> None:
        w, step = self.writer, e.step
        w.add_scalar("Loss/train", e.train_loss, step)
        if e.val_loss is not None:
            w.add_scalar("Loss/valid", e.val_loss, step)
        if e.train_metric is not None:
            w.add_scalar("Accuracy/train", e.train_metric, step)
        if e.val_metric is not None:
            w.add_scalar("Accuracy/valid", e.val_metric, step)
        w.add_scalar("lr", e.lr, step)

    def histogram(self, step: int) -> None:
        for i, (W, g) in enumerate(weights_and_grads(self.trainer.backend), start=1):
            if np.all(np.isfinite(W)):
                self.writer.add_histogram(f"weights/layer{i}", W, step)
            if g is not None and np.all(np.isfinite(g)):
                self.writer.add_histogram(f"grads/layer{i}", g, step)
        self.histograms += 1

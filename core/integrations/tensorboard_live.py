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
NumPy run stays torch-free. Its FileWriter and summary functions are used directly, so that one
event carries all of an epoch's scalars.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from .. import events as ev

EVERY = 2.0
HIST_BINS = 30  # buckets per histogram
INSTALL_HINT = 'pip install "dltui[tensorboard]" (or pip install tensorboardX)'


class TensorBoardMissing(ImportError):
    pass


def _tensorboardx(what: str = "--tensorboard"):
    """tensorboardX (FileWriter, summary, Summary proto), imported without pulling in torch when
    torch is not loaded yet; ``what`` names the feature in the message when it is missing."""
    hide = "torch" not in sys.modules
    if hide:
        sys.modules["torch"] = None  # type: ignore[assignment] - makes `import torch` fail fast
    try:
        from tensorboardX import FileWriter, summary
        from tensorboardX.proto.summary_pb2 import Summary
    except ImportError:
        raise TensorBoardMissing(f"{what} needs tensorboardX, which is not installed: {INSTALL_HINT}.") \
            from None
    finally:
        if hide and sys.modules.get("torch", 0) is None:
            del sys.modules["torch"]
    return FileWriter, summary, Summary


def weights_and_grads(backend) -> list[tuple[np.ndarray, np.ndarray | None]]:
    """Host copies of each layer's weights and its last gradient (None where the backend declares none)."""
    from ..backends.base import GRADIENTS

    params = backend.get_params()
    grads = backend.get_grads() if GRADIENTS in backend.capabilities else [None] * len(params)
    return [(np.asarray(W), None if g is None else np.asarray(g)) for (W, _), g in zip(params, grads)]


class TensorBoardLog:
    """Trainer callback (see the module doc). ``writer`` may be given (tests); else one is made in
    ``logdir``."""

    def __init__(self, trainer, logdir: str | Path, every: float = EVERY, clock=time.monotonic):
        self.trainer = trainer
        self.logdir = Path(logdir)
        file_writer, self._summary, self._Summary = _tensorboardx()
        self.writer = file_writer(str(self.logdir), max_queue=100, flush_secs=2)
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
        """One event per epoch holding every scalar (one queue put instead of five: add_scalar costs
        about 32 µs each, mostly tensorboardX's inter-process queue)."""
        vals = [("Loss/train", e.train_loss), ("Loss/valid", e.val_loss), ("Accuracy/train", e.train_metric),
                ("Accuracy/valid", e.val_metric), ("lr", e.lr)]
        S = self._Summary
        summ = S(value=[S.Value(tag=tag, simple_value=float(v)) for tag, v in vals if v is not None])
        self.writer.add_summary(summ, e.step)

    def histogram(self, step: int) -> None:
        for i, (W, g) in enumerate(weights_and_grads(self.trainer.backend), start=1):
            for tag, a in ((f"weights/layer{i}", W), (f"grads/layer{i}", g)):
                if a is not None and np.all(np.isfinite(a)):
                    self.writer.add_summary(self._summary.histogram(tag, a, HIST_BINS), step)
        self.histograms += 1

"""One ``Run`` between a trainer (or a run folder) and every view.

``LiveRun``: a Trainer in a thread. ``WatchedRun``: a run folder another process is writing, read
incrementally. ``FinishedRun``: a run folder, read once (compare views). Views take a ``Run``.
"""

from __future__ import annotations

from .base import (
    END_WORDS,
    HEADER,
    LOSS,
    MESSAGE,
    PARAMS,
    RUN,
    STATS,
    Control,
    Run,
    RunView,
)
from .folder import FinishedRun, WatchedRun
from .live import LiveRun, gpu_note

__all__ = ["END_WORDS", "HEADER", "LOSS", "MESSAGE", "PARAMS", "RUN", "STATS", "Control", "FinishedRun",
           "LiveRun", "Run", "RunView", "WatchedRun", "gpu_note"]

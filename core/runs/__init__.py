"""One ``Run`` between a trainer (or a run folder) and every view.

``LiveRun``: a Trainer in a thread. ``WatchedRun``: a run folder another process is writing, read
incrementally. ``FinishedRun``: a run folder, read once (compare views). Views take a ``Run``.
``store/``: the run folder's files. The names below are imported on first use (PEP 562), so that
``runs.store`` (which the trainer writes through) does not load the live run and its trainer.
"""

from __future__ import annotations

import importlib

_WHERE = {**dict.fromkeys(["END_WORDS", "HEADER", "LOSS", "MESSAGE", "PARAMS", "RUN", "STATS", "Control", "Run",
                           "RunView"], "base"),
          "FinishedRun": "watched", "WatchedRun": "watched", "LiveRun": "live", "gpu_note": "live"}

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name in _WHERE:
        value = getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])

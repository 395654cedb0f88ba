"""The ``dltui`` package itself (pyproject maps ``dltui`` to this folder; the engine is ``dltui.core``,
the app ``dltui.tui``). It imports nothing: ``dltui.monitor`` is looked up on first use, so
``import dltui`` stays instant and torch-free::

    import dltui

    with dltui.monitor(model, "runs/mine") as mon:   # = dltui.core.integrations.monitor.monitor
        ...
"""

from __future__ import annotations

__all__ = ["monitor"]


def __getattr__(name: str):
    if name == "monitor":
        from dltui.core.integrations.monitor import monitor

        return monitor
    raise AttributeError(f"module 'dltui' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])

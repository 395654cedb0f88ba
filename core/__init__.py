"""dltui's engine: presets, data, the NumPy network, optimizers, the trainer. No terminal code here.

    from dltui.core import load_preset, Trainer
    spec = load_preset("piecewise-sigmoid", {"training.epochs": 200})
    result = Trainer(spec).fit(callbacks=[print])

The names below are imported on first use (PEP 562), so that importing one small module of the
package (``dltui.core.sanitize`` at every ``dltui`` start) does not load NumPy, the data code and
the trainer.
"""

from __future__ import annotations

import importlib

_WHERE = {"DataError": "data.dataset", "load_dataset": "data.dataset", "Spec": "config.spec",
          "SpecError": "config.spec", "load_preset": "config.spec", "Result": "training.trainer",
          "Trainer": "training.trainer"}

__all__ = ["DataError", "Result", "Spec", "SpecError", "Trainer", "load_dataset", "load_preset"]


def __getattr__(name: str):
    if name in _WHERE:
        value = getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])

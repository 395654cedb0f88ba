"""dltui's engine: presets, data, the NumPy network, optimizers, the trainer. No terminal code here.

    from dltui.core import load_preset, Trainer
    spec = load_preset("piecewise-sigmoid", {"training.epochs": 200})
    result = Trainer(spec).fit(callbacks=[print])
"""

from .data import DataError, load_dataset
from .spec import Spec, SpecError, load_preset
from .trainer import Result, Trainer

__all__ = ["DataError", "Result", "Spec", "SpecError", "Trainer", "load_dataset", "load_preset"]

"""Evaluation on the test split: the figures the course's template reports for the chosen weights."""

from __future__ import annotations

import numpy as np


def test_figures(backend, data, loss_name: str) -> tuple[float | None, float | None]:
    """(loss, accuracy or None) of the backend's current weights on the test split; (None, None)
    without one. No gradients: a forward pass only."""
    if data.x_test is None or not len(data.x_test):
        return None, None
    from ..engine.nn import LOSSES

    loss = LOSSES[loss_name]()
    out = np.asarray(backend.predict(data.x_test), np.float64)
    y = data.y_test if data.task == "classification" else np.asarray(data.y_test, np.float64)
    return float(loss.forward(out, y)), loss.metric(out, y)

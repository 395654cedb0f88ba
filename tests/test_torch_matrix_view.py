"""The torch backend shows gradients in the dashboard's matrix view (it declares GRADIENTS; the view
asks the run, never the backend's internals)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("textual")
pytest.importorskip("torch")

from async_helpers import sync, wait_for  # noqa: E402
from dltui.core import load_preset  # noqa: E402
from dltui.core.backends.base import GRADIENTS  # noqa: E402
from dltui.core.runs import LiveRun  # noqa: E402
from dltui.tui.app import DltuiApp  # noqa: E402
from dltui.tui.widgets.matrix_view import MatrixView  # noqa: E402


@sync
async def test_torch_run_shows_weight_gradients_in_the_matrix_view():
    spec = load_preset("xor", {"training.epochs": 5, "training.backend": "torch", "training.device": "cpu",
                               "training.dtype": "float64"})
    run = LiveRun(spec)
    be = run.trainer.backend
    assert be.name == "torch" and GRADIENTS in be.capabilities
    app = DltuiApp(run=run, scan_dir=None, freeze_clock=True)
    async with app.run_test(size=(120, 36)) as pilot:
        scr = app.screen
        await wait_for(pilot, lambda: run.view.state == "paused", what="the run to be ready")
        await pilot.press("n")
        await wait_for(pilot, lambda: run.view.step == 1 and run.state == "paused", what="one step")
        from textual.widgets import TabbedContent

        for _ in range(3):  # v cycles learned -> weights -> network; where the network fits it is the default
            if scr.query_one("#right", TabbedContent).active == "tab-weights":
                break
            await pilot.press("v")
        matrix = scr.query_one(MatrixView)
        await wait_for(pilot, lambda: matrix.dW is not None and run.view.params_step == 1, timeout=30,
                       what="the gradients in the matrix view")
        grad = run.trainer.call(lambda b: b.linears[0].weight.grad.detach().numpy().copy()).result(timeout=10)
        np.testing.assert_allclose(matrix.dW, grad)
        assert np.abs(matrix.dW).sum() > 0

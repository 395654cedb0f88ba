"""The linear baseline: closed-form ridge on the run's own features and split, in the train
summary, saved beside the metrics, and as a line on the loss plot."""

from __future__ import annotations

import json

import numpy as np
import pytest
from dltui.core import Trainer, load_preset
from dltui.core.data.dataset import Dataset, Features
from dltui.core.experiments.baseline import RIDGE, fit_ridge, linear_baseline
from dltui.tui.cli import main
from dltui.tui.widgets.loss_plot import loss_title


def dataset(x, y, xv, yv, task="regression"):
    return Dataset(x, y, xv, yv, task, 1, Features([f"x{i}" for i in range(x.shape[1])]))


def test_baseline_is_least_squares_with_a_small_ridge():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 3)) * [1.0, 10.0, 0.1] + [0.0, 5.0, -2.0]
    w = np.array([2.0, -0.3, 7.0])
    y = (x @ w + 1.5 + 0.1 * rng.normal(size=400))[:, None]
    b = linear_baseline(dataset(x[:300], y[:300], x[300:], y[300:]))
    assert b.lam == pytest.approx(RIDGE * 300) and b.n_features == 3
    assert 0.005 < b.train_mse < 0.015 and 0.005 < b.val_mse < 0.02  # the noise variance is 0.01
    # with no ridge the fit is ordinary least squares
    coef, mu, sd = fit_ridge(x[:300], y[:300], 0.0)
    ols = np.linalg.lstsq(np.c_[x[:300], np.ones(300)], y[:300], rcond=None)[0]
    assert np.allclose(coef[:-1, 0] / sd, ols[:-1, 0], rtol=1e-8)


def test_no_baseline_for_classification():
    tr = Trainer(load_preset("xor", {"training.epochs": 1}))
    assert linear_baseline(tr.data) is None


def test_a_line_cannot_fit_the_nonlinear_features_but_the_network_beats_it(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "features-relu", "--quiet", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "linear baseline (least squares, small ridge, same features and split): validation MSE" in text
    assert "the network beats it" in text
    saved = json.loads((out / "baseline.json").read_text())
    assert saved["val_mse"] > 5 * json.loads((out / "status.json").read_text())["end"]["best_val_loss"]


def test_loss_plot_labels_the_baseline_line():
    assert loss_title([], "regression", 0, baseline=0.132) == "loss · no epoch yet"
    from dltui.core.events import EpochEnded

    e = EpochEnded(epoch=1, step=1, train_loss=1.0, val_loss=0.5, train_metric=None, val_metric=None,
                   best_epoch=1, best_val_loss=0.5, patience_left=None, lr=0.01, elapsed=0.1, steps_per_second=1.0)
    assert loss_title([e], "regression", 0, baseline=0.132).endswith("linear baseline 0.132")


def test_the_dashboard_draws_the_runs_own_linear_baseline():
    """The loss plot of a regression run carries the least-squares line fitted on the run's own split
    (the value in its title); a classification run has none."""
    import asyncio

    pytest.importorskip("textual")
    from dltui.core import load_preset
    from dltui.core.experiments.baseline import linear_baseline
    from dltui.core.runs import LiveRun
    from dltui.tui.app import DltuiApp
    from dltui.tui.widgets.loss_plot import LossPlot

    async def go(name):
        run = LiveRun(load_preset(name, {"training.epochs": 2}))
        app = DltuiApp(run=run, scan_dir=None, freeze_clock=True)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            return app.screen.query_one(LossPlot).baseline, run

    got, run = asyncio.run(go("piecewise-relu"))
    assert got == pytest.approx(linear_baseline(run.data).val_mse) and got > 0
    assert asyncio.run(go("xor"))[0] is None

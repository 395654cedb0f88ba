"""Each lesson preset as shipped (NumPy backend, its own seed) has the properties its note
describes that do not depend on where one trajectory lands: step counts, early stopping's
mechanics, separable sets separated, which inputs a linear model weights. Comparisons between
presets (more units fit better, deep vs fat, ...) vary from seed to seed and from CPU to CPU;
they are the presets' [claim]s, checked on many seeds with measured room by `dltui check`
(tests/test_claims.py). The figures in the comments are measured values, for scale.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
from dltui.core import Trainer, load_preset

pytestmark = pytest.mark.slow


@functools.cache
def run(name: str):
    tr = Trainer(load_preset(name))
    return tr, tr.fit()


def best(name: str):
    tr, r = run(name)
    return tr.history[r.best_epoch - 1]


# ---------------------------------------------------------------- the lecture


def test_training_longer_does_not_help_the_linear_model():
    lin = best("features-linear").val_loss  # 0.46
    tr, r = run("features-linear")
    assert tr.history[-1].train_loss > 0.5 * lin  # training longer does not help the linear model


def test_views_linear_weights_yesterday_and_the_same_weekday_last_week_most():
    W = run("views-linear")[0].backend.get_params()[0][0][0]  # inputs day-7 ... day-1
    assert set(np.argsort(-np.abs(W))[:2].tolist()) == {0, 6}


def test_views_series_is_labelled_synthetic():
    for n in ("views-linear-1d", "views-linear", "views-linear-28d", "views-linear-56d", "views-1-layer",
              "views-2-layers", "views-3-layers", "views-4-layers"):
        spec = load_preset(n)
        assert "SYNTHETIC" in spec.values["about"]["note"] and spec.values["data"]["split"] == "time"


def test_fat_and_deep_have_the_same_parameter_count():
    counts = []
    for n in ("fat-56", "deep-8x3"):
        sizes = [1, *load_preset(n).values["model"]["hidden"], 1]
        counts.append(sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:])))
    assert counts == [169, 169]


def test_overfitting_is_caught_by_early_stopping():
    tr, r = run("overfit-early-stop")
    h = tr.history
    assert r.reason == "early_stop"
    assert r.best_epoch < 0.25 * r.epochs_run  # best 15 of 315
    at_best = h[r.best_epoch - 1]
    assert h[-1].train_loss < 0.1 * at_best.train_loss  # training keeps improving ...
    assert h[-1].val_loss > 1.05 * at_best.val_loss  # ... validation gets worse
    # the kept weights are the best epoch's, not the last ones
    val_loss, _ = tr.backend.evaluate("val")
    assert val_loss == pytest.approx(at_best.val_loss, rel=1e-5)


def test_batch_size_sets_the_updates_an_epoch():
    one, full, mini = (run(n) for n in ("batch-1", "batch-full", "batch-mini"))
    n_train = len(one[0].data.x_train)
    assert one[1].steps == 100 * n_train and full[1].steps == 100
    assert mini[1].steps == 100 * -(-n_train // 16)


# ---------------------------------------------------------------- Playground


def test_spiral_is_learned_with_the_right_features():
    assert best("spiral").val_metric > 0.9  # 0.98


def test_spiral_is_not_learned_by_a_linear_model():
    assert load_preset("spiral-linear").values["model"]["hidden"] == []
    assert max(e.val_metric for e in run("spiral-linear")[0].history) < 0.75  # 0.47


@pytest.mark.parametrize("name", ["circles", "circles-squares", "xor", "xor-product", "gauss", "moons"])
def test_playground_sets_are_separated(name):
    assert best(name).val_metric > 0.95


def test_features_replace_layers_for_circles_and_xor():
    for n in ("circles-squares", "xor-product"):
        assert load_preset(n).values["model"]["hidden"] == []


def test_noisy_gaussians_stay_imperfect():
    assert 0.6 < best("gauss-noisy").val_metric < 0.95  # 0.87


def test_l1_zeroes_first_layer_weights_and_l2_does_not():
    def zeros(name):
        W = run(name)[0].backend.get_params()[0][0]
        return float((W == 0.0).mean())

    assert zeros("spiral-l1") > 0.3  # exactly zero: 0.38-0.70 on 10 seeds
    assert zeros("spiral-l2") == 0.0
    assert best("spiral-l1").val_metric > 0.9  # still separates the spiral (0.95-1.0)


def test_weight_decay_narrows_the_overfitting_gap_on_noisy_moons():
    def gap(name):
        last = run(name)[0].history[-1]
        return last.train_metric - last.val_metric

    assert gap("moons-noisy") > 0.1  # 0.19
    assert gap("moons-noisy-l2") < gap("moons-noisy") - 0.05  # 0.04

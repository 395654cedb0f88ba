"""Each lesson preset does what its note claims, trained as shipped (NumPy backend, the
shipped seeds), checked with generous margins. The figures in the comments are the
measured values, for scale.
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


def target_variance(name: str) -> float:
    tr, _ = run(name)
    return float(np.var(tr.data.y_val))


# ---------------------------------------------------------------- the lecture


def test_more_sigmoids_fit_a_many_kink_curve_better():
    few, many = best("kinks-3-sigmoids").val_loss, best("kinks-24-sigmoids").val_loss  # 0.090, 0.0038
    assert many * 3 < few
    assert many < 0.02 * target_variance("kinks-24-sigmoids")


def test_relu_net_fits_the_piecewise_curve():
    val = best("piecewise-relu").val_loss  # 0.0026, noise variance 0.0025
    assert val < 0.01 * target_variance("piecewise-relu")
    assert val < 4 * 0.05**2


def test_two_relus_make_one_hard_sigmoid_where_one_relu_cannot():
    pair = best("relu-pair-hard-sigmoid").val_loss  # shipped seed 0.037 (10 seeds: 0.002-0.043)
    tr = Trainer(load_preset("relu-pair-hard-sigmoid", {"model.hidden": [1]}))
    r = tr.fit()
    one = tr.history[r.best_epoch - 1].val_loss  # 0.233 (10 seeds: 0.029-0.23)
    assert pair * 3 < one


def test_hard_sigmoid_units_train_worse_than_smooth_sigmoids():
    hard = best("hard-sigmoid-units").val_loss  # shipped seed 0.0156
    tr = Trainer(load_preset("hard-sigmoid-units", {"model.activation": "sigmoid"}))
    r = tr.fit()
    smooth = tr.history[r.best_epoch - 1].val_loss  # 0.0031
    assert smooth * 3 < hard


def test_smooth_curve_error_falls_as_relus_grow():
    v2, v8, v32 = (best(f"smooth-{k}-relus").val_loss for k in (2, 8, 32))  # 0.21, 0.013, 0.0064
    assert v8 * 4 < v2
    assert v32 < v8


def test_linear_model_has_model_bias_on_nonlinear_features():
    lin = best("features-linear").val_loss  # 0.46
    relu, sig = best("features-relu").val_loss, best("features-sigmoid").val_loss  # 0.024, 0.034
    assert relu * 5 < lin and sig * 5 < lin
    tr, r = run("features-linear")
    assert tr.history[-1].train_loss > 0.5 * lin  # training longer does not help the linear model


def test_views_longer_windows_help_a_linear_model():
    # shipped seed: 1 day 0.553, 7 days 0.315, 28 days 0.219, 56 days 0.228 (5 seeds: 7 < 1 and 28 < 7
    # on 5/5; 56 vs 28 only 3/5)
    v1, v7, v28 = (best(n).val_loss for n in ("views-linear-1d", "views-linear", "views-linear-28d"))
    assert v28 < v7 < v1


def test_views_linear_weights_yesterday_and_the_same_weekday_last_week_most():
    W = run("views-linear")[0].backend.get_params()[0][0][0]  # inputs day-7 ... day-1
    assert set(np.argsort(-np.abs(W))[:2].tolist()) == {0, 6}


def test_views_depth_lowers_training_loss_not_validation_loss():
    def min_train(name):
        return min(e.train_loss for e in run(name)[0].history)

    # shipped seed: min train 0.019 / 0.0037 / 8e-5 / 1.8e-4; validation 0.42 / 0.38 / 0.257 / 0.259
    assert min_train("views-3-layers") < 0.1 * min_train("views-1-layer")
    assert min_train("views-1-layer") < 0.2 * min_train("views-linear-56d")
    # on this synthetic series no ReLU net predicts the following days better than the linear model
    lin = best("views-linear-56d").val_loss  # 0.228
    for n in ("views-1-layer", "views-2-layers", "views-3-layers", "views-4-layers"):
        assert best(n).val_loss > lin


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


def test_deep_beats_fat_on_the_shipped_seed():
    # 0.0057 vs 0.064 (float64: 0.0058 vs 0.064); on other seeds a deep net sometimes gets
    # stuck, which the note says
    assert best("deep-8x3").val_loss * 3 < best("fat-56").val_loss


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


def test_batch_size_trades_updates_for_noise():
    one, full, mini = (run(n) for n in ("batch-1", "batch-full", "batch-mini"))
    n_train = len(one[0].data.x_train)
    assert one[1].steps == 100 * n_train and full[1].steps == 100
    assert mini[1].steps == 100 * -(-n_train // 16)
    # after the same 100 epochs: more updates, better fit (0.0027 < 0.016 < 0.118)
    assert best("batch-1").val_loss < best("batch-mini").val_loss < 0.5 * best("batch-full").val_loss


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

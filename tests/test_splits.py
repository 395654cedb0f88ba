"""Splits: the course's random_split reproduced with NumPy, the chronological split of a series,
a test split for generated data (reported for the best-validation weights), and the views
series that stays the same whatever the window."""

from __future__ import annotations

import numpy as np
import pytest
from dltui.core import Trainer, load_preset
from dltui.core.config.spec import SpecError
from dltui.core.data.dataset import GENERATORS, DataError, load_dataset, split_indices
from dltui.core.data.splits import split_rows, torch_randperm


def test_course_split_is_torch_random_split_with_the_course_seed():
    torch = pytest.importorskip("torch")
    tr, va = torch.utils.data.random_split(range(2699), [2160, 539],
                                           generator=torch.Generator().manual_seed(5201314))
    mine_tr, mine_va, te = split_rows(2699, 0.2, 5201314, "course")
    assert len(te) == 0
    np.testing.assert_array_equal(mine_va, np.sort(va.indices))
    np.testing.assert_array_equal(mine_tr, np.sort(tr.indices))


@pytest.mark.parametrize("n,seed", [(1, 0), (2, 3), (17, 42), (1000, 5201314), (2700, 7)])
def test_numpy_randperm_equals_torch_randperm(n, seed):
    torch = pytest.importorskip("torch")
    want = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).numpy()
    np.testing.assert_array_equal(torch_randperm(n, seed), want)


def test_course_split_sizes_follow_the_course_code():
    tr, va, _ = split_rows(2699, 0.2, 5201314, "course")
    assert (len(tr), len(va)) == (2160, 539)  # valid = int(0.2 * 2699), as the course computes it
    # the rows the issue counted: 108 in common with dltui's own NumPy shuffle
    _, own = split_indices(2699, 0.2, 5201314)
    assert len(own) == 540 and len(np.intersect1d(own, va)) < 200


def test_time_split_trains_first_then_validates_then_tests():
    tr, va, te = split_rows(100, 0.2, 1, "time", test_ratio=0.1)
    np.testing.assert_array_equal(tr, np.arange(70))
    np.testing.assert_array_equal(va, np.arange(70, 90))
    np.testing.assert_array_equal(te, np.arange(90, 100))


def test_random_split_is_unchanged_by_a_test_split():
    _, va0, _ = split_rows(300, 0.2, 9)
    tr, va, te = split_rows(300, 0.2, 9, test_ratio=0.1)
    np.testing.assert_array_equal(va, va0)
    assert len(te) == 30 and not set(te) & set(va) and not set(te) & set(tr)
    assert len(tr) + len(va) + len(te) == 300


def test_views_windows_use_the_identical_series():
    fn = GENERATORS["views"].fn
    out = {w: fn(np.random.default_rng(4), n_samples=500, window=w) for w in (1, 7, 28, 56)}
    for w, g in out.items():
        assert g.x.shape == (500, w)
        np.testing.assert_array_equal(g.y, out[56].y)  # the same target days
        np.testing.assert_array_equal(g.x, out[56].x[:, 56 - w:])  # the same days before them
    # and through the presets (the same days in training and in validation)
    sets = [load_dataset(load_preset(n, {"data.normalize": False}))
            for n in ("views-linear-1d", "views-linear", "views-linear-28d", "views-linear-56d")]
    for ds in sets:
        np.testing.assert_array_equal(ds.y_val, sets[0].y_val)
        np.testing.assert_array_equal(ds.x_train[:, -1], sets[0].x_train[:, -1])


def test_views_presets_split_by_time():
    ds = load_dataset(load_preset("views-1-layer", {"data.normalize": False}))
    assert len(ds.y_train) == 800 and len(ds.y_val) == 200
    # validation is the 200 days after the training days: its first input window ends on the last training day
    np.testing.assert_array_equal(ds.x_val[0, :-1], ds.x_train[-1, 1:])
    assert ds.x_val[0, -1] == ds.y_train[-1, 0]


def test_views_window_longer_than_history_is_refused():
    with pytest.raises(DataError, match="history"):
        load_dataset(load_preset("views-linear", {"data.window": 57}))
    ds = load_dataset(load_preset("views-linear", {"data.window": 57, "data.history": 60}))
    assert ds.x_train.shape[1] == 57


def test_test_split_reports_the_best_validation_weights():
    spec = load_preset("overfit-early-stop", {"data.test_ratio": 0.2})
    tr = Trainer(spec)
    r = tr.fit()
    assert len(tr.data.x_test) == round(0.2 * spec.values["data"]["n_samples"])
    assert r.test_loss is not None and np.isfinite(r.test_loss)
    # the test loss is that of the kept (best-validation) weights, not of the last epoch's
    assert tr.backend.evaluate("val")[0] == pytest.approx(r.best_val_loss, rel=1e-5)
    out = tr.backend.predict(tr.data.x_test)
    assert r.test_loss == pytest.approx(float(np.mean((out - tr.data.y_test) ** 2)), rel=1e-5)
    none = Trainer(load_preset("overfit-early-stop", {"training.epochs": 3})).fit()
    assert none.test_loss is None


def test_classification_test_split_has_an_accuracy():
    r = Trainer(load_preset("xor", {"data.test_ratio": 0.25, "training.epochs": 30})).fit()
    assert 0.0 <= r.test_metric <= 1.0 and r.test_loss > 0


def test_too_large_test_ratio_is_refused():
    with pytest.raises(SpecError, match="test_ratio"):
        load_preset("xor", {"data.test_ratio": 0.8})


def test_cli_summary_gives_the_test_loss(tmp_path, capsys):
    from dltui.tui.cli import main

    assert main(["train", "xor", "--set", "data.test_ratio=0.2", "--epochs", "5", "--quiet",
                 "--out", str(tmp_path / "r")]) == 0
    out = capsys.readouterr().out
    assert "test loss of the best-validation weights (epoch" in out and "accuracy" in out


@pytest.mark.slow
def test_hw01_sample_on_the_course_split_lands_near_the_notebooks_recipe(hw1_2022):
    # the course notebook's recipe scores 1.670 on these 539 rows; hw01-sample measured 1.710 here: a
    # 3000-epoch float32 run lands elsewhere on another CPU, so "near" is within 12%
    spec = load_preset("hw01-sample", {"data.path": str(hw1_2022 / "covid.train.csv")})
    tr = Trainer(spec)
    assert len(tr.data.x_val) == 539
    r = tr.fit()
    assert abs(r.best_val_loss - 1.670) < 0.12 * 1.670, r.best_val_loss

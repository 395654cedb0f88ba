"""HW1 2022 end to end: train hw01-covid headless, predict covid.test.csv, and beat ridge regression."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from dltui.core import Trainer, load_preset
from dltui.core.data.dataset import read_csv
from dltui.core.data.splits import split_rows
from dltui.tui.cli import main


def ridge_val_mse(train_csv, seed, lambdas=(0.01, 0.1, 1.0, 3.0, 10.0, 30.0)):
    """The best ridge regression on all standardised features (id dropped), on the preset's split."""
    _, v = read_csv(train_csv)
    x, y = v[:, 1:-1], v[:, -1]
    tr, va, _ = split_rows(len(v), 0.2, seed, "course")  # the presets' split
    mu, sd = x[tr].mean(0), x[tr].std(0) + 1e-12
    A = np.c_[(x[tr] - mu) / sd, np.ones(len(tr))]
    B = np.c_[(x[va] - mu) / sd, np.ones(len(va))]
    best = np.inf
    for lam in lambdas:
        reg = lam * np.diag(np.r_[np.ones(x.shape[1]), 0.0])
        w = np.linalg.solve(A.T @ A + reg, A.T @ y[tr])
        best = min(best, float(np.mean((B @ w - y[va]) ** 2)))
    return best


def test_hw01_train_then_predict_writes_a_valid_pred_csv(hw1_2022, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "hw01-covid", "--data", str(hw1_2022 / "covid.train.csv"), "--out", str(out),
                 "--every", "100"]) == 0
    assert "dltui predict" in capsys.readouterr().out
    pred = tmp_path / "pred.csv"
    assert main(["predict", str(out), "--data", str(hw1_2022 / "covid.test.csv"), "--out", str(pred)]) == 0
    rows = list(csv.reader(pred.open()))
    assert rows[0] == ["id", "tested_positive"]
    _, test = read_csv(hw1_2022 / "covid.test.csv")
    assert len(rows) - 1 == len(test) == 1078
    assert [int(r[0]) for r in rows[1:]] == [int(i) for i in test[:, 0]]
    values = np.array([float(r[1]) for r in rows[1:]])
    assert np.all(np.isfinite(values)) and 0 < values.mean() < 60 and values.std() > 1


@pytest.mark.parametrize("seed", [5201314, 1, 7])
def test_hw01_preset_matches_or_beats_ridge_on_the_same_split(hw1_2022, seed):
    train = str(hw1_2022 / "covid.train.csv")
    spec = load_preset("hw01-covid", {"data.path": train, "training.seed": seed})
    res = Trainer(spec).fit()
    ridge = ridge_val_mse(train, seed)
    # "at least match": within 3% on any split; on the course's own split it must beat ridge
    assert res.best_val_loss <= ridge * (1.0 if seed == 5201314 else 1.03), (res.best_val_loss, ridge)

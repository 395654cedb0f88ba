"""The linear baseline beside every regression run: closed-form least squares with a small ridge,
on the run's own features and split (the lecture's "model bias": does the network beat a line?).

    w = argmin ||A w - y||^2 + lam * ||w_features||^2,   A = [standardised features, 1]

The features are standardised with the training split's mean and std (as the CSV loader does),
the intercept is not penalised, and ``lam = RIDGE * n_train``: a small ridge, 1e-3 per row, enough
to keep a nearly collinear CSV (HW1's five days of the same survey) well posed. Cheap: one solve
of a (d+1)x(d+1) system. A run folder keeps it in ``baseline.json`` (``write_baseline``), which
sweeps, compare and the dashboard read back.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..runs.store.folder import RunFolder

RIDGE = 1e-3


@dataclass(frozen=True)
class Baseline:
    train_mse: float
    val_mse: float | None
    lam: float
    n_features: int

    def to_dict(self) -> dict:
        return asdict(self)


def _design(x: np.ndarray, mu: np.ndarray, sd: np.ndarray) -> np.ndarray:
    return np.c_[(x - mu) / sd, np.ones(len(x))]


def fit_ridge(x: np.ndarray, y: np.ndarray, lam: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(weights with the intercept last, feature means, feature stds) of a ridge fit; y is [n, k]."""
    x = x.astype(np.float64)
    mu, sd = x.mean(0), x.std(0)
    sd[sd < 1e-12] = 1.0
    a = _design(x, mu, sd)
    penalty = np.diag(np.r_[np.ones(a.shape[1] - 1), 0.0])
    w = np.linalg.solve(a.T @ a + lam * penalty, a.T @ y.astype(np.float64))
    return w, mu, sd


def mse(x: np.ndarray, y: np.ndarray, fit) -> float:
    w, mu, sd = fit
    return float(np.mean((_design(x.astype(np.float64), mu, sd) @ w - y) ** 2))


def linear_baseline(data, ridge: float = RIDGE) -> Baseline | None:
    """The baseline for a regression Dataset (None for classification or an empty training split)."""
    if data.task != "regression" or len(data.x_train) == 0:
        return None
    yt = data.y_train.reshape(len(data.y_train), -1)
    lam = ridge * len(yt)
    fit = fit_ridge(data.x_train, yt, lam)
    val = None
    if len(data.x_val):
        val = mse(data.x_val, data.y_val.reshape(len(data.y_val), -1), fit)
    return Baseline(mse(data.x_train, yt, fit), val, lam, data.n_features)


def describe(b: Baseline) -> str:
    val = f"validation MSE {b.val_mse:.4g}, " if b.val_mse is not None else ""
    return (f"linear baseline (least squares, ridge {b.lam:.3g}, same {b.n_features} features and split): "
            f"{val}training MSE {b.train_mse:.4g}")


def write_baseline(out_dir: str | Path, data) -> dict:
    """The linear baseline of a regression run, saved beside its metrics (the run folder's baseline.json);
    {} for classification."""
    b = linear_baseline(data)
    if b is None:
        return {}
    RunFolder(out_dir).write_baseline(b.to_dict())
    return {"baseline_val_loss": b.val_mse, "baseline_train_loss": b.train_mse}


def read_baseline(out_dir: str | Path) -> dict:
    b = RunFolder(out_dir).read_baseline()
    return {"baseline_val_loss": b.get("val_mse"), "baseline_train_loss": b.get("train_mse")} if b else {}


def run_baseline(data, write_to: str = "", read_from: str = "") -> float | None:
    """A regression run's linear baseline (validation MSE): read from ``read_from`` (a run folder being
    watched) when saved there, else computed - and saved in ``write_to`` (the folder the run writes)."""
    if read_from and (saved := read_baseline(read_from).get("baseline_val_loss")) is not None:
        return saved
    if write_to:
        return write_baseline(write_to, data).get("baseline_val_loss")
    b = linear_baseline(data) if data is not None else None
    return b.val_mse if b else None

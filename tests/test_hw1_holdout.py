"""benchmarks/hw1_holdout.py, the HW1 hidden hold-out protocol: the held-out rows never reach the
training file, the ridge bar picks its lambda by cross-validation, and one split end to end through
`dltui train` + `dltui predict` (skipped without the course data)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"


def _module():
    spec = importlib.util.spec_from_file_location("hw1_holdout", ROOT / "benchmarks" / "hw1_holdout.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["hw1_holdout"] = mod
    spec.loader.exec_module(mod)
    return mod


H = _module()


def _fake_edition(folder: Path, rows: int = 50) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, 3))
    y = x @ [1.0, -2.0, 0.5] + 0.1 * rng.normal(size=rows)
    lines = ["id,a,b,c,tested_positive"] + [f"{i},{a:.6f},{b:.6f},{c:.6f},{t:.6f}"
                                             for i, ((a, b, c), t) in enumerate(zip(x, y))]
    (folder / "hw01_2022").mkdir(parents=True)
    (folder / "hw01_2022" / "covid.train.csv").write_text("\n".join(lines) + "\n")


def test_the_held_out_rows_are_never_in_the_training_file(tmp_path, monkeypatch):
    _fake_edition(tmp_path / "data")
    monkeypatch.setattr(H, "DATA", tmp_path / "data")
    folder, rest, hold = H.split_files("2022", 1000, 0.2, tmp_path / "out")
    assert len(hold) == 10 and len(rest) == 40
    assert not set(hold) & set(rest)
    written = (folder / "REST.csv").read_text().splitlines()
    assert written[0].startswith("id,") and set(written[1:]) == set(rest)
    assert set((folder / "HOLD.csv").read_text().splitlines()[1:]) == set(hold)
    # another seed holds out other rows; the same seed the same ones
    assert H.split_files("2022", 1001, 0.2, tmp_path / "b")[2] != hold
    assert H.split_files("2022", 1000, 0.2, tmp_path / "c")[2] == hold


def test_ridge_cv_chooses_a_small_lambda_for_linear_data_and_a_large_one_for_noise():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 5))
    lam_signal = H.ridge_cv(x, x @ np.arange(1.0, 6.0) + 0.01 * rng.normal(size=200), seed=0)
    lam_noise = H.ridge_cv(x, rng.normal(size=200), seed=0)
    assert lam_signal < 0.01 < lam_noise
    # lambda 0 is least squares
    y = x @ np.arange(1.0, 6.0) + 3.0
    np.testing.assert_allclose(H.fit(x, y, 0.0)(x), y, atol=1e-9)


@pytest.mark.slow
@pytest.mark.skipif(not (DATA / "hw01_2022" / "covid.train.csv").exists(), reason=f"no HW1 data at {DATA}")
def test_one_split_end_to_end_through_the_cli(capsys):
    rc = H.main(["--editions", "2022", "--splits", "1", "--presets", "hw01-strong", "--epochs", "300"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "2022 split 1000 | ridge" in out and "hw01-strong" in out and "better on" in out
    row = out.splitlines()[0]
    ridge = float(row.split("ridge ")[1].split()[0])
    strong = float(row.split("hw01-strong ")[1].split()[0])
    assert 0.5 < ridge < 2.0 and 0.5 < strong < 3.0  # a real fit, not predicting the mean (variance ~41)

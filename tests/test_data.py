from __future__ import annotations

import numpy as np
import pytest
from dltui.core import load_preset
from dltui.core.data.dataset import (
    GENERATORS,
    DataError,
    batches,
    load_dataset,
    read_csv,
    read_features_for_predict,
    split_indices,
)
from dltui.tui.cli import main

CSV = "id,a,b,tp,a,b,tp\n" + "\n".join(f"{i},{i % 7},{(i * 3) % 5},{i % 4},{i % 6},{i % 2},{i * 0.5 % 9}"
                                       for i in range(60)) + "\n"


def csv_spec(tmp_path, text=CSV, **over):
    f = tmp_path / "d.csv"
    f.write_text(text)
    base = {"data.path": str(f), "data.target": "tp", "data.n_columns": [], "data.split": "random"}
    base.update(over)
    return load_preset("hw01-covid", base)


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_generators_are_seeded_and_shaped(name):
    task = GENERATORS[name].task
    loss = "cross_entropy" if task == "classification" else "mse"
    spec = load_preset("xor", {"data.kind": name, "loss.name": loss})
    a, b = load_dataset(spec), load_dataset(spec)
    assert np.array_equal(a.x_train, b.x_train) and np.array_equal(a.y_train, b.y_train)
    c = load_dataset(spec.with_overrides({"data.seed": 9}))
    assert not np.array_equal(a.x_train, c.x_train)
    assert len(a.x_train) + len(a.x_val) == spec.values["data"]["n_samples"]
    if task == "classification":
        assert set(np.unique(a.y_train)) == {0, 1}


def test_playground_inputs_expand_features():
    spec = load_preset("xor", {"data.inputs": ["x1", "x2", "x1*x2", "sin(x1)"]})
    d = load_dataset(spec)
    assert d.x_train.shape[1] == 4
    raw = d.raw_train
    assert np.allclose(d.x_train[:, 2], raw[:, 0] * raw[:, 1], atol=1e-4)
    assert np.allclose(d.x_train[:, 3], np.sin(raw[:, 0]), atol=1e-5)


def test_split_is_by_ratio_and_seed():
    tr, va = split_indices(100, 0.2, 5)
    assert len(va) == 20 and len(tr) == 80 and not set(tr) & set(va)
    assert np.array_equal(split_indices(100, 0.2, 5)[1], va)
    assert not np.array_equal(split_indices(100, 0.2, 6)[1], va)
    assert batches(100, 32) == 4 and batches(100, 0) == 1 and batches(96, 32) == 3


def test_csv_selection_by_name_pattern_index_and_repeated_names(tmp_path):
    d = load_dataset(csv_spec(tmp_path, **{"data.features": ["tp"], "data.top_k": 0}))
    # 'tp' occurs twice; the target is its last occurrence, so only the first is a feature
    assert d.features.names == ["tp"] and d.features.columns == [["tp", 0]]
    d = load_dataset(csv_spec(tmp_path, **{"data.features": ["a*", "2"], "data.top_k": 0}))
    assert d.features.columns == [["a", 0], ["a", 1], ["b", 0]]
    d = load_dataset(csv_spec(tmp_path, **{"data.features": "all", "data.top_k": 0}))
    assert "id" not in d.features.names and len(d.features.names) == 5


def test_top_k_and_normalisation_fit_on_training_rows_only(tmp_path):
    spec = csv_spec(tmp_path, **{"data.features": "all", "data.top_k": 2})
    d = load_dataset(spec)
    assert len(d.features.names) == 2
    h, v = read_csv(spec.values["data"]["path"])
    tr, _ = split_indices(len(v), 0.2, spec.values["training"]["seed"])
    cols = [i for i, k in enumerate([["id", 0], ["a", 0], ["b", 0], ["tp", 0], ["a", 1], ["b", 1]])
            if k in d.features.columns]
    assert np.allclose(d.features.mean, v[tr][:, cols].mean(0))
    assert np.allclose(d.x_train.mean(0), 0, atol=1e-5) and np.allclose(d.x_train.std(0), 1, atol=1e-3)
    # predict encodes new rows with the training statistics
    ids, x = read_features_for_predict(spec.values["data"]["path"], d.features)
    assert np.allclose(x[tr], d.x_train, atol=1e-5)


@pytest.mark.parametrize("text, expect", [
    ("", "empty"),
    ("id,a,tp\n", "no data rows"),
    ("id,a,tp\n1,2,3\n4,,6\n", "line 3, column 'a' (#1) is empty"),
    ("id,a,tp\n1,2,3\n4,five,6\n", "line 3, column 'a' (#1) = 'five' is not a number"),
    ("id,a,tp\n1,2,3\n4,5\n", "line 3 has 2 cells"),
    ("id,a,tp\n1,nan,3\n", "missing or infinite"),
])
def test_broken_csv_messages(tmp_path, capsys, text, expect):
    spec = csv_spec(tmp_path, text=text, **{"data.features": "all", "data.top_k": 0})
    with pytest.raises(DataError) as e:
        load_dataset(spec)
    assert expect in str(e.value)
    code = main(["train", "hw01-covid", "--data", str(tmp_path / "d.csv"), "--set", "data.target=tp",
                 "--set", "data.n_columns=[]", "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 2 and expect in err and "Traceback" not in err


@pytest.mark.parametrize("over, expect", [
    ({"data.features": ["nosuch"]}, "feature 'nosuch' matches no column"),
    ({"data.target": "nosuch"}, "no target column named 'nosuch'"),
    ({"data.features": ["99"]}, "out of range"),
])
def test_wrong_columns(tmp_path, over, expect):
    with pytest.raises(DataError, match=expect):
        load_dataset(csv_spec(tmp_path, **over))


def test_missing_data_says_what_file_is_needed(capsys, tmp_path):
    code = main(["train", "hw01-covid", "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 2 and "--data" in err and "covid.train.csv" in err
    code = main(["train", "hw01-covid", "--data", str(tmp_path / "missing.csv")])
    assert code == 2 and "no such file" in capsys.readouterr().err


def test_predict_needs_the_training_columns(tmp_path, capsys):
    spec = csv_spec(tmp_path, **{"data.features": "all", "data.top_k": 0, "training.epochs": 2})
    from dltui.core import Trainer

    Trainer(spec, out_dir=tmp_path / "run").fit()
    (tmp_path / "t.csv").write_text("id,a,b\n1,2,3\n")
    code = main(["predict", str(tmp_path / "run"), "--data", str(tmp_path / "t.csv")])
    err = capsys.readouterr().err
    assert code == 2 and "lacks" in err and "'tp'" in err and "Traceback" not in err


def test_text_columns_are_fine_when_not_used(tmp_path, capsys):
    text = "name,a,b,y\n" + "\n".join(f"p{i},{i % 5},{(i * 7) % 3},{i % 5 + 0.5 * (i % 3)}" for i in range(40))
    f = tmp_path / "people.csv"
    f.write_text(text + "\n")
    spec = load_preset("csv-regression", {"data.path": str(f), "data.target": "y", "data.drop": ["name"],
                                          "data.id_column": "name", "training.epochs": 2})
    from dltui.core import Trainer

    Trainer(spec, out_dir=tmp_path / "run").fit()
    assert main(["predict", str(tmp_path / "run"), "--data", str(f), "--out", str(tmp_path / "p.csv")]) == 0
    lines = (tmp_path / "p.csv").read_text().splitlines()
    assert lines[0] == "name,y" and lines[1].startswith("p0,") and len(lines) == 41
    # used as a feature, the text column gets advice, not "fix that row"
    with pytest.raises(DataError, match="holds text.*add 'name' to \\[data\\] drop"):
        load_dataset(spec.with_overrides({"data.drop": []}))


@pytest.mark.parametrize("over, expect", [
    ({"data.n_samples": 0}, "n_samples = 0"),
    ({"data.n_samples": 3}, "n_samples = 3"),
    ({"data.kind": "piecewise", "loss.name": "mse", "data.x_min": 1.0, "data.x_max": 1.0}, "x_max"),
    ({"data.kind": "regression", "loss.name": "mse", "data.n_features": 0}, "n_features"),
    ({"data.inputs": []}, "no input"),
    ({"data.n_samples": 4, "data.valid_ratio": 0.9}, "fewer than two classes"),
])
def test_impossible_generator_settings_are_input_errors(capsys, tmp_path, over, expect):
    sets = []
    for k, v in over.items():
        sets += ["--set", f"{k}={v!r}".replace("'", '"') if isinstance(v, str) else f"{k}={v}"]
    code = main(["train", "xor", *sets, "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 2 and expect in err and "Traceback" not in err

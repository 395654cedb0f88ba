"""`dltui export PRESET --torch`: a standalone PyTorch script in the course's code shape that runs
on the CPU and reaches a validation loss within 10% of `dltui train --backend torch`."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from dltui.core import Trainer, load_preset
from dltui.tui.cli import main


def export(tmp_path, *args):
    return main(["export", *args, "--torch", "--out", str(tmp_path / "script.py")])


def run_script(path):
    env = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": "",
           "PATH": "/usr/bin:/bin"}
    p = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=600, env=env,
                       cwd=path.parent)
    assert p.returncode == 0, p.stderr[-2000:]
    return p.stdout


def test_the_script_has_the_course_shape(tmp_path, capsys):
    assert export(tmp_path, "spiral-l1", "--set", "data.test_ratio=0.2") == 0
    text = (tmp_path / "script.py").read_text()
    for part in ("class PresetDataset(Dataset)", "DataLoader(", "class My_Model(nn.Module)", "def trainer(",
                 "torch.no_grad()", "early_stop_count", "torch.save(model.state_dict()", "load_state_dict(",
                 "def same_seed(", "nn.Tanh()", "torch.optim.Adam(", "nn.CrossEntropyLoss()"):
        assert part in text, part
    rows = (tmp_path / "script.data.csv").read_text().splitlines()
    assert rows[0].split(",")[-2:] == ["target", "split"] and len(rows[0].split(",")) == 7 + 2
    assert {r.split(",")[-1] for r in rows[1:]} == {"train", "valid", "test"}
    compile(text, "script.py", "exec")
    assert "wrote" in capsys.readouterr().out


def test_export_refuses_without_a_format_or_over_a_file(tmp_path, capsys):
    assert main(["export", "xor", "--out", str(tmp_path / "a.py")]) == 2
    assert "--torch" in capsys.readouterr().err
    (tmp_path / "script.py").write_text("mine")
    assert export(tmp_path, "xor") == 2
    err = capsys.readouterr().err
    assert "--overwrite" in err and "Traceback" not in err
    assert (tmp_path / "script.py").read_text() == "mine"
    assert main(["export", "xor", "--torch", "--out", str(tmp_path / "a.txt")]) == 2
    assert ".py" in capsys.readouterr().err


@pytest.mark.slow
def test_exported_script_trains_as_the_torch_backend_does(tmp_path):
    pytest.importorskip("torch")
    assert export(tmp_path, "piecewise-relu") == 0
    out = run_script(tmp_path / "script.py")
    script_loss = float(re.search(r"best valid loss: ([0-9.eE+-]+)", out).group(1))
    assert (tmp_path / "models" / "piecewise-relu.ckpt").exists()
    spec = load_preset("piecewise-relu", {"training.backend": "torch", "training.device": "cpu"})
    dltui_loss = Trainer(spec).fit().best_val_loss  # 0.00256; the script 0.00252
    assert abs(script_loss - dltui_loss) < 0.10 * dltui_loss, (script_loss, dltui_loss)


@pytest.mark.slow
def test_exported_classifier_with_l1_and_a_test_split_runs(tmp_path):
    pytest.importorskip("torch")
    assert export(tmp_path, "spiral-l1", "--set", "data.test_ratio=0.2", "--epochs", "40") == 0
    out = run_script(tmp_path / "script.py")
    acc = float(re.search(r"accuracy ([0-9.]+)", out).group(1))
    assert acc > 0.6 and "test loss of the best weights" in out


def _load_module(path):
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"exported_{path.stem}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("split,split_seed", [("course", -1), ("random", -1), ("time", -1), ("course", 3),
                                              ("random", 3)])
def test_a_csv_presets_script_reads_its_file_into_dltuis_rows(tmp_path, split, split_seed, capsys):
    pytest.importorskip("torch")
    import numpy as np
    from dltui.core.data.dataset import load_dataset
    from test_presets import hw1_like_csv

    train = hw1_like_csv(tmp_path / "covid.train.csv", rows=150)
    over = ["--set", f"data.split={split}", "--set", "data.test_ratio=0.1", "--set", f"data.split_seed={split_seed}"]
    assert main(["export", "hw01-strong", "--data", str(train), *over, "--torch",
                 "--out", str(tmp_path / "s.py")]) == 0
    assert "reading" in capsys.readouterr().out and not (tmp_path / "s.data.csv").exists()
    mod = _load_module(tmp_path / "s.py")
    names, splits, _ = mod.load_data(mod.config)
    ds = load_dataset(load_preset("hw01-strong", {"data.path": str(train), "data.split": split,
                                                  "data.test_ratio": 0.1, "training.dtype": "float64",
                                                  "data.split_seed": split_seed}))
    assert names == ds.features.names
    for key, x, y in (("train", ds.x_train, ds.y_train), ("valid", ds.x_val, ds.y_val),
                      ("test", ds.x_test, ds.y_test)):
        np.testing.assert_allclose(splits[key][0], x, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(splits[key][1], y[:, 0], rtol=1e-12)


def test_a_generated_presets_script_reads_dltuis_rows(tmp_path):
    pytest.importorskip("torch")
    import numpy as np
    from dltui.core.data.dataset import load_dataset

    assert export(tmp_path, "views-linear-28d", "--set", "data.test_ratio=0.1") == 0
    mod = _load_module(tmp_path / "script.py")
    names, splits, _ = mod.load_data(mod.config)
    ds = load_dataset(load_preset("views-linear-28d", {"data.test_ratio": 0.1}))
    assert names == ds.features.names and len(names) == 28
    np.testing.assert_allclose(splits["valid"][0], ds.x_val, rtol=1e-6)
    np.testing.assert_allclose(splits["test"][1], ds.y_test[:, 0], rtol=1e-6)


def test_a_csv_presets_script_encodes_the_rows_to_predict_as_dltui_does(tmp_path, capsys):
    pytest.importorskip("torch")
    import numpy as np
    from dltui.core.data.dataset import load_dataset, read_features_for_predict
    from test_presets import hw1_like_csv

    train = hw1_like_csv(tmp_path / "covid.train.csv", rows=150)
    test = hw1_like_csv(tmp_path / "covid.test.csv", rows=20, target=False, seed=3)
    assert main(["export", "hw01-boss", "--data", str(train), "--test", str(test), "--torch",
                 "--out", str(tmp_path / "s.py")]) == 0
    mod = _load_module(tmp_path / "s.py")
    _, _, norm = mod.load_data(mod.config)
    ids, x = mod.load_test(mod.config, norm)
    ds = load_dataset(load_preset("hw01-boss", {"data.path": str(train), "training.dtype": "float64"}))
    want_ids, want_x = read_features_for_predict(str(test), ds.features)
    assert ids == want_ids
    np.testing.assert_allclose(x, want_x, rtol=1e-9, atol=1e-9)
    # a generated preset has nothing to predict; a file without the model's columns is refused
    capsys.readouterr()
    assert main(["export", "xor", "--test", str(test), "--torch", "--out", str(tmp_path / "x.py")]) == 2
    assert "CSV preset" in capsys.readouterr().err
    other = hw1_like_csv(tmp_path / "other.csv", year=2021, rows=5, target=False)
    assert main(["export", "hw01-boss", "--data", str(train), "--test", str(other), "--torch",
                 "--out", str(tmp_path / "y.py")]) == 2
    assert "lacks" in capsys.readouterr().err


@pytest.mark.slow
def test_the_hw1_script_writes_pred_csv_for_the_real_test_file(tmp_path, hw1_2022):
    pytest.importorskip("torch")
    assert main(["export", "hw01-boss", "--data", str(hw1_2022 / "covid.train.csv"), "--test",
                 str(hw1_2022 / "covid.test.csv"), "--epochs", "20", "--torch",
                 "--out", str(tmp_path / "hw1.py")]) == 0
    out = run_script(tmp_path / "hw1.py")
    assert "wrote 1078 predictions" in out
    rows = (tmp_path / "pred.csv").read_text().splitlines()
    assert rows[0] == "id,tested_positive" and len(rows) == 1079
    assert rows[1].split(",")[0] == "0" and 0 < float(rows[1].split(",")[1]) < 60

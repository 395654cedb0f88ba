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

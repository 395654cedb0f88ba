"""Bad presets and bad --set values: one clear paragraph, exit code 2, no traceback."""

from __future__ import annotations

import pytest
from dltui.core.config.spec import SpecError, load_preset, shipped_presets
from dltui.tui.cli import main

GOOD = """
[data]
kind = "piecewise"
[model]
hidden = [4]
[training]
epochs = 2
"""


def run_cli(capsys, *argv):
    code = main(list(argv))
    cap = capsys.readouterr()
    return code, cap.out, cap.err


@pytest.mark.parametrize("text, expect", [
    ("[data]\nkind = 'piecewise'\n[model]\nhidden = [4, -1]\n", ["[model] hidden", "[4, -1]", "whole numbers"]),
    ("[data]\nkind = 'nosuch'\n", ["[data] kind", "nosuch", "piecewise"]),
    ("[data]\nkind = 'piecewise'\n[optimizer]\nname = 'rmsprop'\n", ["[optimizer] name", "rmsprop", "adam"]),
    ("[data]\nkind = 'piecewise'\n[training]\nepochs = 0\n", ["[training] epochs = 0", "between 1 and 10000000"]),
    ("[data]\nkind = 'piecewise'\n[trainig]\nepochs = 3\n", ["unknown section", "trainig", "training"]),
    ("[data]\nkind = 'piecewise'\nkinkz = 3\n", ["kinkz", "kinks"]),
    ("[data]\nkind = 'piecewise'\n[model]\nhidden = [4, 4]\nactivation = ['relu']\n", ["activation", "2 hidden"]),
    ("[data]\nkind = 'piecewise'\n[training]\ndevice = 'gpu'\n", ["device", "'gpu'", "cuda"]),
    ("[model]\nhidden = [4]\n", ["[data] kind is missing"]),
    ("this is = = not toml", ["not valid TOML"]),
])
def test_bad_preset_files(tmp_path, capsys, text, expect):
    f = tmp_path / "mine.toml"
    f.write_text(text)
    with pytest.raises(SpecError) as e:
        load_preset(f)
    for part in expect:
        assert part in str(e.value)
    assert str(f) in str(e.value)
    code, out, err = run_cli(capsys, "train", str(f), "--out", str(tmp_path / "run"))
    assert code == 2
    assert "Traceback" not in err and err.startswith("dltui: error:") and err.count("\n") == 1


@pytest.mark.parametrize("setting, expect", [
    ("optimizer.lr=fast", ["--set optimizer.lr", "[optimizer] lr = 'fast'", "a number"]),
    ("training.batch_size=-3", ["batch_size", "-3", ">= 0"]),
    ("model.activation=swish", ["activation", "swish", "sigmoid"]),
    ("training.epochs", ["section.key=value"]),
    ("lr=0.1", ["section.key"]),
    ("optimiser.lr=0.1", ["unknown section", "optimizer"]),
    ("model.hiden=[3]", ["hiden", "hidden"]),
])
def test_bad_set_values(tmp_path, capsys, setting, expect):
    code, out, err = run_cli(capsys, "train", "piecewise-relu", "--set", setting, "--out", str(tmp_path / "r"))
    assert code == 2
    for part in expect:
        assert part in err
    assert "Traceback" not in err
    assert not (tmp_path / "r").exists()


def test_set_overrides_apply(tmp_path):
    spec = load_preset("xor", ["optimizer.lr=0.5", "model.hidden=[3, 2]", "model.activation=tanh",
                               "training.dtype=float64"])
    assert spec.optimizer.lr == 0.5 and spec.model.hidden == [3, 2] and spec.activations == ["tanh", "tanh"]
    # the resolved preset round-trips through TOML
    f = tmp_path / "resolved.toml"
    f.write_text(spec.to_toml())
    assert load_preset(f).values == spec.values


def test_unknown_preset_name_suggests(capsys):
    code, out, err = run_cli(capsys, "train", "piecewise-sigmod")
    assert code == 2 and "piecewise-sigmoid" in err


def test_every_shipped_preset_validates():
    assert len(shipped_presets()) >= 4
    for name in shipped_presets():
        assert load_preset(name).values["about"]["title"]


def test_list_groups_by_topic(capsys):
    code, out, err = run_cli(capsys, "list")
    assert code == 0
    assert out.index("From the lecture") < out.index("piecewise-sigmoid")
    assert "hw01-covid" in out and "HW1" in out

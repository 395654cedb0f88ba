"""Each seed settable: ``data.split_seed`` (the train/validation/test split) and
``training.init_seed`` (the initial weights) apart from ``training.seed`` (the shuffles), each
following ``training.seed`` by default so every existing run stays bit-identical."""

from __future__ import annotations

import json

import numpy as np
import pytest
from dltui.core import Trainer, load_preset
from dltui.core.backends.base import initial_params, layer_sizes
from dltui.core.config.spec import SpecError
from dltui.core.data.dataset import load_dataset
from dltui.core.data.splits import init_seed, split_rows, split_seed
from dltui.core.engine.nn import init_params
from dltui.core.experiments.compare import differing, differing_line, load_targets
from dltui.core.experiments.sweep import finished_summary, plan, run_tasks, trained_part
from dltui.tui.cli import main

SMALL = {"training.epochs": 15, "training.dtype": "float64", "training.patience": 0}


def _run(preset, overrides, tmp_path, name):
    tr = Trainer(load_preset(preset, {**SMALL, **overrides}), out_dir=str(tmp_path / name))
    tr.fit()
    return [(r.train_loss, r.val_loss) for r in tr.history], tr.backend.get_params()


def test_the_new_seeds_default_to_training_seed():
    v = load_preset("xor", {"training.seed": 7}).values
    assert v["data"]["split_seed"] == -1 and v["training"]["init_seed"] == -1
    assert split_seed(v) == 7 and init_seed(v) == 7
    v = load_preset("xor", {"training.seed": 7, "data.split_seed": 3, "training.init_seed": 0}).values
    assert split_seed(v) == 3 and init_seed(v) == 0


@pytest.mark.parametrize("preset", ["piecewise-relu", "moons"])
def test_default_split_and_init_are_the_ones_training_seed_drew_before(preset):
    """The old code: split_rows(..., training.seed) and init_params(..., training.seed)."""
    spec = load_preset(preset, {"training.seed": 5})
    d = load_dataset(spec)
    n = len(d.x_train) + len(d.x_val)
    tr, va, _ = split_rows(n, spec.values["data"]["valid_ratio"], 5, spec.values["data"]["split"])
    assert len(tr) == len(d.x_train) and len(va) == len(d.x_val)
    m = spec.values["model"]
    old = init_params(layer_sizes(spec, d.n_features, d.n_outputs), m["init"], m["init_scale"], 5)
    for (w0, b0), (w1, b1) in zip(old, initial_params(spec, d.n_features, d.n_outputs)):
        assert np.array_equal(w0, w1) and np.array_equal(b0, b1)


def test_a_run_with_the_seeds_set_to_training_seed_is_bit_identical(tmp_path):
    a_loss, a_params = _run("piecewise-relu", {"training.seed": 4}, tmp_path, "a")
    b_loss, b_params = _run("piecewise-relu", {"training.seed": 4, "data.split_seed": 4,
                                               "training.init_seed": 4}, tmp_path, "b")
    assert a_loss == b_loss
    for (w0, b0), (w1, b1) in zip(a_params, b_params):
        assert np.array_equal(w0, w1) and np.array_equal(b0, b1)


def test_split_seed_moves_only_the_split_and_init_seed_only_the_weights():
    base = load_preset("moons", {"training.seed": 1})
    d0 = load_dataset(base)
    split = load_preset("moons", {"training.seed": 1, "data.split_seed": 2})
    d1 = load_dataset(split)
    assert not np.array_equal(d0.x_val, d1.x_val)  # another split of the same data
    rows = lambda d: {tuple(r) for r in np.vstack([d.x_train, d.x_val]).round(12)}  # noqa: E731
    assert rows(d0) == rows(d1)
    w_base = initial_params(base, d0.n_features, d0.n_outputs)
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(w_base, initial_params(split, d0.n_features, 2)))
    init = load_preset("moons", {"training.seed": 1, "training.init_seed": 2})
    assert np.array_equal(load_dataset(init).x_val, d0.x_val)
    assert not np.array_equal(initial_params(init, d0.n_features, 2)[0][0], w_base[0][0])


def test_csv_split_follows_split_seed(tmp_path):
    p = tmp_path / "t.csv"
    rng = np.random.default_rng(0)
    rows = ["id,a,b,y"] + [f"{i},{rng.normal():.4f},{rng.normal():.4f},{rng.normal():.4f}" for i in range(50)]
    p.write_text("\n".join(rows) + "\n")
    va = [load_dataset(load_preset("csv-regression", {"data.path": str(p), **o})).x_val
          for o in ({"training.seed": 1}, {"training.seed": 9, "data.split_seed": 1}, {"data.split_seed": 2})]
    assert np.array_equal(va[0], va[1]) and not np.array_equal(va[0], va[2])


@pytest.mark.parametrize("key,value", [("data.split_seed", -2), ("training.init_seed", 2**32),
                                       ("training.init_seed", "x")])
def test_bad_seed_values_are_clear_errors(key, value):
    with pytest.raises(SpecError, match=rf"\[{key.split('.')[0]}\] {key.split('.')[1]} = .* is not allowed"):
        load_preset("xor", {key: value})


def test_cli_set_accepts_the_seeds_and_refuses_bad_ones(tmp_path, capsys):
    assert main(["train", "xor", "--set", "data.split_seed=-5", "--out", str(tmp_path / "r")]) == 2
    assert "split_seed = -5 is not allowed" in capsys.readouterr().err
    assert main(["train", "xor", "--epochs", "2", "--set", "data.split_seed=3", "--set", "training.init_seed=4",
                 "--out", str(tmp_path / "r")]) == 0
    saved = load_preset(str(tmp_path / "r" / "preset.toml")).values
    assert saved["data"]["split_seed"] == 3 and saved["training"]["init_seed"] == 4


def test_a_run_saved_before_the_seed_keys_is_still_reused(tmp_path):
    tasks = plan("piecewise-relu", [], [1], tmp_path, {"training.epochs": 5})
    run_tasks(tasks, None)
    preset = tmp_path / "r0-s1" / "preset.toml"
    text = preset.read_text()
    assert "split_seed = -1" in text and "init_seed = -1" in text
    old = "\n".join(line for line in text.splitlines() if not line.startswith(("split_seed", "init_seed")))
    preset.write_text(old)  # as an older dltui wrote it
    assert trained_part(old) == trained_part(text)
    assert finished_summary(tasks[0].out_dir, text) is not None
    assert run_tasks(tasks, None)[0]["reused"]


@pytest.mark.parametrize("key,same,moved", [("data.split_seed", "init", "split"),
                                            ("training.init_seed", "split", "init")])
def test_sweep_seed_keys_set_one_seed_and_compare_names_it(key, same, moved, tmp_path, capsys):
    out = tmp_path / "sw"
    assert main(["sweep", "moons", "--seeds", "2", "--epochs", "3", "--jobs", "1", "--seed-keys", key,
                 "--out", str(out), "--json"]) == 0
    capsys.readouterr()
    specs = [load_preset(str(out / f"r0-s{s}" / "preset.toml")) for s in (1, 2)]
    data = [load_dataset(s) for s in specs]
    splits_equal = np.array_equal(data[0].x_val, data[1].x_val)
    inits = [initial_params(s, 2, 2)[0][0] for s in specs]
    assert splits_equal == (same == "split") and np.array_equal(*inits) == (same == "init")
    assert {s.values["training"]["seed"] for s in specs} == {load_preset("moons").values["training"]["seed"]}
    diff = differing(load_targets([str(out)]))
    assert list(diff) == [key]
    assert differing_line(diff).startswith(f"{key.split('.')[1]} 1 | 2")
    assert json.loads((out / "sweep.json").read_text())["seed_keys"] == [key]


def test_torch_backend_takes_the_same_split_and_init_seeds(tmp_path):
    pytest.importorskip("torch")
    over = {"training.seed": 1, "data.split_seed": 6, "training.init_seed": 8}
    runs = {}
    for be in ("numpy", "torch"):
        tr = Trainer(load_preset("piecewise-relu", {**SMALL, **over, "training.backend": be,
                                                    "training.device": "cpu"}), out_dir=str(tmp_path / be))
        first = [p.copy() for pair in tr.backend.get_params() for p in pair]
        runs[be] = (tr.data.x_val, first, tr.fit().best_val_loss)
    assert np.array_equal(runs["numpy"][0], runs["torch"][0])
    assert all(np.array_equal(a, b) for a, b in zip(runs["numpy"][1], runs["torch"][1]))
    assert runs["numpy"][2] == pytest.approx(runs["torch"][2], rel=1e-9)
    default = load_preset("piecewise-relu", {**SMALL, "training.seed": 1})
    assert not np.array_equal(initial_params(default, 1, 1)[0][0], runs["numpy"][1][0])


def test_the_preset_editor_validates_the_seed_keys_as_the_cli_does():
    from dltui.tui.screens.preset_edit import PresetEdit

    ed = PresetEdit(load_preset("moons"))
    assert not ed._edit(lambda v: v["data"].__setitem__("split_seed", -7))
    assert "[data] split_seed = -7 is not allowed" in ed.error and ed.values["data"]["split_seed"] == -1
    assert ed._edit(lambda v: v["training"].__setitem__("init_seed", 9))
    assert ed.check().values["training"]["init_seed"] == 9 and init_seed(ed.check().values) == 9

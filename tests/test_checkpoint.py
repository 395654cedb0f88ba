from __future__ import annotations

import numpy as np
import pytest
from dltui.core import Trainer, load_preset
from dltui.core.runs.store.checkpoint import CheckpointError, dumps_safetensors, load_checkpoint, save_checkpoint
from dltui.tui.cli import main
from dltui.tui.commands.predict_cmd import load_model


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    spec = load_preset("xor", {"training.epochs": 5})
    trainer = Trainer(spec, out_dir=out)
    trainer.fit()
    return out, trainer


def test_saved_then_loaded_model_predicts_identically(run_dir):
    out, trainer = run_dir
    backend, meta = load_model(out)
    x = trainer.data.x_val
    assert np.array_equal(backend.predict(x), trainer.backend.predict(x))
    assert meta["epoch"] == trainer.best_epoch
    assert meta["features"]["names"] == ["x1", "x2"]


def test_roundtrip_keeps_dtype_shapes_and_metadata(tmp_path):
    params = [(np.arange(6, dtype=np.float64).reshape(2, 3), np.array([1.0, -2.0])),
              (np.ones((1, 2), np.float32), np.zeros(1, np.float32))]
    save_checkpoint(tmp_path / "c.safetensors", params, {"epoch": 3, "note": "é"})
    back, meta = load_checkpoint(tmp_path / "c.safetensors")
    assert meta == {"epoch": 3, "note": "é"}
    for (W, b), (W2, b2) in zip(params, back):
        assert W2.dtype == W.dtype and np.array_equal(W, W2) and np.array_equal(b, b2)


def test_file_is_real_safetensors(tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    params = [(np.random.default_rng(0).standard_normal((4, 3)), np.zeros(4))]
    save_checkpoint(tmp_path / "c.safetensors", params, {"epoch": 1})
    loaded = st.load_file(str(tmp_path / "c.safetensors"))
    assert np.array_equal(loaded["layers.0.weight"], params[0][0])
    st.save_file({"layers.0.weight": params[0][0], "layers.0.bias": params[0][1]}, str(tmp_path / "d.safetensors"),
                 metadata={"dltui": '{"epoch": 2}'})
    back, meta = load_checkpoint(tmp_path / "d.safetensors")
    assert meta == {"epoch": 2} and np.array_equal(back[0][0], params[0][0])


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty", "header_only", "no_meta"])
def test_bad_checkpoint_gives_clear_error(tmp_path, run_dir, damage, capsys):
    out, _ = run_dir
    good = (out / "best.safetensors").read_bytes()
    bad = tmp_path / "best.safetensors"
    if damage == "truncate":
        bad.write_bytes(good[: len(good) - 10])
    elif damage == "garbage":
        bad.write_bytes(b"\x89PNG not a checkpoint at all" * 10)
    elif damage == "empty":
        bad.write_bytes(b"")
    elif damage == "header_only":
        bad.write_bytes(good[:20])
    else:
        bad.write_bytes(dumps_safetensors({"layers.0.weight": np.ones((1, 1)), "layers.0.bias": np.ones(1)}, {}))
    with pytest.raises(CheckpointError):
        load_checkpoint(bad)
    (tmp_path / "x.csv").write_text("id,x1,x2\n0,1,2\n")
    code = main(["predict", str(tmp_path), "--data", str(tmp_path / "x.csv"), "--out", str(tmp_path / "p.csv")])
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" not in err and "best.safetensors" in err
    assert not (tmp_path / "p.csv").exists()


def test_predict_on_a_run_without_csv_features_says_so(run_dir, tmp_path, capsys):
    out, _ = run_dir
    (tmp_path / "x.csv").write_text("id,x1,x2\n0,1,2\n")
    assert main(["predict", str(out), "--data", str(tmp_path / "x.csv")]) == 2
    assert "generated data" in capsys.readouterr().err

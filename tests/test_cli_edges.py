"""Edges a person hits with the headless CLI: output folders, devices, pipes, odd text."""

from __future__ import annotations

import subprocess
import sys

from dltui.core import load_preset
from dltui.core.config.spec import dumps_toml, tomllib
from dltui.core.runs.store.checkpoint import load_checkpoint
from dltui.tui.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def test_an_out_folder_holding_a_run_is_not_overwritten_by_accident(tmp_path, capsys):
    out = tmp_path / "run"
    assert run(capsys, "train", "xor", "--epochs", "2", "--out", str(out))[0] == 0
    before = (out / "best.safetensors").read_bytes()
    code, _, err = run(capsys, "train", "piecewise-relu", "--epochs", "2", "--out", str(out))
    assert code == 2 and "already holds a run" in err and "--overwrite" in err
    assert (out / "best.safetensors").read_bytes() == before
    # with --overwrite, a run that diverges at once leaves no stale checkpoint of the old run behind
    code, _, _ = run(capsys, "train", "piecewise-relu", "--set", "optimizer.name=sgd", "--set",
                     "optimizer.lr=90", "--epochs", "3", "--out", str(out), "--overwrite")
    assert code == 1
    assert not (out / "last.safetensors").exists()
    if (out / "best.safetensors").exists():
        assert load_checkpoint(out / "best.safetensors")[1]["preset_name"] == "piecewise-relu"


def test_out_paths_that_cannot_be_used(tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("x")
    code, _, err = run(capsys, "train", "xor", "--out", str(afile))
    assert code == 2 and "is a file" in err
    assert run(capsys, "train", "xor", "--epochs", "1", "--out", str(tmp_path / "r"))[0] == 0
    (tmp_path / "t.csv").write_text("id,x1,x2\n1,2,3\n")
    code, _, err = run(capsys, "predict", str(tmp_path / "r"), "--data", str(tmp_path / "t.csv"), "--out",
                       str(tmp_path))
    assert code == 2 and "Traceback" not in err


def test_a_gpu_device_on_the_numpy_backend_is_an_error(capsys, tmp_path):
    code, _, err = run(capsys, "train", "xor", "--device", "cuda", "--out", str(tmp_path / "r"))
    assert code == 2 and "numpy backend runs on the CPU" in err
    assert not (tmp_path / "r").exists()


def test_graph_switch_on_numpy_is_reported(capsys, tmp_path):
    code, _, err = run(capsys, "train", "xor", "--epochs", "1", "--set", "training.graph=true", "--quiet",
                       "--out", str(tmp_path / "r"))
    assert code == 0 and "ignores it" in err


def test_reader_going_away_does_not_fail_the_run(tmp_path):
    out = tmp_path / "run"
    cmd = (f"{sys.executable} -m dltui.tui.cli train xor --epochs 300 --out {out} | head -1; "
           "echo rc=${PIPESTATUS[0]}")
    res = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, timeout=120)
    assert "rc=0" in res.stdout and "Traceback" not in res.stderr
    assert '"reason": "completed"' in (out / "status.json").read_text()


def test_stopped_mid_epoch_last_checkpoint_says_so(tmp_path):
    import threading

    from dltui.core import Trainer

    t = Trainer(load_preset("xor", {"training.epochs": 5}), out_dir=tmp_path, start_paused=True)
    th = threading.Thread(target=t.fit)
    th.start()
    def wait(cond):
        import time

        end = time.time() + 20
        while not cond():
            assert time.time() < end, "timed out"
            time.sleep(0.01)

    t.step_epoch()
    wait(lambda: len(t.history) == 1)
    t.step_batch(3)
    wait(lambda: t.step == t.batches_per_epoch + 3)
    t.stop()
    th.join(10)
    meta = load_checkpoint(tmp_path / "last.safetensors")[1]
    assert meta["epoch"] == 1 and meta["metrics"]["step"] == t.batches_per_epoch + 3
    assert meta["metrics"]["partial_epoch"] is True


def test_resolved_preset_with_odd_text_reads_back(tmp_path):
    spec = load_preset("xor")
    spec.values["about"]["title"] = 'quote " back\\slash \x01 tab\t é'
    spec.values["about"]["note"] = "two\nlines"
    assert tomllib.loads(dumps_toml(spec.values)) == spec.values


def test_a_misspelt_preset_is_matched_to_a_preset_and_options_are_never_abbreviated(tmp_path, capsys):
    code, _, err = run(capsys, "xorr")
    assert code == 2 and "Did you mean the preset `xor`?" in err
    code, _, err = run(capsys, "train", "xor", "--epoch", "5", "--out", str(tmp_path / "r"))
    assert code == 2 and "--epoch" in err and not (tmp_path / "r").exists()


def test_a_csv_too_small_for_a_validation_row_is_an_input_error(tmp_path, capsys):
    csv = tmp_path / "one.csv"
    csv.write_text("a,b\n1,2\n")
    code, _, err = run(capsys, "train", "csv-regression", "--data", str(csv), "--out", str(tmp_path / "r"))
    assert code == 2 and "leave no validation row" in err and "data.valid_ratio=0" in err
    code, _, _ = run(capsys, "train", "csv-regression", "--data", str(csv), "--out", str(tmp_path / "r2"),
                     "--set", "data.valid_ratio=0", "--epochs", "2")
    assert code == 0

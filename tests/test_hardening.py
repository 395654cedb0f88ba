"""Issue 14, kept fixed: every bad input exits 2 with one paragraph and no traceback, every fault keeps
what was saved, no escape byte from input reaches the terminal, no two runs share a folder."""

from __future__ import annotations

import json
import os
import random
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from dltui.core.runs.store.checkpoint import CheckpointError, atomic_write, load_checkpoint, save_checkpoint
from dltui.core.runs.store.folder import MetricsLog, RunBusy, RunFolder, default_run_dir
from dltui.core.sanitize import has_unsafe, safe, safe_line
from dltui.tui.cli import main

ENV = {**os.environ, "PYTHONUNBUFFERED": "1", "OPENBLAS_NUM_THREADS": "1"}
DLTUI = [sys.executable, "-m", "dltui.tui.cli"]


def run(capsys, *argv):
    code = main(list(argv))
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def sh(*argv, timeout=120, env=None):
    return subprocess.run([*DLTUI, *argv], capture_output=True, text=True, env=env or ENV, timeout=timeout)


def clean_error(code, err, want=2):
    assert code == want, err
    assert "Traceback" not in err and not has_unsafe(err)
    assert err.startswith("dltui: error: ") and err.count("\n") == 1, err


def csv_preset(tmp_path, loss="mse") -> Path:
    p = tmp_path / "csvp.toml"
    p.write_text(f'[data]\nkind = "csv"\n[loss]\nname = "{loss}"\n[training]\nepochs = 3\nbatch_size = 8\n')
    return p


def write_csv(path: Path, header: list[str], rows) -> Path:
    path.write_text(",".join(header) + "\n" + "".join(",".join(map(str, r)) + "\n" for r in rows))
    return path


# ---------------------------------------------------------------- 4. the sanitiser, on captured output


def test_safe_makes_every_control_character_visible_and_keeps_text():
    evil = "a\x1b]0;pwned\x07b\x1b[2J\x9b31m\u202eé·\x00\x7f"
    out = safe(evil)
    assert not has_unsafe(out) and "\x1b" not in out and "\x07" not in out
    assert "\\x1b]0;pwned\\x07" in out and "\\u202e" in out and "é·" in out
    assert safe("two\nlines\tok") == "two\nlines\tok"
    assert safe_line("two\nlines\r") == "two\\nlines\\r"
    assert safe(b"\xff".decode("utf-8", "surrogateescape")) == "\\udcff"


def test_no_escape_byte_from_a_csv_header_or_file_name_reaches_the_terminal(tmp_path, capsys):
    evil = "x\x1b]0;pwned\x07\x1b[2J"
    data = write_csv(tmp_path / f"d{evil}.csv", ["id", evil, "y"], [(i, i * 0.5, i) for i in range(20)])
    preset = csv_preset(tmp_path)
    # an error quoting the header (a feature that matches no column lists the columns)
    code, out, err = run(capsys, "train", str(preset), "--data", str(data), "--set", "data.features=['nope']",
                         "--out", str(tmp_path / "r0"))
    clean_error(code, err)
    assert "\\x1b]0;pwned\\x07" in err and not has_unsafe(out)
    # progress lines and the summary quote the preset's file name and the folder
    named = tmp_path / f"p{evil}.toml"
    named.write_text(preset.read_text())
    code, out, err = run(capsys, "train", str(named), "--data", str(data), "--out", str(tmp_path / f"r{evil}"))
    assert code == 0, err
    assert not has_unsafe(out) and not has_unsafe(err) and "\\x1b[2J" in out
    # predict's message, trace's text
    code, out, err = run(capsys, "predict", str(tmp_path / f"r{evil}"), "--data", str(data), "--out",
                         str(tmp_path / f"pred{evil}.csv"))
    assert code == 0 and not has_unsafe(out + err)
    code, out, err = run(capsys, "trace", "--run", str(tmp_path / f"r{evil}"), "--data", str(data))
    assert code == 0 and evil not in out and not has_unsafe(out + err)


def test_argparse_and_unknown_presets_quote_words_safely():
    r = sh("\x1b]52;c;ZXZpbA==\x07")
    assert r.returncode == 2 and not has_unsafe(r.stderr) and "Traceback" not in r.stderr
    r = sh("train", "xor", "--epochs", "x\x1b[2J")
    assert r.returncode == 2 and not has_unsafe(r.stderr)


# ---------------------------------------------------------------- 1. one folder holds one run


def test_a_held_folder_is_refused_by_another_process(tmp_path):
    folder = tmp_path / "run"
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; "
                               "from dltui.core.runs.store.folder import RunFolder; "
                               f"RunFolder({str(folder)!r}).lock(); print('held', flush=True); time.sleep(60)"],
                              stdout=subprocess.PIPE, text=True, env=ENV)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(RunBusy, match="another dltui process"):
            RunFolder(folder).lock()
        r = sh("train", "xor", "--epochs", "2", "--out", str(folder), "--overwrite")
        assert r.returncode == 2 and "another dltui process" in r.stderr and "Traceback" not in r.stderr
        assert not (folder / "metrics.jsonl").exists()
    finally:
        holder.kill()
        holder.wait()
    RunFolder(folder).lock()  # a dead holder (even killed) leaves no stale lock
    RunFolder(folder).unlock()


def test_runs_started_together_never_share_a_folder(tmp_path):
    """Four jobs on one --out, and four without --out, started in the same second."""
    out = tmp_path / "same"
    procs = [subprocess.Popen([*DLTUI, "train", "xor", "--epochs", "30", "--out", str(out), "--quiet"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV) for _ in range(4)]
    procs += [subprocess.Popen([*DLTUI, "train", "piecewise-relu", "--epochs", "5", "--quiet"], cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV) for _ in range(4)]
    res = [(p.wait(timeout=240), *p.communicate()) for p in procs]
    same = [r[0] for r in res[:4]]
    assert same.count(0) == 1 and same.count(2) == 3, res
    for code, _, err in res[:4]:
        if code:
            assert ("already holds a run" in err or "another dltui process" in err) and "Traceback" not in err
    epochs = [json.loads(line)["epoch"] for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert epochs == list(range(1, 31))  # one run's rows, once each
    assert all(r[0] == 0 for r in res[4:]), res[4:]
    folders = sorted((tmp_path / "runs").iterdir())
    assert len(folders) == 4
    for f in folders:
        assert len((f / "metrics.jsonl").read_text().splitlines()) == 5
        assert load_checkpoint(f / "last.safetensors")[1]["preset_name"] == "piecewise-relu"


def test_default_names_differ_within_one_second(tmp_path):
    a = default_run_dir("xor", tmp_path)
    a.mkdir()
    b = default_run_dir("xor", tmp_path)
    assert a != b and str(os.getpid()) in a.name


def test_overwrite_keeps_the_old_checkpoints_until_the_new_run_has_one(tmp_path):
    from dltui.core import events as ev

    rd = RunFolder(tmp_path)
    save_checkpoint(rd.best, [(np.ones((1, 2)), np.zeros(1))], {"epoch": 7})
    (tmp_path / ".best.safetensors.k1l2.tmp").write_bytes(b"half a checkpoint")  # a kill -9 leftover
    (tmp_path / "metrics.jsonl").write_text('{"epoch": 1}\n')
    rd.create("[data]\nkind = 'xor'\n")
    assert not rd.best.exists() and not rd.metrics.exists()
    assert load_checkpoint(tmp_path / "previous-best.safetensors")[1]["epoch"] == 7
    assert not list(tmp_path.glob("*.tmp"))
    log = MetricsLog(rd)
    log(ev.CheckpointSaved(str(rd.best), "best", 1))
    assert not (tmp_path / "previous-best.safetensors").exists()
    rd.unlock()


# ---------------------------------------------------------------- 5. signals


def _train(out, *extra):
    return subprocess.Popen([*DLTUI, "train", "piecewise-relu", "--epochs", "100000", "--set",
                             "training.patience=0", "--out", str(out), *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)


def _wait_rows(out, p, n=5, limit=90):
    deadline = time.time() + limit
    while not (out / "metrics.jsonl").exists() or len((out / "metrics.jsonl").read_bytes().splitlines()) < n:
        assert time.time() < deadline and p.poll() is None, p.communicate()
        time.sleep(0.05)


@pytest.mark.parametrize("sig,code", [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_sigterm_and_sighup_stop_after_the_batch_and_write_last(tmp_path, sig, code):
    out = tmp_path / "run"
    p = _train(out)
    try:
        _wait_rows(out, p)
        p.send_signal(sig)
        stdout, stderr = p.communicate(timeout=60)
    finally:
        p.kill()
    assert p.returncode == code, stderr
    assert "Traceback" not in stderr
    params, meta = load_checkpoint(out / "last.safetensors")
    assert meta["epoch"] >= 5
    st = json.loads((out / "status.json").read_text())
    assert st["state"] == "finished" and st["end"]["reason"] == "stopped" and st["signal"] in ("SIGTERM", "SIGHUP")


def test_repeated_kill_9_never_tears_a_file_and_never_leaves_the_folder_locked(tmp_path):
    out = tmp_path / "run"
    rng = random.Random(14)
    for _ in range(6):
        p = _train(out, "--overwrite")
        try:
            time.sleep(rng.uniform(0.5, 3.0))  # start-up, data, the first epochs and checkpoints
        finally:
            p.send_signal(signal.SIGKILL)
            p.communicate(timeout=30)
        for ck in out.glob("*.safetensors"):
            load_checkpoint(ck)  # whole, or CheckpointError would fail the test
        if (out / "metrics.jsonl").exists():
            for line in (out / "metrics.jsonl").read_text().splitlines()[:-1]:
                json.loads(line)
        if (out / "status.json").exists():
            json.loads((out / "status.json").read_text())
    r = sh("train", "xor", "--epochs", "2", "--out", str(out), "--overwrite")
    assert r.returncode == 0, r.stderr
    assert not list(out.glob(".*.tmp")) and not list(out.glob("previous-*"))


def _interrupt_inside(tmp_path, where: str, sig: int, argv: list[str]):
    """Run the CLI in a child that sends itself ``sig`` from inside ``where`` (a dotted function)."""
    mod, fn = where.rsplit(".", 1)
    code = (f"import os, signal, time, importlib\nm = importlib.import_module({mod!r})\n"
            f"orig = getattr(m, {fn!r})\n"
            f"def patched(*a, **k):\n    os.kill(os.getpid(), {int(sig)})\n    time.sleep(5)\n"
            "    return orig(*a, **k)\n"
            f"setattr(m, {fn!r}, patched)\n"
            f"from dltui.tui.cli import main\nraise SystemExit(main({argv!r}))\n")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV, timeout=60)


@pytest.mark.parametrize("sig,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_while_loading_a_csv_or_predicting_ends_cleanly(tmp_path, sig, code):
    data = write_csv(tmp_path / "d.csv", ["id", "a", "y"], [(i, i, i * 2) for i in range(40)])
    r = _interrupt_inside(tmp_path, "dltui.core.data.dataset.read_table", sig,
                          ["train", str(csv_preset(tmp_path)), "--data", str(data), "--out", str(tmp_path / "r")])
    assert r.returncode == code and "Traceback" not in r.stderr and "stopped by" in r.stderr, r.stderr
    assert main(["train", str(csv_preset(tmp_path)), "--data", str(data), "--out", str(tmp_path / "ok")]) == 0
    r = _interrupt_inside(tmp_path, "dltui.core.runs.store.checkpoint.load_checkpoint", sig,
                          ["predict", str(tmp_path / "ok"), "--data", str(data), "--out", str(tmp_path / "p.csv")])
    assert r.returncode == code and "Traceback" not in r.stderr, r.stderr
    assert not (tmp_path / "p.csv").exists()


def test_a_second_ctrl_c_during_the_final_save_exits_cleanly_and_keeps_best(tmp_path):
    out = tmp_path / "run"
    code = ("import os, signal, time\nimport dltui.core.training.policies as t\n"
            "orig = t.Checkpoints._save\n"
            "def slow(self, tr, kind, *a):\n    if kind == 'last':\n        os.kill(os.getpid(), signal.SIGINT)\n"
            "        time.sleep(0.5)\n        os.kill(os.getpid(), signal.SIGINT)\n        time.sleep(5)\n"
            "    return orig(self, tr, kind, *a)\nt.Checkpoints._save = slow\n"
            "from dltui.tui.cli import main\n"
            f"raise SystemExit(main(['train', 'piecewise-relu', '--epochs', '3', '--out', {str(out)!r}]))\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV, timeout=60)
    # the epochs are done; the save of `last` gets two Ctrl-C: the second ends the command at once
    assert r.returncode == 130 and "Traceback" not in r.stderr, r.stderr
    assert "stopped by Ctrl-C" in r.stderr
    load_checkpoint(out / "best.safetensors")
    assert not list(out.glob(".*.tmp")) and not (out / "last.safetensors").exists()
    st = json.loads((out / "status.json").read_text())
    assert st["state"] == "finished" and st["signal"] == "Ctrl-C"


# ---------------------------------------------------------------- 2. writes through non-regular files


def test_atomic_write_follows_symlinks_and_writes_devices_and_pipes_in_place(tmp_path):
    real = tmp_path / "real.csv"
    real.write_text("stale")
    link = tmp_path / "pred.csv"
    link.symlink_to(real)
    atomic_write(link, "fresh")
    assert link.is_symlink() and real.read_text() == "fresh"
    atomic_write("/dev/null", "x")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    atomic_write(fifo, "through the pipe")
    assert reader.communicate(timeout=10)[0] == b"through the pipe"
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    with pytest.raises(IsADirectoryError):
        atomic_write(tmp_path, "x")


def test_predict_to_a_full_device_or_an_over_long_path_is_an_input_error(tmp_path, capsys):
    data = write_csv(tmp_path / "d.csv", ["id", "a", "y"], [(i, i, i * 2) for i in range(40)])
    assert main(["train", str(csv_preset(tmp_path)), "--data", str(data), "--out", str(tmp_path / "r")]) == 0
    capsys.readouterr()
    if os.path.exists("/dev/full"):
        code, _, err = run(capsys, "predict", str(tmp_path / "r"), "--data", str(data), "--out", "/dev/full")
        clean_error(code, err)
        assert stat.S_ISCHR(os.stat("/dev/full").st_mode)
    code, _, err = run(capsys, "predict", str(tmp_path / "r"), "--data", str(data), "--out", "x" * 5000)
    clean_error(code, err)
    code, _, err = run(capsys, "train", "xor", "--out", str(tmp_path / ("y" * 5000)))
    clean_error(code, err)


# ---------------------------------------------------------------- 3. checkpoints


def test_crafted_checkpoints_are_refused_before_use(tmp_path, capsys):
    data = write_csv(tmp_path / "d.csv", ["id", "a", "y"], [(i, i, i * 2) for i in range(40)])
    assert main(["train", str(csv_preset(tmp_path)), "--data", str(data), "--out", str(tmp_path / "r")]) == 0
    capsys.readouterr()
    params, meta = load_checkpoint(tmp_path / "r" / "best.safetensors")
    cases = {
        "no-epoch": ({k: v for k, v in meta.items() if k != "epoch"}, params),
        "no-features": ({k: v for k, v in meta.items() if k != "features"}, params),
        "task": ({**meta, "task": 3}, params),
        "std0": ({**meta, "features": {**meta["features"], "std": [0.0]}}, params),
        "mean-len": ({**meta, "features": {**meta["features"], "mean": [1.0, 2.0]}}, params),
        "mean-nan": ({**meta, "features": {**meta["features"], "mean": ["nan"]}}, params),
        "sizes": ({**meta, "layer_sizes": [1, 2, 3]}, params),
        "epoch-neg": ({**meta, "epoch": -1}, params),
    }
    for name, (m, p) in cases.items():
        ck = tmp_path / name / "best.safetensors"
        save_checkpoint(ck, p, m)
        code, _, err = run(capsys, "predict", str(ck.parent), "--data", str(data), "--out", str(tmp_path / "p.csv"))
        clean_error(code, err)
        assert not (tmp_path / "p.csv").exists(), name


def _raw_checkpoint(header: dict, data: bytes = b"") -> bytes:
    import struct

    h = json.dumps(header).encode()
    return struct.pack("<Q", len(h)) + h + data


@pytest.mark.parametrize("header", [
    {"layers.0.weight": {"dtype": "F64", "shape": [1, 1], "data_offsets": [-8, 0]}},
    {"layers.0.weight": {"dtype": "F64", "shape": [1, 1], "data_offsets": [0.5, 8]}},
    {"layers.0.weight": {"dtype": "F64", "shape": [2**32, 2**32, 1], "data_offsets": [0, 0]}},
    {"layers.0.weight": {"dtype": "F64", "shape": [-1, -8], "data_offsets": [0, 64]}},
    {"layers.0.weight": {"dtype": "F64", "shape": [1], "data_offsets": [0, 8]},
     "layers.0.bias": {"dtype": "F64", "shape": [1], "data_offsets": [0, 8]}},
    {"layers.0.weight": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}},
    {"layers.0.weight": {"dtype": "F64", "shape": "1", "data_offsets": [0, 8]}},
    {"__metadata__": {"dltui": 5}},
    {"__metadata__": {"dltui": "[[[[[[" * 2000}},
])
def test_malformed_headers_give_checkpoint_errors(tmp_path, header):
    f = tmp_path / "c.safetensors"
    header.setdefault("__metadata__", {"dltui": json.dumps({"epoch": 1})})
    f.write_bytes(_raw_checkpoint(header, b"\0" * 64))
    with pytest.raises(CheckpointError):
        load_checkpoint(f)


def test_a_huge_junk_file_is_refused_from_its_header_without_reading_it(tmp_path, monkeypatch):
    import dltui.core.runs.store.checkpoint as ck_module

    f = tmp_path / "best.safetensors"
    with open(f, "wb") as fh:
        fh.write(b"\xff" * 8)
        fh.truncate(6 * 1024**3)  # sparse: 6 GB on paper, nothing on disk
    asked = []  # every read() the loader makes, with the size it asks for

    class Counted:
        def __init__(self, fh):
            self.fh = fh

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

        def fileno(self):
            return self.fh.fileno()

        def read(self, n=-1):
            asked.append(n)
            return self.fh.read(n)

    monkeypatch.setattr(ck_module, "open", lambda *a, **k: Counted(open(*a, **k)), raising=False)
    with pytest.raises(CheckpointError, match="header length"):
        load_checkpoint(f)
    with open(f, "r+b") as fh:
        fh.write(b"\x10\x00\x00\x00\x00\x00\x00\x00")  # a 16-byte header of zeros: not JSON
    with pytest.raises(CheckpointError, match="not JSON"):
        load_checkpoint(f)
    assert asked and all(0 <= n <= 16 for n in asked), asked  # it never read the 6 GB


# ---------------------------------------------------------------- 6. limits, 7. other


@pytest.mark.parametrize("argv,words", [
    (["train", "xor", "--set", "model.hidden=[100000,100000]"], "GiB"),
    (["train", "piecewise-relu", "--set", "data.x_min=-1e308"], "x_min"),
    (["trace", "xor", "--width", "1000000000"], "--width"),
    (["train", "xor", "--set", "model.hidden=" + "[" * 1000 + "]" * 1000], "nests 1000 brackets"),
    (["train", "xor", "--set", "data.n_samples=1000000000"], "n_samples"),
    (["trian", "xor"], "Did you mean `dltui train`"),
    (["train", "/dev/zero"], "/dev/zero"),
    (["train", "xor", "--set", "training.seed=1e30"], "seed"),
])
def test_limits_and_misspellings_are_input_errors(capsys, argv, words):
    code, _, err = run(capsys, *argv)
    clean_error(code, err)
    assert words in err


def test_class_labels_and_values_too_large_are_named(tmp_path, capsys):
    data = write_csv(tmp_path / "d.csv", ["a", "y"], [(i, i % 2) for i in range(30)] + [(1, 10**9)])
    code, _, err = run(capsys, "train", str(csv_preset(tmp_path, "cross_entropy")), "--data", str(data))
    clean_error(code, err)
    assert "1000000000" in err and "class label" in err
    data = write_csv(tmp_path / "e.csv", ["a", "y"], [(i, i) for i in range(30)] + [(1, "1e30")])
    code, _, err = run(capsys, "train", str(csv_preset(tmp_path)), "--data", str(data), "--out", str(tmp_path / "r"))
    clean_error(code, err)
    assert "too large" in err and "smaller learning rate" not in err


def test_predict_refuses_nan_output_and_trace_refuses_other_columns(tmp_path, capsys):
    data = write_csv(tmp_path / "d.csv", ["id", "a", "y"], [(i, i, i * 2) for i in range(40)])
    assert main(["train", str(csv_preset(tmp_path)), "--data", str(data), "--out", str(tmp_path / "r")]) == 0
    params, meta = load_checkpoint(tmp_path / "r" / "best.safetensors")
    save_checkpoint(tmp_path / "nan" / "best.safetensors", [(W * np.nan, b) for W, b in params], meta)
    capsys.readouterr()
    code, _, err = run(capsys, "predict", str(tmp_path / "nan"), "--data", str(data), "--out", str(tmp_path / "p.csv"))
    clean_error(code, err)
    assert "not a finite number" in err and not (tmp_path / "p.csv").exists()
    other = write_csv(tmp_path / "o.csv", ["id", "b", "c", "y"], [(i, i, i, i) for i in range(40)])
    code, _, err = run(capsys, "trace", "--run", str(tmp_path / "r"), "--data", str(other))
    clean_error(code, err)


def test_closed_stdout_and_an_ascii_terminal(tmp_path):
    r = subprocess.run(f"{sys.executable} -m dltui.tui.cli list >&-", shell=True, capture_output=True, text=True,
                       env=ENV, timeout=60)
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    r = sh("train", "xor", "--epochs", "3", "--out", str(tmp_path / "r"), env={**ENV, "PYTHONIOENCODING": "ascii"})
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    assert "epoch 3/3 \\xb7 train" in r.stdout


def test_overflow_on_the_first_batch_is_not_blamed_on_the_learning_rate():
    from dltui.core import events as ev
    from dltui.core.config.spec import load_preset
    from dltui.core.data.dataset import load_dataset
    from dltui.core.training.trainer import Trainer

    spec = load_preset("piecewise-relu", {"training.epochs": 2})
    ds = load_dataset(spec)
    ds.x_train = (ds.x_train * np.float32(1e30)).astype(np.float32)  # past the data check, as a library user may
    seen = []
    with np.errstate(all="ignore"):
        result = Trainer(spec, data=ds).fit(callbacks=[seen.append])
    msg = next(e.message for e in seen if isinstance(e, ev.Diverged))
    assert result.reason == "diverged" and "very first batch" in msg and "learning rate" not in msg


def test_a_csv_from_a_pipe_is_read_and_a_device_of_zeros_refused(tmp_path, capsys):
    data = write_csv(tmp_path / "d.csv", ["id", "a", "y"], [(i, i, i * 2) for i in range(40)])
    assert main(["train", str(csv_preset(tmp_path)), "--data", str(data), "--out", str(tmp_path / "r")]) == 0
    r = subprocess.run([*DLTUI, "predict", str(tmp_path / "r"), "--data", "/dev/stdin", "--out",
                        str(tmp_path / "p.csv")], input=data.read_text(), capture_output=True, text=True, env=ENV,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    assert len((tmp_path / "p.csv").read_text().splitlines()) == 41
    capsys.readouterr()
    code, _, err = run(capsys, "predict", str(tmp_path / "r"), "--data", "/dev/zero", "--out", str(tmp_path / "z.csv"))
    clean_error(code, err)
    assert "NUL" in err


def test_a_file_system_without_locks_still_runs(tmp_path, monkeypatch):
    import errno

    import dltui.core.runs.store.folder as rundir

    def no_locks(fd, op):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(rundir.fcntl, "flock", no_locks)
    rd = RunFolder(tmp_path / "nfs")
    rd.lock()  # no RunBusy, no OSError: the run goes ahead as it did before locks
    rd.create("[data]\nkind = 'xor'\n")
    assert rd.preset.exists()
    rd.unlock()


def test_the_status_line_and_picker_show_names_from_files_escaped(tmp_path):
    pytest.importorskip("textual")
    from dltui.core.runs import RunView
    from dltui.tui.screens.picker import preset_entries
    from dltui.tui.widgets.status_line import status_text

    v = RunView(preset="run\x1b]0;owned\x07", state="running")
    v.backend, v.device = "numpy\x1b[2J", "cpu\x9b"
    line = status_text(v, width=300).plain
    assert not has_unsafe(line) and "\\x1b]0;owned\\x07" in line
    evil = tmp_path / "p\x1b[2J.toml"
    evil.write_text('[about]\ntitle = "t\\u001b]52;c;eA==\\u0007"\n[data]\nkind = "xor"\n')
    entries = [e for e in preset_entries([str(evil)], scan_dir=None) if e["path"] == str(evil)]
    assert entries and not any(has_unsafe(e["name"] + e["title"]) for e in entries)


def test_a_terminal_that_goes_away_does_not_stop_the_run(tmp_path):
    """After SIGHUP's closed SSH session, printing fails with EIO: the run goes on and saves."""
    out = tmp_path / "run"
    code = ("import errno\nimport dltui.tui.commands.train_cmd as t\n"
            "def gone(self, e):\n    raise OSError(errno.EIO, 'Input/output error')\n"
            "t.PlainPrinter.__call__ = gone\nfrom dltui.tui.cli import main\n"
            f"raise SystemExit(main(['train', 'xor', '--epochs', '5', '--out', {str(out)!r}]))\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV, timeout=60)
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    assert load_checkpoint(out / "last.safetensors")[1]["epoch"] == 5


def test_an_overwriting_run_that_saves_nothing_leaves_the_old_checkpoints(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "xor", "--epochs", "2", "--out", str(out)]) == 0
    before = (out / "best.safetensors").read_bytes()
    capsys.readouterr()
    code, stdout, _ = run(capsys, "train", "piecewise-relu", "--set", "optimizer.name=sgd", "--set",
                          "optimizer.lr=90", "--epochs", "3", "--out", str(out), "--overwrite")
    assert code == 1 and "previous-*.safetensors" in stdout
    assert (out / "previous-best.safetensors").read_bytes() == before


def test_named_pipes_in_a_run_folder_do_not_hang_its_readers(tmp_path):
    from dltui.core.runs.store.folder import read_metrics

    os.mkfifo(tmp_path / "status.json")
    os.mkfifo(tmp_path / "metrics.jsonl")
    notes: list[str] = []
    assert RunFolder(tmp_path).read_status(notes) == {}  # returns at once: no writer is waited for
    assert read_metrics(tmp_path / "metrics.jsonl", 0, notes) == ([], 0)
    assert len(notes) == 2

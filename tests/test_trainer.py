from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from dltui.core import Trainer, load_preset
from dltui.core import events as ev
from dltui.core.runs.store.checkpoint import load_checkpoint
from dltui.tui.cli import main


class Recorder:
    def __init__(self):
        self.events = []

    def __call__(self, e):
        self.events.append(e)

    def of(self, cls):
        return [e for e in self.events if isinstance(e, cls)]


def test_piecewise_sigmoid_fits_the_curve_headless(tmp_path, capsys):
    """docs/presets.md's figure: validation MSE a small fraction of the target's variance."""
    out = tmp_path / "run"
    assert main(["train", "piecewise-sigmoid", "--out", str(out)]) == 0
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    spec = load_preset("piecewise-sigmoid")
    data = Trainer(spec).data
    var = float(np.var(np.concatenate([data.y_train, data.y_val])))
    best = min(r["val_loss"] for r in rows)
    assert best < 0.02 * var
    printed = capsys.readouterr().out
    assert "\r" not in printed and "epoch 1/" in printed and "best validation loss" in printed
    assert json.loads((out / "status.json").read_text())["state"] == "finished"
    assert (out / "preset.toml").read_text().startswith("[about]")


def test_events_order_and_epoch_rows():
    rec = Recorder()
    spec = load_preset("xor", {"training.epochs": 4})
    res = Trainer(spec).fit(callbacks=[rec])
    assert isinstance(rec.events[0], ev.RunStarted) and isinstance(rec.events[-1], ev.Finished)
    epochs = rec.of(ev.EpochEnded)
    assert [e.epoch for e in epochs] == [1, 2, 3, 4]
    assert len(rec.of(ev.BatchEnded)) == 4 * rec.events[0].batches_per_epoch == res.steps
    assert all(e.val_metric is not None and 0 <= e.val_metric <= 1 for e in epochs)
    assert res.reason == "completed"


def test_early_stopping_restores_the_best_weights(tmp_path):
    # a big net on few noisy points overfits; patience 5 must stop it and keep the best epoch's weights
    spec = load_preset("piecewise-relu", {"data.n_samples": 40, "data.noise": 0.5, "model.hidden": [64, 64],
                                           "optimizer.lr": 0.01, "training.epochs": 2000,
                                           "training.patience": 5, "training.batch_size": 8})
    rec = Recorder()
    t = Trainer(spec, out_dir=tmp_path)
    res = t.fit(callbacks=[rec])
    assert res.reason == "early_stop" and rec.of(ev.EarlyStopped)
    assert res.epochs_run == res.best_epoch + 5
    val_loss, _ = t.backend.evaluate("val")
    assert val_loss == pytest.approx(res.best_val_loss, rel=1e-5)
    params, meta = load_checkpoint(tmp_path / "best.safetensors")
    assert meta["epoch"] == res.best_epoch
    assert all(np.array_equal(W, W2) for (W, _), (W2, _) in zip(params, t.backend.get_params()))
    _, last = load_checkpoint(tmp_path / "last.safetensors")
    assert last["epoch"] == res.epochs_run


def test_evaluation_does_no_gradient_work():
    t = Trainer(load_preset("xor", {"training.epochs": 1}))
    t.fit()
    before = [g.copy() for g in t.backend.net.grads]
    t.backend.evaluate("val")
    t.backend.evaluate("train")
    assert all(np.array_equal(a, b) for a, b in zip(before, t.backend.net.grads))


def test_pause_step_batch_step_epoch_and_stop():
    spec = load_preset("xor", {"training.epochs": 50})
    t = Trainer(spec, start_paused=True)
    rec = Recorder()
    th = threading.Thread(target=t.fit, kwargs={"callbacks": [rec]})
    th.start()

    def wait(cond, timeout=10):
        end = time.time() + timeout
        while not cond():
            assert time.time() < end, "timed out"
            time.sleep(0.01)

    wait(lambda: t.state == "paused")
    assert t.step == 0
    t.step_batch()
    wait(lambda: t.step == 1 and t.state == "paused")
    time.sleep(0.1)
    assert t.step == 1  # exactly one
    assert rec.of(ev.BatchEnded)[-1].loss is not None
    t.step_epoch()
    wait(lambda: len(t.history) == 1 and t.state == "paused")
    time.sleep(0.1)
    assert t.step == t.batches_per_epoch and t.epoch in (1, 2)
    t.request_stats()
    wait(lambda: rec.of(ev.LayerStatsReady))
    stats = rec.of(ev.LayerStatsReady)[-1].layers
    assert [s.index for s in stats] == [1, 2] and stats[0].n_in == 2 and stats[0].inactive_kind == "dead"
    fut = t.call(lambda b: b.get_params())
    assert fut.result(timeout=5)[0][0].shape == (8, 2)
    t.resume()
    wait(lambda: t.epoch >= 3)
    t.stop()
    th.join(10)
    assert not th.is_alive()
    assert rec.events[-1].reason == "stopped"


def test_layer_stats_report_update_ratio_after_a_step():
    t = Trainer(load_preset("piecewise-sigmoid", {"training.epochs": 1}))
    rec = Recorder()
    t.request_stats()
    t.fit(callbacks=[rec])
    s = rec.of(ev.LayerStatsReady)[0].layers[0]
    assert s.update_ratio is not None and 0 < s.update_ratio < 1
    assert s.inactive_kind == "sat" and sum(s.w_hist) == 8 and s.g_norm > 0


def test_divergence_stops_with_a_clear_event_and_keeps_nothing_garbage(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["train", "piecewise-relu", "--set", "optimizer.name=sgd", "--set", "optimizer.lr=50",
                 "--epochs", "50", "--out", str(out)])
    cap = capsys.readouterr()
    assert code == 1
    assert "diverged" in cap.out and "smaller learning rate" in cap.out
    assert not (out / "last.safetensors").exists()
    for line in (out / "metrics.jsonl").read_text().splitlines():
        assert np.isfinite(json.loads(line)["train_loss"])


def test_ctrl_c_stops_cleanly_and_keeps_the_best_checkpoint(tmp_path):
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    p = subprocess.Popen([sys.executable, "-m", "dltui.tui.cli", "train", "piecewise-relu", "--epochs", "100000",
                          "--set", "training.patience=0", "--out", str(out)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.time() + 60
        while not (out / "metrics.jsonl").exists() or len((out / "metrics.jsonl").read_text().splitlines()) < 20:
            assert time.time() < deadline and p.poll() is None
            time.sleep(0.1)
        time.sleep(1.2)
        p.send_signal(signal.SIGINT)
        stdout, stderr = p.communicate(timeout=30)
    finally:
        p.kill()
    assert p.returncode == 130, stderr  # the one signal policy: 128 + SIGINT (issue 14)
    assert "stopped by you" in stdout and "Traceback" not in stderr
    params, meta = load_checkpoint(out / "best.safetensors")
    assert meta["epoch"] >= 1
    assert json.loads((out / "status.json").read_text())["end"]["reason"] == "stopped"


def test_float64_and_full_batch_run():
    spec = load_preset("piecewise-relu", {"training.dtype": "float64", "training.batch_size": 0,
                                          "training.epochs": 3})
    t = Trainer(spec)
    t.fit()
    assert t.backend.get_params()[0][0].dtype == np.float64 and t.step == 3


def test_same_seed_same_run_new_seed_new_run():
    a = Trainer(load_preset("xor", {"training.epochs": 3})).fit().history[-1].train_loss
    b = Trainer(load_preset("xor", {"training.epochs": 3})).fit().history[-1].train_loss
    c = Trainer(load_preset("xor", {"training.epochs": 3, "training.seed": 2})).fit().history[-1].train_loss
    assert a == b and a != c


def test_train_on_a_terminal_shows_a_progress_bar(tmp_path):
    import pty

    master, slave = pty.openpty()
    env = {**os.environ, "COLUMNS": "100", "TERM": "xterm-256color"}
    p = subprocess.Popen([sys.executable, "-m", "dltui.tui.cli", "train", "xor", "--epochs", "30", "--out",
                          str(tmp_path / "run")], stdout=slave, stderr=slave, env=env)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    p.wait(30)
    os.close(master)
    text = b"".join(chunks).decode("utf-8", "replace")
    assert p.returncode == 0
    assert "━" in text and "epoch" in text and "30/30" in text and "Traceback" not in text


def test_stats_while_paused_keep_the_last_measured_update_ratio():
    t = Trainer(load_preset("xor", {"training.epochs": 5}), start_paused=True)
    rec = Recorder()
    th = threading.Thread(target=t.fit, kwargs={"callbacks": [rec]})
    th.start()
    end = time.time() + 10
    t.step_batch(1, with_stats=True)
    while len(rec.of(ev.LayerStatsReady)) < 1:
        assert time.time() < end
        time.sleep(0.01)
    first = rec.of(ev.LayerStatsReady)[0]
    assert first.step == 1 and all(s.update_ratio is not None for s in first.layers)
    t.request_stats()  # paused: no step to compare with
    while len(rec.of(ev.LayerStatsReady)) < 2:
        assert time.time() < end
        time.sleep(0.01)
    again = rec.of(ev.LayerStatsReady)[1]
    assert [s.update_ratio for s in again.layers] == [s.update_ratio for s in first.layers]
    t.stop()
    th.join(10)

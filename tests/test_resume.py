"""Runs you keep: checkpoints hold the optimizer state; a resumed run (headless --resume, or `continue`
after a run ended) takes exactly the steps an uninterrupted one takes (float64)."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from dltui.core import Trainer, load_preset
from dltui.core.engine.optim import SGD, Adam
from dltui.core.errors import CheckpointError
from dltui.core.runs.store.checkpoint import load_checkpoint, load_extra
from dltui.core.training.resume import resume_trainer
from dltui.tui.cli import main

SETS = {"training.dtype": "float64", "training.epochs": 4}


def spec_for(name="xor", **kw):
    return load_preset(name, {**SETS, **kw})


def stop_after(tr: Trainer, steps: int) -> None:
    """Run ``tr`` (start paused) for exactly ``steps`` steps, then stop it (mid-epoch)."""
    th = threading.Thread(target=tr.fit, daemon=True)
    th.start()
    assert tr.step_batch(steps).result(timeout=30) == steps
    tr.stop()
    th.join(timeout=30)
    assert not th.is_alive()


def last_params(run_dir):
    return load_checkpoint(run_dir / "last.safetensors")[0]


def same(a, b) -> bool:
    return all(np.array_equal(W1, W2) and np.array_equal(b1, b2) for (W1, b1), (W2, b2) in zip(a, b))


@pytest.mark.parametrize("opt", ["adam", "sgd"])
def test_a_resumed_run_equals_an_uninterrupted_one_step_for_step(tmp_path, opt):
    extra = {"optimizer.name": opt, "optimizer.momentum": 0.9} if opt == "sgd" else {}
    whole = Trainer(spec_for(**extra), out_dir=tmp_path / "whole")
    res = whole.fit()
    bpe = whole.batches_per_epoch
    part = Trainer(spec_for(**extra), out_dir=tmp_path / "part", start_paused=True)
    stop_after(part, bpe + 3)  # into the second epoch
    tensors = load_extra(tmp_path / "part" / "last.safetensors")
    assert any(k.startswith("optim.") for k in tensors) and "trainer.perm" in tensors
    again = resume_trainer(tmp_path / "part")
    assert again.step == bpe + 3 and again.epoch == 2
    res2 = again.fit()
    assert res2.steps == res.steps and again.step == whole.step
    assert same(last_params(tmp_path / "whole"), last_params(tmp_path / "part"))
    assert [h.epoch for h in again.history] == [1, 2, 3, 4]
    assert again.history[-1].val_loss == pytest.approx(whole.history[-1].val_loss, rel=0, abs=0)


def test_continue_after_the_end_equals_one_longer_run(tmp_path):
    long = Trainer(spec_for(**{"training.epochs": 6}))
    long.fit()
    short = Trainer(spec_for(**{"training.epochs": 3}))
    short.fit()
    short.prepare_continue(6)
    res = short.fit()
    assert res.reason == "completed" and short.step == long.step and len(short.history) == 6
    assert [h.epoch for h in short.history] == list(range(1, 7))
    assert same(short.last_params, long.last_params)
    assert short.history[-1].train_loss == long.history[-1].train_loss


def test_optimizer_state_round_trips_by_name():
    p = [np.ones((2, 3)), np.zeros(2)]
    g = [np.full((2, 3), 0.5), np.full(2, -1.0)]
    a = Adam(p, g, 0.1)
    a.step()
    tensors, facts = a.export_state()
    assert set(tensors) == {"optim.m.0", "optim.m.1", "optim.v.0", "optim.v.1"} and facts == {"name": "adam", "t": 1}
    b = Adam([x.copy() for x in p], g, 0.1)
    b.import_state(tensors, facts)
    assert b.t == 1 and all(np.array_equal(x, y) for x, y in zip(a.m + a.v, b.m + b.v))
    with pytest.raises(ValueError, match="optimizer is 'adam'"):
        SGD(p, g, 0.1, momentum=0.9).import_state(tensors, facts)


def test_torch_and_numpy_share_the_optimizer_state_names():
    pytest.importorskip("torch")
    spec = spec_for(**{"training.epochs": 1})
    names = {}
    for be in ("numpy", "torch"):
        tr = Trainer(spec, backend=be)
        tr.fit()
        tensors, facts = tr.backend.get_opt_state()
        names[be] = (set(tensors), facts)
        if be == "torch":
            tr2 = Trainer(spec, backend="torch")
            tr2.backend.set_opt_state(tensors, facts)
            t2, f2 = tr2.backend.get_opt_state()
            assert set(t2) == set(tensors) and f2 == facts
    assert names["numpy"] == names["torch"]


def test_train_resume_cli(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "xor", "--epochs", "2", "--quiet", "--out", str(out)]) == 0
    assert main(["train", "--resume", str(out), "--epochs", "4", "--quiet"]) == 0
    rows = (out / "metrics.jsonl").read_text().splitlines()
    assert len(rows) == 4 and '"epoch": 4' in rows[-1]
    capsys.readouterr()
    assert main(["train", "--resume", str(tmp_path / "nothing"), "--quiet"]) == 2
    assert "preset.toml" in capsys.readouterr().err
    assert main(["train", "--resume", str(out), "--quiet"]) == 2  # already at its last epoch
    assert "--epochs N with a larger total" in capsys.readouterr().err


def test_resume_refuses_a_folder_without_a_checkpoint(tmp_path):
    with pytest.raises(CheckpointError):
        resume_trainer(tmp_path)


def test_after_a_run_ends_the_gradients_are_those_of_the_best_weights():
    from dltui.core.backends.numpy_backend import NumpyBackend
    from dltui.core.runs import LiveRun

    spec = spec_for("piecewise-relu", **{"training.epochs": 30, "training.patience": 0})
    run = LiveRun(spec, start=True)
    run.open()
    import time
    deadline = time.monotonic() + 60
    while run.trainer.state != "finished" and time.monotonic() < deadline:
        time.sleep(0.02)
        run.poll()
    run.poll()
    run.want_stats()
    stats = run.view.stats
    tr = run.trainer
    best = tr.early.best_weights
    assert same(tr.backend.get_params(), best)
    twin = NumpyBackend(spec, tr.data.n_features, tr.data.n_outputs, params=best)
    twin.set_data(tr.data.x_train, tr.data.y_train, tr.data.x_val, tr.data.y_val, 32)
    twin.loss.forward(twin.net.forward(tr.data.x_train), tr.data.y_train)
    twin.net.backward(twin.loss.backward())
    for s, lin in zip(stats, twin.net.linears):
        assert s.g_norm == pytest.approx(float(np.linalg.norm(lin.dW)), rel=1e-12)
        assert s.update_ratio is not None and s.update_ratio > 0
    run.want_params()  # the matrix view's weights say which they are, and its gradients are the same
    deadline = time.monotonic() + 30
    while run.view.params_step != run.view.step and time.monotonic() < deadline:
        time.sleep(0.02)
        run.poll()
    assert run.view.params_label.startswith(f"best @ epoch {tr.best_epoch}")
    assert all(np.allclose(g, lin.dW, rtol=1e-12) for g, lin in zip(run.view.grads, twin.net.linears))


def test_ratio_columns_follow_their_definitions_on_a_hand_built_case():
    pytest.importorskip("textual")
    from dltui.core.backends.base import make_layer_stats
    from dltui.tui.widgets.layer_table import cells

    W = np.array([[3.0, 0.0], [0.0, 4.0]])  # ‖W‖ = 5
    dW = np.array([[0.3, 0.0], [0.0, 0.4]])  # ‖∇W‖ = 0.5
    prev = W - np.array([[0.003, 0.0], [0.0, 0.004]])  # the last update: ‖ΔW‖ = 0.005
    s = make_layer_stats(1, "relu", W, np.zeros(2), dW, prev, None)
    assert s.update_ratio == pytest.approx(0.005 / 5) and s.g_norm / s.w_norm == pytest.approx(0.1)
    c = cells(s)
    assert c["ratio"].plain == "1e-3" and c["g_ratio"].plain == "0.1"


def test_a_long_log_resumes_with_its_latest_epochs_in_bounded_memory(tmp_path, monkeypatch):
    """Resume reads a long metrics log as watch opens one - a sample of it and its whole tail - not its
    first 64 MiB (which dropped the latest epochs of a long run) nor all of it (a 1M-epoch log)."""
    from dltui.core.runs.store import folder as rundir

    run = tmp_path / "run"
    Trainer(spec_for(**{"training.epochs": 300}), out_dir=run).fit()
    size = (run / "metrics.jsonl").stat().st_size
    monkeypatch.setattr(rundir, "MAX_METRICS_READ", size // 3)  # a log longer than a whole read
    monkeypatch.setattr(rundir.read_sampled, "__defaults__", (size // 10, 50))
    again = resume_trainer(run, {"training.epochs": 310})
    epochs = [h.epoch for h in again.history]
    assert epochs[-1] == 300 and epochs == sorted(set(epochs))
    assert 60 < len(epochs) < 200  # about 50 sampled from the first 90%, and every one of the last 10%
    assert again.history.total == 300  # epochs run, not rows read: "stopped after N epochs", epochs_run
    result = again.fit()
    assert [h.epoch for h in again.history][-11:] == list(range(300, 311))
    assert again.history.total == 310 and result.epochs_run == 310

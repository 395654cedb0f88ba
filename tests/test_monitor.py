"""dltui.core.integrations.monitor: a plain PyTorch loop writes a run folder that watch's readers read - the
loss rows, the run's header, and layer stats whose ‖∇W‖ equals the gradient at that step."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from dltui.core.integrations.monitor import monitor  # noqa: E402
from dltui.core.runs.store.folder import RunFolder, read_metrics  # noqa: E402
from dltui.core.runs.store.layerlog import read_layer_stats  # noqa: E402


def _loop(run_dir, epochs=3, steps=10, every=3.0, fail_at=None):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.ReLU(), torch.nn.Linear(8, 4), torch.nn.Tanh(),
                                torch.nn.Linear(4, 1))
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    x, y = torch.randn(64, 3), torch.randn(64, 1)
    grads, losses = {}, []
    ticks = itertools.count()
    with monitor(model, run_dir, epochs=epochs, lr=0.05, every=every, clock=lambda: float(next(ticks))) as mon:
        for _ in range(epochs):
            total = 0.0
            for s in range(steps):
                if fail_at is not None and mon.steps == fail_at:
                    raise RuntimeError("boom")
                xb, yb = x[s * 6:(s + 1) * 6], y[s * 6:(s + 1) * 6]
                opt.zero_grad()
                loss = torch.nn.functional.mse_loss(model(xb), yb)
                loss.backward()
                opt.step()
                mon.step(loss)
                total += loss.item()
                grads[mon.steps] = [float(m.weight.grad.double().norm()) for m in model if hasattr(m, "weight")]
            losses.append(total / steps)
            mon.epoch(val_loss=losses[-1] / 2)
    return model, grads, losses


def test_metrics_and_status_like_a_dltui_run(tmp_path):
    _, _, losses = _loop(tmp_path)
    rows, _ = read_metrics(tmp_path / "metrics.jsonl")
    assert [r["epoch"] for r in rows] == [1, 2, 3] and [r["step"] for r in rows] == [10, 20, 30]
    assert np.allclose([r["train_loss"] for r in rows], losses, rtol=1e-6)
    st = RunFolder(tmp_path).read_status()
    assert st["state"] == "finished" and st["end"]["reason"] == "completed" and st["end"]["steps"] == 30
    assert st["started"]["layer_sizes"] == [3, 8, 4, 1] and st["started"]["activations"] == ["relu", "tanh"]
    assert "hidden = [8, 4]" in (tmp_path / "preset.toml").read_text()


def test_layer_stats_equal_the_gradients_at_their_step(tmp_path):
    _, grads, _ = _loop(tmp_path)
    got = read_layer_stats(tmp_path)
    assert len(got) >= 5 and [e.step for e in got][:3] == [2, 5, 8]  # armed at 1, 4, 7: measured a step later
    for e in got:
        assert [s.g_norm for s in e.layers] == pytest.approx(grads[e.step], rel=1e-6)
        assert all(s.update_ratio is not None and s.update_ratio > 0 for s in e.layers)
        assert e.layers[0].inactive_kind == "dead" and e.layers[1].inactive_kind == "sat"
        assert e.layers[2].inactive is None


def test_watch_reads_the_monitored_run(tmp_path):
    pytest.importorskip("textual")
    from dltui.core.runs import WatchedRun

    _loop(tmp_path)
    w = WatchedRun(tmp_path, clock=lambda: 1e9)
    w.poll()
    v = w.view
    assert [h.epoch for h in v.history] == [1, 2, 3] and v.backend == "torch" and v.ended
    assert v.layer_sizes == (3, 8, 4, 1) and w.spec is not None and w.spec.values["model"]["hidden"] == [8, 4]
    assert v.stats and all(s.g_norm is not None for s in v.stats)  # gradients from the monitor's layer log


def test_a_failing_loop_is_marked_failed(tmp_path):
    with pytest.raises(RuntimeError):
        _loop(tmp_path, fail_at=15)
    st = RunFolder(tmp_path).read_status()
    assert st["state"] == "failed" and "boom" in st["end"]["message"]
    rows, _ = read_metrics(tmp_path / "metrics.jsonl")
    assert [r["epoch"] for r in rows] == [1, 2]  # the half epoch is written on the way out


def test_an_earlier_run_is_not_overwritten_unless_asked(tmp_path):
    _loop(tmp_path, epochs=1)
    before = (tmp_path / "metrics.jsonl").read_text()
    with pytest.raises(FileExistsError, match="already holds a run"):
        _loop(tmp_path, epochs=2)
    assert (tmp_path / "metrics.jsonl").read_text() == before
    with monitor(torch.nn.Linear(2, 1), tmp_path, overwrite=True) as mon:
        mon.step(1.0)
    assert (tmp_path / "metrics.jsonl").read_text().count("\n") == 1


def test_the_watch_app_opens_a_monitored_run(tmp_path):
    pytest.importorskip("textual")
    from dltui.tui.app import DltuiApp

    from tests.async_helpers import sync, wait_for

    _loop(tmp_path)

    @sync
    async def go():
        app = DltuiApp(watch_dir=tmp_path, freeze_clock=True)
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_for(pilot, lambda: len(getattr(app.screen, "run", None).view.history) == 3,
                           what="the monitored epochs")
            await pilot.pause(0.2)
            assert app.screen.run.view.ended and app.return_code is None

    go()


@pytest.mark.parametrize("act", ["relu", "sigmoid", "tanh", "identity"])
def test_layer_stats_on_the_device_equal_the_numpy_ones(act):
    from dltui.core.backends.base import make_layer_stats
    from dltui.core.integrations.monitor_layers import torch_layer_stats

    g = torch.Generator().manual_seed(3)
    W, b, dW = (torch.randn(7, 5, generator=g) for _ in range(3))
    prev, a = W + 0.01 * torch.randn(7, 5, generator=g), torch.randn(40, 7, generator=g)
    a = {"relu": a.relu(), "sigmoid": a.mul(4).sigmoid(), "tanh": a.mul(3).tanh(), "identity": a}[act]
    got = torch_layer_stats(1, act, W, b, dW, prev.double(), a)
    want = make_layer_stats(1, act, *(t.double().numpy() for t in (W, b[:, None][:, 0], dW, prev, a)))
    for k, v in vars(want).items():
        if isinstance(v, float):
            assert getattr(got, k) == pytest.approx(v, rel=1e-9, abs=1e-12), k
        elif k.endswith("hist"):
            assert sum(getattr(got, k)) == sum(v) and np.abs(np.subtract(getattr(got, k), v)).max() <= 1, k
        else:
            assert getattr(got, k) == v, k
    no_grad = torch_layer_stats(1, act, W, b, None, None, None)
    assert no_grad.g_hist == () and np.isnan(no_grad.g_norm) and no_grad.update_ratio is None
    flat = torch_layer_stats(1, act, torch.full((2, 2), 0.3), b[:2], torch.full((2, 2), float("nan")), None, None)
    assert flat.w_hist == make_layer_stats(1, act, np.full((2, 2), 0.3), np.zeros(2), None, None, None).w_hist
    assert sum(flat.g_hist) == 0 and np.isnan(flat.g_norm)


def test_costly_stats_wait_longer(tmp_path, monkeypatch):
    from dltui.core.integrations import monitor as mod

    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1))
    now = [0.0]
    monkeypatch.setattr(mod, "STATS_SHARE", 1e-9)  # any cost is too much: the next stats are years away
    with monitor(model, tmp_path, every=1.0, clock=lambda: now[0]) as mon:
        for _ in range(20):
            model(torch.randn(2, 3)).sum().backward()
            mon.step(1.0)
            now[0] += 1.0
    assert mon.layerlog.records == 1 and mon._gap > 1e3

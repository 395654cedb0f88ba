"""The torch backend against the NumPy engine: same weights, same per-batch losses, same traces.

Parity is checked in float64 on the CPU (relative difference < 1e-9 over 50 steps) for every
activation, both losses and every optimizer, and in float32 within 1e-4. Also: checkpoints move
between backends, device errors are clear, device failures end a run cleanly, the CUDA-graph
switch falls back on the CPU, and the NumPy path never imports torch.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from dltui.core import events as ev  # noqa: E402
from dltui.core.backends import BackendError, make_backend  # noqa: E402
from dltui.core.backends.device import device_info, resolve_device  # noqa: E402
from dltui.core.backends.numpy_backend import NumpyBackend  # noqa: E402
from dltui.core.backends.torch_backend import TorchBackend  # noqa: E402
from dltui.core.config.spec import load_preset  # noqa: E402
from dltui.core.data.dataset import load_dataset  # noqa: E402
from dltui.core.errors import DeviceFailure  # noqa: E402
from dltui.core.runs.store.checkpoint import load_checkpoint  # noqa: E402
from dltui.core.training.trainer import Trainer  # noqa: E402
from parity_helpers import rel, run_steps  # noqa: E402

ACTIVATIONS = ["sigmoid", "hard_sigmoid", "relu", "leaky_relu", "tanh", "identity"]
OPTIMIZERS = {
    "sgd": {"optimizer.name": "sgd", "optimizer.lr": 0.05},
    "sgd-momentum-l2": {"optimizer.name": "sgd", "optimizer.lr": 0.05, "optimizer.momentum": 0.9,
                        "optimizer.weight_decay": 1e-3},
    "adam": {"optimizer.name": "adam", "optimizer.lr": 0.01},
    "adam-l2": {"optimizer.name": "adam", "optimizer.lr": 0.01, "optimizer.weight_decay": 1e-2,
                "optimizer.beta1": 0.8, "optimizer.beta2": 0.99, "optimizer.eps": 1e-6},
    "adamw": {"optimizer.name": "adamw", "optimizer.lr": 0.01, "optimizer.weight_decay": 0.05},
    "adam-l1": {"optimizer.name": "adam", "optimizer.lr": 0.01, "optimizer.l1": 1e-3},
}
# regression (MSE) and classification (cross-entropy) presets, kept small
LOSS_PRESETS = {"mse": ("piecewise-sigmoid", {"model.hidden": [8, 4]}),
                "cross_entropy": ("spiral", {"model.hidden": [8, 6], "data.n_samples": 200})}
DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def make_spec(loss="mse", dtype="float64", **overrides):
    name, base = LOSS_PRESETS[loss]
    return load_preset(name, {**base, "training.dtype": dtype, "training.device": "cpu", **overrides})


def pair(spec, data=None):
    d = data or load_dataset(spec)
    nb = NumpyBackend(spec, d.n_features, d.n_outputs)
    tb = TorchBackend(spec, d.n_features, d.n_outputs, device="cpu")
    bs = spec.values["training"]["batch_size"]
    for b in (nb, tb):
        b.set_data(d.x_train, d.y_train, d.x_val, d.y_val, bs)
    return d, nb, tb


def assert_same_params(p1, p2, rtol, atol):
    assert len(p1) == len(p2)
    for (W1, b1), (W2, b2) in zip(p1, p2):
        assert W1.shape == W2.shape and b1.shape == b2.shape
        np.testing.assert_allclose(W2, W1, rtol=rtol, atol=atol)
        np.testing.assert_allclose(b2, b1, rtol=rtol, atol=atol)


def check_parity(spec, rtol, atol, steps=50):
    d, nb, tb = pair(spec)
    assert_same_params(nb.get_params(), tb.get_params(), 0, 0 if spec.values["training"]["dtype"] == "float64"
                       else 1e-7)
    losses = run_steps([nb, tb], d, spec, steps)
    assert np.all(np.isfinite(losses))
    assert rel(losses[0], losses[1]) < rtol, (losses[0][:5], losses[1][:5])
    # the losses really changed: the networks trained
    assert losses[0][-1] != losses[0][0]
    assert_same_params(nb.get_params(), tb.get_params(), rtol, atol)
    assert rel(nb.epoch_loss(), tb.epoch_loss()) < rtol
    for split in ("val", "train"):
        (l1, m1), (l2, m2) = nb.evaluate(split), tb.evaluate(split)
        assert rel(l1, l2) < rtol
        assert (m1 is None) == (m2 is None)
        if m1 is not None:
            assert abs(m1 - m2) <= 1.0 / len(d.x_val if split == "val" else d.x_train) + 1e-12
    np.testing.assert_allclose(tb.predict(d.x_val), nb.predict(d.x_val), rtol=rtol, atol=atol)
    return nb, tb


# ------------------------------------------------------------------ parity


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_parity_float64_every_activation(activation):
    spec = make_spec("mse", **{"model.activation": activation, "optimizer.lr": 0.02})
    check_parity(spec, 1e-9, 1e-12)


@pytest.mark.parametrize("loss", list(LOSS_PRESETS))
@pytest.mark.parametrize("opt", list(OPTIMIZERS))
def test_parity_float64_every_optimizer_and_loss(opt, loss):
    spec = make_spec(loss, **OPTIMIZERS[opt], **{"model.activation": "tanh"})
    check_parity(spec, 1e-9, 1e-12)


@pytest.mark.parametrize("activation", ["sigmoid", "hard_sigmoid", "leaky_relu"])
def test_parity_float64_classification_activations(activation):
    spec = make_spec("cross_entropy", **{"model.activation": activation})
    check_parity(spec, 1e-9, 1e-12)


@pytest.mark.parametrize("loss,opt,act", [
    ("mse", "adam", "relu"), ("mse", "sgd-momentum-l2", "sigmoid"),
    ("cross_entropy", "adamw", "tanh"), ("cross_entropy", "sgd", "relu")])
def test_parity_float32(loss, opt, act):
    spec = make_spec(loss, "float32", **OPTIMIZERS[opt], **{"model.activation": act})
    nb, tb = check_parity(spec, 1e-4, 1e-5)
    assert tb.get_params()[0][0].dtype == np.float32


def test_parity_full_batch_and_per_layer_activations():
    spec = make_spec("mse", **{"training.batch_size": 0, "model.activation": ["relu", "sigmoid"]})
    check_parity(spec, 1e-9, 1e-12)


@pytest.mark.skipif(not (DATA / "hw01_2022" / "covid.train.csv").exists(),
                    reason="the HW1 data is not beside the checkout (shared/data/hw01_2022)")
def test_parity_on_hw01_covid_data():
    spec = load_preset("hw01-covid", {"data.path": str(DATA / "hw01_2022" / "covid.train.csv"),
                                      "training.dtype": "float64", "data.top_k": 0})
    assert load_dataset(spec).n_features > 100
    check_parity(spec, 1e-9, 1e-12)


def test_set_lr_keeps_parity():
    spec = make_spec("mse", **OPTIMIZERS["adam"])
    d, nb, tb = pair(spec)

    def each(step, b):
        if step == 20:
            b.set_lr(0.001)

    losses = run_steps([nb, tb], d, spec, 40, each)
    assert rel(losses[0], losses[1]) < 1e-9
    assert_same_params(nb.get_params(), tb.get_params(), 1e-9, 1e-12)


def test_trainer_fit_same_history_on_both_backends():
    spec = make_spec("cross_entropy", **{"training.epochs": 4, "training.patience": 0})
    runs = {}
    for name in ("numpy", "torch"):
        t = Trainer(spec, name, device="cpu", batch_losses=True)
        seen = []
        t.fit([seen.append])
        runs[name] = (t.history, [e.loss for e in seen if isinstance(e, ev.BatchEnded)], t.backend)
    (h1, b1, _), (h2, b2, tb) = runs["numpy"], runs["torch"]
    assert isinstance(tb, TorchBackend) and len(h1) == len(h2) == 4
    assert rel(b1, b2) < 1e-9
    for e1, e2 in zip(h1, h2):
        assert rel(e1.train_loss, e2.train_loss) < 1e-9
        assert rel(e1.val_loss, e2.val_loss) < 1e-9
        assert e1.val_metric == pytest.approx(e2.val_metric)


# ------------------------------------------------------------------ statistics and traces


def test_layer_stats_match_numpy():
    spec = make_spec("mse", **{"model.activation": "sigmoid"})
    d, nb, tb = pair(spec)
    run_steps([nb, tb], d, spec, 10)
    for b in (nb, tb):
        b.mark()
    run_steps([nb, tb], d, spec, 1)
    s1, s2 = nb.layer_stats(), tb.layer_stats()
    assert len(s1) == len(s2) == 3
    for a, b in zip(s1, s2):
        assert (a.index, a.n_in, a.n_out, a.activation, a.inactive_kind) == \
               (b.index, b.n_in, b.n_out, b.activation, b.inactive_kind)
        for f in ("w_mean", "w_std", "w_norm", "b_norm", "g_mean", "g_std", "g_norm", "update_ratio",
                  "inactive"):
            x, y = getattr(a, f), getattr(b, f)
            assert (x is None) == (y is None), f
            if x is not None:
                assert y == pytest.approx(x, rel=1e-7, abs=1e-12), f
        assert a.w_hist == b.w_hist and sum(a.g_hist) == sum(b.g_hist) == a.n_in * a.n_out
    assert s2[0].update_ratio > 0
    # without a mark: no update ratio, but statistics still come
    s3 = tb.layer_stats()
    assert s3[0].update_ratio is None and s3[0].g_norm > 0 and s3[0].inactive is not None


@pytest.mark.parametrize("loss,opt", [("mse", "adam-l1"), ("cross_entropy", "sgd-momentum-l2"),
                                      ("mse", "adamw"), ("cross_entropy", "sgd")])
def test_trace_matches_numpy_and_changes_nothing(loss, opt):
    spec = make_spec(loss, **OPTIMIZERS[opt], **{"model.activation": "tanh"})
    d, nb, tb = pair(spec)
    run_steps([nb, tb], d, spec, 7)
    x, y = d.x_train[:5], d.y_train[:5]
    before = tb.get_params()
    t1, t2 = nb.trace(x, y), tb.trace(x, y)
    assert_same_params(before, tb.get_params(), 0, 0)  # the trace changed no weight
    assert t2.backend == "torch" and t1.loss == t2.loss
    assert t1.optimizer == t2.optimizer
    assert t2.C == pytest.approx(t1.C, rel=1e-10)
    for k in ("x", "y", "output", "dC_dout"):
        np.testing.assert_allclose(getattr(t2, k), getattr(t1, k), rtol=1e-9, atol=1e-13)
    assert len(t1.layers) == len(t2.layers)
    for l1, l2 in zip(t1.layers, t2.layers):
        assert (l1.index, l1.activation) == (l2.index, l2.activation)
        for k in ("W", "b", "a_in", "z", "a", "delta", "dW", "db"):
            a, b = getattr(l1, k), getattr(l2, k)
            assert a.shape == b.shape, k
            np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-13, err_msg=k)
        assert l1.update.keys() == l2.update.keys() == {"W", "b"}
        for k in ("W", "b"):
            np.testing.assert_allclose(l2.update[k], l1.update[k], rtol=1e-7, atol=1e-13)
        assert l1.optimizer_state.keys() == l2.optimizer_state.keys()
        for s in l1.optimizer_state:
            for k in ("W", "b"):
                np.testing.assert_allclose(l2.optimizer_state[s][k], l1.optimizer_state[s][k], rtol=1e-9,
                                           atol=1e-13)
    assert t2.to_json()  # serialisable like the NumPy trace
    # the trace touched no optimizer state either: training goes on in step with NumPy
    losses = run_steps([nb, tb], d, spec, 10)
    assert rel(losses[0], losses[1]) < 1e-9
    assert_same_params(nb.get_params(), tb.get_params(), 1e-9, 1e-12)


def test_trace_update_is_the_next_step():
    spec = make_spec("mse", **OPTIMIZERS["adam"])
    d, _, tb = pair(spec)
    run_steps([tb], d, spec, 3)
    tb.begin_epoch(np.arange(len(d.x_train)))
    bs = spec.values["training"]["batch_size"]
    tr = tb.trace(d.x_train[:bs], d.y_train[:bs])
    before = tb.get_params()
    tb.train_step(0)
    after = tb.get_params()
    for lt, (W0, b0), (W1, b1) in zip(tr.layers, before, after):
        np.testing.assert_allclose(W1 - W0, lt.update["W"], rtol=1e-9, atol=1e-15)
        np.testing.assert_allclose(b1 - b0, lt.update["b"], rtol=1e-9, atol=1e-15)


# ------------------------------------------------------------------ checkpoints across backends


def test_checkpoint_trained_on_torch_predicts_the_same_on_numpy(tmp_path):
    spec = make_spec("mse", "float32", **{"training.epochs": 3})
    t = Trainer(spec, "torch", device="cpu", out_dir=tmp_path / "run")
    t.fit()
    params, meta = load_checkpoint(tmp_path / "run" / "best.safetensors")
    assert meta["backend"] == "torch" and params[0][0].dtype == np.float32
    sizes = meta["layer_sizes"]
    nb = NumpyBackend(spec, sizes[0], sizes[-1], params=params)
    tb = TorchBackend(spec, sizes[0], sizes[-1], params=params, device="cpu")
    x = t.data.x_val
    np.testing.assert_allclose(nb.predict(x), tb.predict(x), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(t.backend.predict(x), tb.predict(x), rtol=0, atol=0)  # best weights restored


def test_checkpoint_trained_on_numpy_predicts_the_same_on_torch(tmp_path):
    spec = make_spec("cross_entropy", **{"training.epochs": 3})
    t = Trainer(spec, "numpy", out_dir=tmp_path / "run")
    t.fit()
    params, meta = load_checkpoint(tmp_path / "run" / "last.safetensors")
    sizes = meta["layer_sizes"]
    tb = make_backend("torch", spec, sizes[0], sizes[-1], params=params, device="cpu")
    x = t.data.x_val
    np.testing.assert_allclose(tb.predict(x), NumpyBackend(spec, sizes[0], sizes[-1], params).predict(x),
                               rtol=1e-10, atol=1e-12)


# ------------------------------------------------------------------ devices


def test_resolve_device_and_clear_errors():
    best = "cuda:0" if torch.cuda.is_available() else "mps" if torch.backends.mps.is_available() else "cpu"
    assert resolve_device("auto") == resolve_device(None) == best
    assert resolve_device("cpu") == "cpu"
    with pytest.raises(BackendError) as e:
        resolve_device("cuda:7")
    msg = str(e.value)
    assert "cuda:7" in msg and "Available:" in msg and "cpu" in msg
    with pytest.raises(BackendError, match="Unknown device 'tpu'"):
        resolve_device("tpu")
    if not torch.backends.mps.is_available():
        with pytest.raises(BackendError, match="'mps' is not available"):
            TorchBackend(make_spec(), 1, 1, device="mps")


def test_cli_reports_a_missing_device_without_traceback(capsys):
    from dltui.tui.cli import main

    rc = main(["train", "xor", "--backend", "torch", "--device", "cuda:9", "--epochs", "1", "--quiet"])
    err = capsys.readouterr().err
    assert rc == 2
    assert "cuda:9" in err and "Available:" in err and "Traceback" not in err


def test_describe_device_and_device_info_on_cpu():
    spec = make_spec()
    tb = TorchBackend(spec, 1, 1, device="cpu")
    assert tb.describe_device() == "cpu"
    info = tb.device_info()
    assert info["backend"] == "torch" and info["device"] == "cpu" and info["name"]
    assert set(info) >= {"mem_used", "mem_total", "util", "temp"}
    assert device_info("cpu")["mem_total"] is None  # nothing made up


def test_devices_command(capsys, monkeypatch):
    from dltui.tui.cli import main

    assert main(["devices"]) == 0
    out = capsys.readouterr().out
    assert f"torch {torch.__version__}" in out and "cpu" in out and "--device auto picks" in out
    monkeypatch.setitem(sys.modules, "torch", None)  # as if torch were not installed
    assert main(["devices"]) == 0
    out = capsys.readouterr().out
    assert "torch is not installed" in out and 'pip install "dltui[torch]"' in out


# ------------------------------------------------------------------ failures


@pytest.mark.parametrize("error", [
    torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB"),
    RuntimeError("CUDA error: an illegal memory access was encountered"),
])
def test_device_failure_ends_the_run_cleanly_and_keeps_the_checkpoint(tmp_path, error):
    spec = make_spec("mse", **{"training.epochs": 5})
    t = Trainer(spec, "torch", device="cpu", out_dir=tmp_path / "run")
    be = t.backend
    real, calls = be._eager_step, []

    def flaky(xb, yb):
        calls.append(1)
        if len(calls) > 2 * t.batches_per_epoch + 1:  # fail in the third epoch
            raise error
        real(xb, yb)

    be._eager_step = flaky
    seen = []
    with pytest.raises(DeviceFailure) as e:
        t.fit([seen.append])
    msg = str(e.value)
    assert "cpu" in msg and "checkpoints written so far are kept" in msg.lower()
    if isinstance(error, torch.cuda.OutOfMemoryError):
        assert "Out of memory" in msg and "batch_size" in msg
    else:
        assert "failed during training step" in msg and "illegal memory access" in msg
    failed = [x for x in seen if isinstance(x, ev.Failed)]
    assert len(failed) == 1 and "DeviceFailure" in failed[0].message and failed[0].epoch == 3
    params, meta = load_checkpoint(tmp_path / "run" / "best.safetensors")
    assert meta["epoch"] in (1, 2) and params[0][0].shape == be.get_params()[0][0].shape


def test_plain_bug_on_cpu_is_not_dressed_up_as_a_device_failure():
    spec = make_spec()
    d, _, tb = pair(spec)
    tb.begin_epoch(np.arange(len(d.x_train)))

    def broken(xb, yb):
        raise RuntimeError("mat1 and mat2 shapes cannot be multiplied")

    tb._eager_step = broken
    with pytest.raises(RuntimeError, match="shapes cannot be multiplied") as e:
        tb.train_step(0)
    assert not isinstance(e.value, DeviceFailure)


# ------------------------------------------------------------------ CUDA graph switch


def test_graph_switch_falls_back_on_cpu_with_a_message():
    spec = make_spec("mse", **{"training.graph": True})
    d, nb, tb = pair(spec)
    assert tb.warning and "CUDA graphs need a CUDA GPU" in tb.warning and "cpu" in tb.warning
    losses = run_steps([nb, tb], d, spec, 30)
    assert tb.graph_replays == 0
    assert rel(losses[0], losses[1]) < 1e-9
    plain = TorchBackend(make_spec("mse"), d.n_features, d.n_outputs, device="cpu")
    assert plain.warning is None


class ReplayOnCPU:
    """A stand-in for a CUDA graph on the CPU: replay runs the recorded step body again (a real
    graph's backward writes fresh gradients, hence the zeroing)."""

    def __init__(self, backend, body):
        self.backend, self.body = backend, body
        self.replays = 0

    def replay(self):
        self.replays += 1
        self.backend.opt.zero_grad(set_to_none=True)
        self.body()


@pytest.mark.parametrize("loss,opt", [("mse", "adam-l1"), ("cross_entropy", "sgd-momentum-l2")])
def test_graph_path_bookkeeping_matches_numpy(loss, opt):
    """The graph path's logic (warm-up, static buffers, losses summed on the device, the eager
    last partial batch, recapture after set_lr, eager recording for layer stats) run on the CPU
    with the capture swapped for a replayable stand-in: the steps must stay NumPy's steps."""
    spec = make_spec(loss, **OPTIMIZERS[opt], **{"training.graph": True, "training.batch_size": 24})
    d, nb, tb = pair(spec)
    assert len(d.x_train) % spec.values["training"]["batch_size"]  # a partial last batch
    tb._graph_ok, tb.warning = True, None
    tb._warm_up_step = tb._eager_step
    graphs = []

    def record(body):
        graphs.append(ReplayOnCPU(tb, body))
        return graphs[-1]

    tb._record_graph = record

    stats = {}

    def each(step, b):
        if step == 30:
            b.set_lr(b.opt_cfg["lr"] / 3)
        if step == 40:
            b.mark()  # as the trainer does when the UI asks for statistics: mark, step, layer_stats
        if step == 41:
            stats.setdefault("numpy" if b is nb else "torch", b.layer_stats())

    losses = run_steps([nb, tb], d, spec, 60, each)
    assert len(graphs) == 2 and graphs[0].replays > 10 and graphs[1].replays > 10  # recaptured after set_lr
    assert tb.graph_replays == sum(g.replays for g in graphs)
    assert rel(losses[0], losses[1]) < 1e-9
    assert rel(nb.epoch_loss(), tb.epoch_loss()) < 1e-9
    assert_same_params(nb.get_params(), tb.get_params(), 1e-9, 1e-12)
    s1, s2 = stats["numpy"], stats["torch"]
    for f in ("g_norm", "update_ratio", "inactive", "w_norm"):
        assert [getattr(s, f) for s in s2] == pytest.approx([getattr(s, f) for s in s1], rel=1e-7), f


# ------------------------------------------------------------------ import hygiene


def test_numpy_path_and_device_module_never_import_torch():
    code = (
        "import sys\n"
        "import dltui.core.backends.device, dltui.core.training.trainer, dltui.tui.commands.devices_cmd\n"
        "from dltui.core.config.spec import load_preset\n"
        "from dltui.core.training.trainer import Trainer\n"
        "Trainer(load_preset('xor', {'training.epochs': 2})).fit()\n"
        "info = dltui.core.backends.device.device_info('cpu', 'numpy')\n"
        "assert info['backend'] == 'numpy' and info['name']\n"
        "assert dltui.core.backends.device.describe_device('cpu') == 'cpu'\n"
        "bad = [m for m in ('torch', 'textual', 'rich') if m in sys.modules]\n"
        "assert not bad, bad\n"
        "print('clean')\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "clean" in r.stdout


def test_nvml_handle_is_found_by_uuid_then_by_pci_address():
    from types import SimpleNamespace

    from dltui.core.backends.device import _nvml_handle

    class FakeNvml:
        def __init__(self, uuids=(), buses=()):
            self.uuids, self.buses, self.asked = set(uuids), set(buses), []

        def nvmlDeviceGetHandleByUUID(self, u):  # noqa: N802 - NVML's name
            self.asked.append(u)
            if u not in self.uuids:
                raise RuntimeError("NVML_ERROR_NOT_FOUND")
            return ("uuid", u)

        def nvmlDeviceGetHandleByPciBusId(self, b):  # noqa: N802
            self.asked.append(b)
            if b not in self.buses:
                raise RuntimeError("NVML_ERROR_NOT_FOUND")
            return ("pci", b)

    props = SimpleNamespace(uuid="1b2c-33", pci_bus_id=0x1a, pci_device_id=0, pci_domain_id=0)
    assert _nvml_handle(FakeNvml(uuids={b"GPU-1b2c-33"}), props) == ("uuid", b"GPU-1b2c-33")
    nv = FakeNvml(buses={b"00000000:1a:00.0"})
    assert _nvml_handle(nv, props) == ("pci", b"00000000:1a:00.0")
    assert nv.asked[0] == b"GPU-1b2c-33"
    assert _nvml_handle(FakeNvml(), SimpleNamespace()) is None

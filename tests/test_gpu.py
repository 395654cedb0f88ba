"""GPU checks of the torch backend (marked ``gpu``; skipped without CUDA; never needed by CI).

Run them on a machine with an NVIDIA GPU: ``pytest -m gpu tests/test_gpu.py`` (or
``benchmarks/gpu_check.sh``). They check that training on CUDA matches the CPU engines, that
device information is real, that the CUDA-graph path takes the same steps as the eager one, and
that running out of GPU memory ends a step with a clear error.
"""

from __future__ import annotations

import gc

import numpy as np
import pytest

torch = pytest.importorskip("torch")

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (torch sees none)")]

from dltui.core import events as ev  # noqa: E402
from dltui.core.backends.device import device_info, resolve_device  # noqa: E402
from dltui.core.backends.numpy_backend import NumpyBackend  # noqa: E402
from dltui.core.backends.torch_backend import TorchBackend  # noqa: E402
from dltui.core.config.spec import load_preset  # noqa: E402
from dltui.core.data.dataset import load_dataset  # noqa: E402
from dltui.core.errors import DeviceFailure  # noqa: E402
from dltui.core.runs.store.checkpoint import load_checkpoint  # noqa: E402
from dltui.core.training.trainer import Trainer  # noqa: E402
from parity_helpers import rel, run_steps  # noqa: E402

PRESETS = {"mse": ("piecewise-sigmoid", {"model.hidden": [16, 8]}),
           "cross_entropy": ("spiral", {"model.hidden": [16, 8], "data.n_samples": 300})}


def make_spec(loss="mse", dtype="float32", **over):
    name, base = PRESETS[loss]
    return load_preset(name, {**base, "training.dtype": dtype, **over})


def backends(spec, *devices_and_graph):
    d = load_dataset(spec)
    out = []
    for dev, graph in devices_and_graph:
        s = spec.with_overrides({"training.graph": graph})
        if dev == "numpy":
            b = NumpyBackend(s, d.n_features, d.n_outputs)
        else:
            b = TorchBackend(s, d.n_features, d.n_outputs, device=dev)
        b.set_data(d.x_train, d.y_train, d.x_val, d.y_val, s.values["training"]["batch_size"])
        out.append(b)
    return d, out


@pytest.mark.parametrize("loss,dtype,tol", [("mse", "float64", 1e-9), ("cross_entropy", "float64", 1e-9),
                                            ("mse", "float32", 1e-4), ("cross_entropy", "float32", 1e-4)])
def test_cuda_training_matches_the_cpu(loss, dtype, tol):
    spec = make_spec(loss, dtype, **{"optimizer.name": "adam", "optimizer.lr": 0.01,
                                     "model.activation": "tanh"})
    d, (nb, cpu, gpu) = backends(spec, ("numpy", False), ("cpu", False), ("cuda", False))
    assert gpu.device == "cuda:0" and gpu.x_train.is_cuda
    losses = run_steps([nb, cpu, gpu], d, spec, 50, seed=3)
    assert np.all(np.isfinite(losses)) and losses[0][-1] != losses[0][0]
    assert rel(losses[0], losses[2]) < tol, (losses[0][-3:], losses[2][-3:])
    assert rel(losses[1], losses[2]) < tol
    for (W1, b1), (W2, b2) in zip(nb.get_params(), gpu.get_params()):
        np.testing.assert_allclose(W2, W1, rtol=tol * 10, atol=tol)
        np.testing.assert_allclose(b2, b1, rtol=tol * 10, atol=tol)
    assert rel(nb.epoch_loss(), gpu.epoch_loss()) < tol
    assert rel(nb.evaluate("val")[0], gpu.evaluate("val")[0]) < tol


def test_trainer_on_cuda_and_checkpoint_on_numpy(tmp_path):
    spec = make_spec("mse", "float32", **{"training.epochs": 5, "training.device": "cuda"})
    runs = {}
    for name in ("numpy", "torch"):
        t = Trainer(spec, name, out_dir=tmp_path / name, device="cpu" if name == "numpy" else None)
        seen = []
        t.fit([seen.append])
        runs[name] = t
        assert any(isinstance(e, ev.Finished) for e in seen)
    t_np, t_gpu = runs["numpy"], runs["torch"]
    assert t_gpu.backend.describe_device().startswith("cuda:0 ")
    for a, b in zip(t_np.history, t_gpu.history):
        assert rel(a.train_loss, b.train_loss) < 1e-4 and rel(a.val_loss, b.val_loss) < 1e-4
    params, meta = load_checkpoint(tmp_path / "torch" / "best.safetensors")
    sizes = meta["layer_sizes"]
    x = t_gpu.data.x_val
    np.testing.assert_allclose(NumpyBackend(spec, sizes[0], sizes[-1], params).predict(x),
                               t_gpu.backend.predict(x), rtol=1e-5, atol=1e-6)


def test_device_info_reports_a_real_name_and_memory():
    assert resolve_device("auto") == "cuda:0"
    spec = make_spec()
    d, (gpu,) = backends(spec, ("cuda", False))
    desc = gpu.describe_device()
    assert desc.startswith("cuda:0 ") and desc[len("cuda:0 "):] == torch.cuda.get_device_name(0)
    info = gpu.device_info()
    assert info["backend"] == "torch" and info["device"] == "cuda:0"
    assert info["name"] == torch.cuda.get_device_name(0)
    assert info["mem_total"] > 1 << 30 and 0 < info["mem_free"] <= info["mem_total"]
    assert info["mem_used"] > 0  # the data and the weights live on the GPU
    gc.collect()  # nothing left for the collector to free between the two readings
    before = device_info("cuda:0")["mem_used"]
    big = torch.empty(64 << 20, dtype=torch.uint8, device="cuda")
    assert device_info("cuda:0")["mem_used"] >= before + (64 << 20)
    del big
    if nvml_reads_util_and_temp():
        assert info["util"] is not None and 0 <= info["util"] <= 100, info
        assert info["temp"] is not None and 5 < info["temp"] < 120, info
    else:  # no nvidia-ml-py, or NVML cannot read this GPU: nothing is made up
        assert info["util"] is None and info["temp"] is None
    print("device info:", info)


def nvml_reads_util_and_temp() -> bool:
    """Whether NVML itself can read GPU 0's utilisation and temperature here (independent of dltui)."""
    try:
        import pynvml
    except ImportError:
        return False
    try:
        pynvml.nvmlInit()
        h = pynvml.nvmlDeviceGetHandleByIndex(0)
        pynvml.nvmlDeviceGetUtilizationRates(h)
        pynvml.nvmlDeviceGetTemperature(h, pynvml.NVML_TEMPERATURE_GPU)
        pynvml.nvmlShutdown()
        return True
    except Exception:  # noqa: BLE001
        return False


@pytest.mark.parametrize("loss,opt", [("mse", {"optimizer.name": "adam", "optimizer.lr": 0.01}),
                                      ("mse", {"optimizer.name": "sgd", "optimizer.lr": 0.05,
                                               "optimizer.momentum": 0.9, "optimizer.l1": 1e-3}),
                                      ("cross_entropy", {"optimizer.name": "adamw", "optimizer.lr": 0.01,
                                                         "optimizer.weight_decay": 0.01})])
def test_graph_losses_equal_eager(loss, opt):
    # float64 so that a reordering of the optimizer's arithmetic (capturable Adam) cannot hide a real
    # difference; the training set's last batch is partial, so the eager fallback runs every epoch
    spec = make_spec(loss, "float64", **opt, **{"model.activation": "relu"})
    d, (eager, graph) = backends(spec, ("cuda", False), ("cuda", True))
    assert len(d.x_train) % spec.values["training"]["batch_size"] != 0
    assert graph.warning is None

    def each(step, b):
        if step == 40:
            b.set_lr(b.opt_cfg["lr"] / 2)  # a new learning rate: the graph is captured again
        if step == 50:
            b.mark()

    losses = run_steps([eager, graph], d, spec, 70, each, seed=3)
    assert graph.graph_replays > 30 and eager.graph_replays == 0
    assert graph.warning is None
    assert rel(losses[0], losses[1]) < 1e-9, (losses[0][-3:], losses[1][-3:])
    for (W1, b1), (W2, b2) in zip(eager.get_params(), graph.get_params()):
        np.testing.assert_allclose(W2, W1, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(b2, b1, rtol=1e-9, atol=1e-12)
    assert rel(eager.epoch_loss(), graph.epoch_loss()) < 1e-9
    s1, s2 = eager.layer_stats(), graph.layer_stats()
    assert [s.g_norm for s in s2] == pytest.approx([s.g_norm for s in s1], rel=1e-6)
    t1, t2 = eager.trace(d.x_train[:4], d.y_train[:4]), graph.trace(d.x_train[:4], d.y_train[:4])
    for l1, l2 in zip(t1.layers, t2.layers):
        np.testing.assert_allclose(l2.update["W"], l1.update["W"], rtol=1e-7, atol=1e-14)


def test_graph_float32_close_to_numpy():
    spec = make_spec("mse", "float32", **{"optimizer.name": "adam", "optimizer.lr": 0.01})
    d, (nb, graph) = backends(spec, ("numpy", False), ("cuda", True))
    losses = run_steps([nb, graph], d, spec, 60, seed=3)
    assert graph.graph_replays > 0
    assert rel(losses[0], losses[1]) < 1e-4


def test_out_of_memory_is_a_clear_device_failure():
    spec = make_spec("mse", "float32", **{"model.hidden": [1 << 17]})
    gpu = TorchBackend(spec, 1, 1, device="cuda")
    n = 1 << 20  # one batch's hidden activations: 2^37 floats = 512 GiB, more than any GPU has
    x = np.zeros((n, 1), np.float32)
    gpu.set_data(x, x.copy(), x[:1], x[:1], 0)
    gpu.begin_epoch(np.arange(n))
    with pytest.raises(DeviceFailure, match=r"Out of memory on cuda:0 .*batch_size") as e:
        gpu.train_step(0)
    assert isinstance(e.value.__cause__, torch.cuda.OutOfMemoryError)
    gpu.close()
    torch.cuda.empty_cache()

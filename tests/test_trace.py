"""The backprop trace, checked independently: plain NumPy recomputes every number from the
exported W, b, x and y; gradients match finite differences; updates follow the optimizers' rules."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stderr, redirect_stdout

import numpy as np
import pytest
from dltui.core import Trainer, load_preset
from dltui.core.backends import make_backend
from dltui.core.data.dataset import load_dataset
from dltui.core.engine.gradcheck import GradCheck, finite_difference_check, torch_autograd_check
from dltui.core.engine.stages import stage_order, stages
from dltui.core.engine.tracing import trace_batch
from dltui.tui.cli import main
from dltui.tui.trace_text import trace_text

F64 = {"training.dtype": "float64"}


def cli(*argv) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        rc = main(list(argv))
    return rc, out.getvalue(), err.getvalue()


def arr(d) -> np.ndarray:
    a = np.array(d["data"], dtype=np.float64)
    assert list(a.shape) == d["shape"] or (a.size == 0 and 0 in d["shape"])
    return a


def sigma(name, z):
    return {"identity": z, "relu": np.maximum(z, 0), "sigmoid": 1 / (1 + np.exp(-z)),
            "tanh": np.tanh(z)}[name]


def sigma_prime(name, z):
    s = 1 / (1 + np.exp(-z))
    return {"identity": np.ones_like(z), "relu": (z > 0) * 1.0, "sigmoid": s * (1 - s),
            "tanh": 1 - np.tanh(z) ** 2}[name]


def recompute(d) -> dict:
    """Forward and backward from the exported weights and batch only, in plain NumPy."""
    x, y = arr(d["x"]), arr(d["y"])
    Ws = [arr(layer["W"]) for layer in d["layers"]]
    bs = [arr(layer["b"]) for layer in d["layers"]]
    acts = [layer["activation"] for layer in d["layers"]]
    a, a_ins, zs, As = x, [], [], []
    for W, b, act in zip(Ws, bs, acts):
        a_ins.append(a)
        z = a @ W.T + b
        a = sigma(act, z)
        zs.append(z)
        As.append(a)
    if d["loss"] == "mse":
        C = np.mean((a - y) ** 2)
        g = 2 * (a - y) / a.size
    else:
        labels = y.astype(int)
        p = np.exp(a - a.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        C = -np.mean(np.log(p[np.arange(len(labels)), labels]))
        g = (p - np.eye(a.shape[1])[labels]) / len(labels)
    deltas = [None] * len(Ws)
    deltas[-1] = g * sigma_prime(acts[-1], zs[-1])
    for i in range(len(Ws) - 2, -1, -1):
        deltas[i] = sigma_prime(acts[i], zs[i]) * (deltas[i + 1] @ Ws[i + 1])
    dWs = [dl.T @ ai for dl, ai in zip(deltas, a_ins)]
    dbs = [dl.sum(0) for dl in deltas]
    return {"C": C, "a_in": a_ins, "z": zs, "a": As, "delta": deltas, "dW": dWs, "db": dbs, "W": Ws, "b": bs}


@pytest.mark.parametrize("preset", ["piecewise-sigmoid", "xor", "spiral"])
def test_json_trace_recomputed_with_plain_numpy(preset):
    rc, out, err = cli("trace", preset, "--json", "--sample", "40", "--set", "training.dtype=float64")
    assert rc == 0, err
    d = json.loads(out)
    assert d["dtype"] == "float64" and d["loss"] in ("mse", "cross_entropy")
    for key in ("x", "y", "loss", "C", "layers"):
        assert key in d
    ref = recompute(d)
    assert d["C"] == pytest.approx(ref["C"], rel=1e-10, abs=1e-12)
    spec = load_preset(preset)
    assert len(d["layers"]) == len(spec.values["model"]["hidden"]) + 1
    for i, layer in enumerate(d["layers"]):
        assert layer["activation"] == (spec.activations + ["identity"])[i]
        W = arr(layer["W"])
        assert W.shape == (arr(layer["z"]).shape[1], arr(layer["a_in"]).shape[1])  # [out, in]
        for k in ("a_in", "z", "a", "delta", "dW", "db"):
            np.testing.assert_allclose(arr(layer[k]), ref[k][i], rtol=1e-10, atol=1e-12,
                                       err_msg=f"{k}({i + 1})")
        np.testing.assert_allclose(arr(layer["sigma_prime"]), sigma_prime(layer["activation"], ref["z"][i]),
                                   rtol=1e-10, atol=1e-12)
        assert set(layer["update"]) == {"W", "b"}
        assert arr(layer["update"]["W"]).shape == W.shape
    # the batch holding training row 40, and the row inside it
    bs = spec.values["training"]["batch_size"]
    assert d["batch"]["index"] == 40 // bs and d["sample"] == 40 % bs
    data = load_dataset(load_preset(preset, F64))
    np.testing.assert_array_equal(arr(d["x"]), data.x_train[d["batch"]["rows"][0]:d["batch"]["rows"][1]])


def central_difference(ref_loss, params, layer, idx, eps=1e-6):
    W = params[layer]
    old = W[idx]
    W[idx] = old + eps
    up = ref_loss(params)
    W[idx] = old - eps
    down = ref_loss(params)
    W[idx] = old
    return (up - down) / (2 * eps)


@pytest.mark.parametrize("preset", ["piecewise-sigmoid", "spiral"])
def test_gradients_match_finite_differences(preset):
    rc, out, _ = cli("trace", preset, "--json", "--set", "training.dtype=float64")
    d = json.loads(out)
    ref = recompute(d)
    Ws = [W.copy() for W in ref["W"]]

    def loss(ws):
        dd = json.loads(json.dumps(d))
        for layer, W in zip(dd["layers"], ws):
            layer["W"] = {"shape": list(W.shape), "data": W.tolist()}
        return recompute(dd)["C"]

    rng = np.random.default_rng(0)
    for li, layer in enumerate(d["layers"]):
        dW = arr(layer["dW"])
        for _ in range(3):
            idx = tuple(int(rng.integers(n)) for n in dW.shape)
            num = central_difference(loss, Ws, li, idx)
            assert dW[idx] == pytest.approx(num, rel=1e-5, abs=1e-9)


def test_finite_difference_check_reports_small_errors_and_catches_a_wrong_gradient():
    t = Trainer(load_preset("spiral", F64))
    tr = trace_batch(t)
    checks = finite_difference_check(tr)
    assert len(checks) >= 2 * tr.n_layers and all(isinstance(c, GradCheck) for c in checks)
    assert {c.layer for c in checks} == set(range(1, tr.n_layers + 1))
    assert max(c.rel_err for c in checks) < 1e-6
    # a wrong gradient is caught
    c0 = checks[0]
    tr.layers[c0.layer - 1].dW[c0.i, c0.j] *= 1.1
    bad = finite_difference_check(tr, picks=[(c0.layer, "W", c0.i, c0.j)])[0]
    assert bad.rel_err > 0.05
    # straight from a backend and a batch
    direct = finite_difference_check(t.backend, tr.x, tr.y, picks=[(1, "b", 0, None)])
    assert direct[0].name == "b(1)[0]" and direct[0].rel_err < 1e-6


def test_torch_autograd_check_agrees():
    pytest.importorskip("torch")
    tr = trace_batch(Trainer(load_preset("piecewise-sigmoid", F64)), sample=3)
    checks = torch_autograd_check(tr)
    assert checks and max(c.rel_err for c in checks) < 1e-12


def stepped_backend(opt: dict, steps: int = 3):
    """A float64 NumPy backend on piecewise-relu after a few optimizer steps, so the optimizer has state."""
    spec = load_preset("piecewise-relu", {**F64, **opt})
    data = load_dataset(spec)
    be = make_backend("numpy", spec, data.n_features, data.n_outputs)
    be.set_data(data.x_train, data.y_train, data.x_val, data.y_val, 16)
    be.begin_epoch(np.arange(len(data.x_train)))
    for b in range(steps):
        be.train_step(b)
    return be, data, spec.values["optimizer"]


OPTIMIZERS = {
    "sgd": {"optimizer.name": "sgd", "optimizer.lr": 0.05},
    "sgd-wd": {"optimizer.name": "sgd", "optimizer.lr": 0.05, "optimizer.weight_decay": 0.01},
    "momentum": {"optimizer.name": "sgd", "optimizer.lr": 0.05, "optimizer.momentum": 0.9},
    "adam": {"optimizer.name": "adam", "optimizer.lr": 0.01},
    "adamw": {"optimizer.name": "adamw", "optimizer.lr": 0.01, "optimizer.weight_decay": 0.1},
}


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_update_follows_the_optimizer_rule(name):
    be, data, o = stepped_backend(OPTIMIZERS[name])
    params = [p.copy() for p in be.net.params]
    opt = be.opt
    before = {k: [np.array(v, copy=True) if v is not None else None for v in getattr(opt, k)]
              for k in ("buf", "m", "v") if hasattr(opt, k)}
    t_before = opt.t
    tr = trace_batch(be, data, batch=2, batch_size=16)
    d = json.loads(tr.to_json())
    assert d["optimizer"]["name"] == o["name"] and d["optimizer"]["step"] == t_before + 1
    lr, wd = o["lr"], o["weight_decay"]
    for i, layer in enumerate(d["layers"]):
        for k, p in (("W", 0), ("b", 1)):
            g = arr(layer["dW" if k == "W" else "db"])
            P = params[2 * i + p]
            n = 2 * i + p
            if o["name"] == "sgd":
                g = g + wd * P
                if o["momentum"]:
                    g = o["momentum"] * before["buf"][n] + g
                expected = -lr * g
            else:
                b1, b2, eps, t = o["beta1"], o["beta2"], o["eps"], t_before + 1
                if o["name"] == "adam":
                    g = g + wd * P
                m = b1 * before["m"][n] + (1 - b1) * g
                v = b2 * before["v"][n] + (1 - b2) * g * g
                step = lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
                if o["name"] == "adamw":
                    expected = P * (1 - lr * wd) - step - P
                else:
                    expected = -step
                np.testing.assert_allclose(arr(layer["optimizer_state"]["m"][k]), m, rtol=1e-10, atol=1e-14)
            np.testing.assert_allclose(arr(layer["update"][k]), expected, rtol=1e-9, atol=1e-14)
    # tracing changed nothing
    for p, q in zip(params, be.net.params):
        np.testing.assert_array_equal(p, q)
    assert opt.t == t_before


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=pytest.mark.gpu)])
def test_torch_backend_trace_agrees_with_numpy(device):
    torch = pytest.importorskip("torch")
    pytest.importorskip("dltui.core.backends.torch_backend")
    if device == "cuda" and not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    spec = load_preset("spiral", F64)
    data = load_dataset(spec)
    traces = {}
    for name in ("numpy", "torch"):
        be = make_backend(name, spec, data.n_features, data.n_outputs, device=device if name == "torch" else None)
        be.set_data(data.x_train, data.y_train, data.x_val, data.y_val, 32)
        traces[name] = trace_batch(be, data, batch_size=32, sample=5).to_dict()
    a, b = traces["numpy"], traces["torch"]
    assert a["C"] == pytest.approx(b["C"], rel=1e-10)
    for la, lb in zip(a["layers"], b["layers"]):
        assert la["activation"] == lb["activation"]
        for k in ("W", "b", "a_in", "z", "a", "delta", "dW", "db"):
            np.testing.assert_allclose(arr(lb[k]), arr(la[k]), rtol=1e-9, atol=1e-12, err_msg=k)
        for k in ("W", "b"):
            np.testing.assert_allclose(arr(lb["update"][k]), arr(la["update"][k]), rtol=1e-8, atol=1e-12)


def test_trace_batch_through_a_trainer_and_sample_selection():
    t = Trainer(load_preset("xor", F64), start_paused=True)
    tr = trace_batch(t, sample=70)
    assert tr.extra["batch"]["index"] == 2 and tr.extra["sample"] == 6
    np.testing.assert_array_equal(tr.x, t.data.x_train[64:96])
    with pytest.raises(IndexError):
        trace_batch(t, sample=len(t.data.x_train))
    # from a spec: a fresh network at the same initial weights gives the same trace
    ts = trace_batch(load_preset("xor", F64), sample=70)
    np.testing.assert_array_equal(ts.x, tr.x)
    np.testing.assert_array_equal(ts.layers[0].dW, tr.layers[0].dW)


def test_stages_in_the_lectures_order_with_formulas():
    tr = trace_batch(Trainer(load_preset("spiral", F64)), sample=1)
    keys = [st.key for st in stages(tr, 1)]
    assert keys == ["F1", "F2", "F3", "C", "B3", "B2", "B1", "G1", "G2", "G3", "U1", "U2", "U3"]
    assert stage_order(2) == [("forward", 1), ("forward", 2), ("loss", None), ("backward", 2),
                              ("backward", 1), ("gradients", 1), ("gradients", 2), ("update", 1),
                              ("update", 2)]
    by = {st.key: st for st in stages(tr, 1)}
    assert "z(2) = W(2) a(1) + b(2)" in by["F2"].formula
    assert "δ(1) = σ'(z(1)) ⊙ W(2)ᵀ δ(2)" in by["B1"].formula
    assert "softmax" in by["C"].formula
    assert "∂C/∂W(2) = δ(2) a(1)ᵀ" in by["G2"].formula
    assert "m̂" in by["U1"].formula  # spiral trains with Adam
    assert "known from the forward pass" in by["G1"].reading
    assert "known from the backward pass" in by["B2"].reading
    # the highlighted (new) blocks are what the stage computes, for the chosen sample
    new = [b for b in by["F1"].blocks if b.new]
    assert [b.label for b in new] == ["z(1)", "a(1)"]
    np.testing.assert_array_equal(new[0].value, tr.layers[0].z[1])
    g1 = {b.label: b for b in by["G1"].blocks}
    np.testing.assert_array_equal(g1["∂C/∂W(1)"].value, tr.layers[0].dW)
    assert g1["∂C/∂W(1)"].scope == "batch"


def test_text_has_one_block_per_stage():
    rc, out, _ = cli("trace", "piecewise-sigmoid", "--sample", "2")
    assert rc == 0
    heads = [ln for ln in out.splitlines() if ln.startswith("── ")]
    keys = [h.split("(")[-1].split(")")[0] for h in heads]
    assert keys == ["F1", "F2", "C", "B2", "B1", "G1", "G2", "U1", "U2"]
    assert "showing sample 2 of the batch" in out
    tr = trace_batch(Trainer(load_preset("piecewise-sigmoid")), sample=2)
    assert trace_text(tr) in out


def test_cli_check_and_errors(tmp_path):
    rc, out, _ = cli("trace", "xor", "--check", "--set", "training.dtype=float64")
    assert rc == 0 and "backprop vs finite differences" in out
    errs = [float(ln.rsplit(" ", 1)[1]) for ln in out.splitlines() if "rel. error" in ln]
    assert errs and max(errs) < 1e-6
    for argv, msg in [(("trace",), "needs a PRESET"), (("trace", "no-such-preset"), "No preset named"),
                      (("trace", "xor", "--sample", "100000"), "does not exist"),
                      (("trace", "xor", "--batch-size", "-3"), "--batch-size -3"),
                      (("trace", "--run", str(tmp_path / "none")), "no such run folder")]:
        rc, out, err = cli(*argv)
        assert rc == 2 and msg in err and "Traceback" not in err


def test_trace_of_a_saved_run(tmp_path):
    spec = load_preset("xor", {**F64, "training.epochs": 2})
    t = Trainer(spec, out_dir=tmp_path / "run")
    t.fit()
    rc, out, err = cli("trace", "--run", str(tmp_path / "run"), "--json")
    assert rc == 0, err
    d = json.loads(out)
    from dltui.core.runs.store.checkpoint import load_checkpoint

    params, meta = load_checkpoint(tmp_path / "run" / "best.safetensors")
    for layer, (W, _) in zip(d["layers"], params):
        np.testing.assert_allclose(arr(layer["W"]), W, rtol=0, atol=0)
    ref = recompute(d)
    np.testing.assert_allclose(arr(d["layers"][0]["delta"]), ref["delta"][0], rtol=1e-10, atol=1e-12)
    assert "saved model" in d["source"]


def test_trace_of_a_run_trained_on_a_csv(tmp_path, monkeypatch, hw1_2022):
    import shutil

    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(hw1_2022 / "covid.train.csv", work / "train.csv")
    monkeypatch.chdir(work)
    rc, _, err = cli("train", "hw01-covid", "--data", "train.csv", "--epochs", "1", "--out", "run", "--quiet")
    assert rc == 0, err
    monkeypatch.chdir(tmp_path)  # the relative data path no longer resolves
    rc, _, err = cli("trace", "--run", "work/run")
    assert rc == 2 and "--data" in err and "Traceback" not in err
    rc, out, err = cli("trace", "--run", "work/run", "--data", "work/train.csv", "--json", "--sample", "3")
    assert rc == 0, err
    d = json.loads(out)
    assert d["x"]["shape"][1] == d["layers"][0]["W"]["shape"][1] == 28  # the run's selected features
    ref = recompute(d)
    for i, layer in enumerate(d["layers"]):
        np.testing.assert_allclose(arr(layer["dW"]), ref["dW"][i], rtol=1e-4, atol=1e-6)  # float32 run


def test_trainer_trace_is_of_the_batch_the_next_step_trains():
    """The step-through's batch is the one the trainer trains next: its previewed update is the step."""
    import threading
    import time

    t = Trainer(load_preset("xor", {**F64, "training.epochs": 3}), start_paused=True)
    th = threading.Thread(target=t.fit)
    th.start()
    try:
        for _ in range(2):  # at the start of the run and in the middle of an epoch
            end = time.time() + 10
            while t.state != "paused":
                assert time.time() < end
                time.sleep(0.01)
            tr = trace_batch(t)
            before = t.call(lambda be: be.get_params()).result(5)
            step = t.step
            t.step_batch(1)
            while t.step == step or t.state != "paused":
                assert time.time() < end
                time.sleep(0.01)
            after = t.call(lambda be: be.get_params()).result(5)
            for lt, (W0, _), (W1, _) in zip(tr.layers, before, after):
                np.testing.assert_allclose(W1 - W0, lt.update["W"], rtol=1e-9, atol=1e-15)
            assert tr.extra["batch"]["which"] == "next" and len(tr.extra["batch"]["row_ids"]) == len(tr.x)
    finally:
        t.stop()
        th.join(10)

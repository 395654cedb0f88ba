"""Analytic gradients of every layer, activation and loss vs central finite differences (float64)."""

from __future__ import annotations

import numpy as np
import pytest
from dltui.core.engine.nn import ACTIVATIONS, LOSSES, MLP, Linear, init_params

EPS = 1e-5


def rel_err(a, b):
    """||a - b|| / (||a|| + ||b||): the usual gradient-check measure."""
    return np.linalg.norm(a - b) / max(1e-12, np.linalg.norm(a) + np.linalg.norm(b))


def numeric_grad(f, x):
    g = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + EPS
        fp = f()
        x[i] = old - EPS
        fm = f()
        x[i] = old
        g[i] = (fp - fm) / (2 * EPS)
    return g


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_backward_matches_finite_differences(name):
    rng = np.random.default_rng(0)
    z = rng.standard_normal((5, 4)) * 2
    # keep clear of the kinks (relu at 0, hard sigmoid at +-3), where the derivative is undefined
    z[np.abs(z) < 0.05] += 0.2
    z[np.abs(np.abs(z) - 3) < 0.05] += 0.2
    w = rng.standard_normal(z.shape)
    act = ACTIVATIONS[name]()

    def f():
        return float(np.sum(w * ACTIVATIONS[name]().forward(z)))

    act.forward(z)
    analytic = act.backward(w)
    assert rel_err(analytic, numeric_grad(f, z)) < 1e-6
    assert np.allclose(act.derivative(z) * w, analytic)


def test_linear_backward_matches_finite_differences():
    rng = np.random.default_rng(1)
    W, b, x = rng.standard_normal((3, 4)), rng.standard_normal(3), rng.standard_normal((6, 4))
    g = rng.standard_normal((6, 3))
    lin = Linear(W, b)

    def f():
        return float(np.sum(g * (x @ W.T + b)))

    lin.forward(x)
    dx = lin.backward(g)
    assert rel_err(lin.dW, numeric_grad(f, W)) < 1e-6
    assert rel_err(lin.db, numeric_grad(f, b)) < 1e-6
    assert rel_err(dx, numeric_grad(f, x)) < 1e-6


@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
def test_loss_backward_matches_finite_differences(loss):
    rng = np.random.default_rng(2)
    out = rng.standard_normal((7, 3))
    y = rng.integers(0, 3, 7) if loss == "cross_entropy" else rng.standard_normal((7, 3))
    L = LOSSES[loss]()
    L.forward(out, y)
    analytic = L.backward()
    assert rel_err(analytic, numeric_grad(lambda: LOSSES[loss]().forward(out, y), out)) < 1e-6


@pytest.mark.parametrize("act", ["sigmoid", "tanh", "relu", "leaky_relu", "hard_sigmoid"])
@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
def test_whole_network_gradients(act, loss):
    rng = np.random.default_rng(3)
    sizes = [3, 5, 4, 2]
    params = init_params(sizes, "xavier", 1.0, seed=4)
    params = [(W, b + rng.standard_normal(b.shape) * 0.1) for W, b in params]
    net = MLP(params, [act, act], np.float64)
    x = rng.standard_normal((8, 3))
    y = rng.integers(0, 2, 8) if loss == "cross_entropy" else rng.standard_normal((8, 2))

    def f():
        return LOSSES[loss]().forward(MLP([(lin.W, lin.b) for lin in net.linears], [act, act],
                                          np.float64).forward(x), y)

    L = LOSSES[loss]()
    L.forward(net.forward(x), y)
    net.backward(L.backward())
    for lin in net.linears:
        assert rel_err(lin.dW, numeric_grad(f, lin.W)) < 1e-6
        assert rel_err(lin.db, numeric_grad(f, lin.b)) < 1e-6
    # every layer's delta is inspectable and is dC/dz
    for act_layer in net.acts:
        assert act_layer.delta.shape == act_layer.z.shape


def test_init_schemes_scale_as_documented():
    W_he = init_params([400, 300], "he", 1.0, seed=0)[0][0]
    W_x = init_params([400, 300], "xavier", 1.0, seed=0)[0][0]
    W_t, b_t = init_params([400, 300], "torch", 1.0, seed=0)[0]
    assert abs(W_he.std() - np.sqrt(2 / 400)) < 0.003
    assert abs(W_x.std() - np.sqrt(2 / 700)) < 0.003
    assert np.abs(W_t).max() <= 1 / np.sqrt(400) and np.abs(b_t).max() <= 1 / np.sqrt(400)
    assert np.array_equal(init_params([3, 2], "he", 1.0, 7)[0][0], init_params([3, 2], "he", 1.0, 7)[0][0])

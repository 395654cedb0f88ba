"""L1 as a proximal step (Playground's): weights that would cross zero become exactly zero, in
both backends, with float64 parity; the spiral-l1 preset's first layer ends sparse."""

from __future__ import annotations

import numpy as np
import pytest
from dltui.core import load_preset
from dltui.core.engine.optim import Adam


def test_adam_with_l1_leaves_exact_zeros_and_keeps_big_weights():
    rng = np.random.default_rng(0)
    w = rng.normal(0, 1, 200)
    g = np.zeros_like(w)
    opt = Adam([w], [g], lr=0.01, l1=1.0, is_weight=[True])
    for _ in range(50):
        g[...] = 0.001 * rng.normal(size=w.shape)  # a weak, noisy gradient
        opt.step()
    zeros = w == 0.0
    assert zeros.mean() > 0.2  # |w| < about 0.5 reached exactly 0 (50 steps x 0.01)
    assert np.abs(w[~zeros]).min() > 0.0 and np.abs(w).max() > 0.5  # the big ones stay


def test_l1_parity_float64_and_the_same_exact_zeros_in_both_backends():
    pytest.importorskip("torch")
    from dltui.core.backends.numpy_backend import NumpyBackend
    from dltui.core.backends.torch_backend import TorchBackend
    from dltui.core.data.dataset import load_dataset

    spec = load_preset("spiral-l1", {"training.dtype": "float64", "training.device": "cpu",
                                     "optimizer.l1": 1.0, "data.n_samples": 200})
    d = load_dataset(spec)
    nb = NumpyBackend(spec, d.n_features, d.n_outputs)
    tb = TorchBackend(spec, d.n_features, d.n_outputs, device="cpu")
    for b in (nb, tb):
        b.set_data(d.x_train, d.y_train, d.x_val, d.y_val, 32)
    rng = np.random.default_rng(1)
    for _ in range(3):
        perm = rng.permutation(len(d.x_train))
        for b in (nb, tb):
            b.begin_epoch(perm)
            for k in range(-(-len(d.x_train) // 32)):
                b.train_step(k)
    for (W1, b1), (W2, b2) in zip(nb.get_params(), tb.get_params()):
        np.testing.assert_allclose(W2, W1, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(b2, b1, rtol=1e-9, atol=1e-12)
        np.testing.assert_array_equal(W1 == 0.0, W2 == 0.0)
    W = nb.get_params()[0][0]
    assert 0.05 < (W == 0.0).mean() < 1.0  # exact zeros, and not every weight

"""Each optimizer step against its textbook formula, on hand-made arrays."""

from __future__ import annotations

import numpy as np
from dltui.core.engine.optim import SGD, Adam, AdamW


def arrays():
    p = np.array([[0.5, -1.0], [2.0, 0.0]])
    g1 = np.array([[0.1, -0.2], [0.3, 0.05]])
    g2 = np.array([[-0.4, 0.1], [0.2, 0.0]])
    return p, g1, g2


def run(opt_cls, grads, **kw):
    p, _, _ = arrays()
    g = np.zeros_like(p)
    opt = opt_cls([p], [g], **kw)
    for gi in grads:
        g[...] = gi
        opt.step()
    return p


def test_sgd_plain_and_weight_decay():
    p0, g1, g2 = arrays()
    assert np.allclose(run(SGD, [g1], lr=0.1), p0 - 0.1 * g1)
    assert np.allclose(run(SGD, [g1], lr=0.1, weight_decay=0.01), p0 - 0.1 * (g1 + 0.01 * p0))


def test_sgd_momentum():
    p0, g1, g2 = arrays()
    b1 = g1
    p1 = p0 - 0.1 * b1
    b2 = 0.9 * b1 + g2
    p2 = p1 - 0.1 * b2
    assert np.allclose(run(SGD, [g1, g2], lr=0.1, momentum=0.9), p2)


def adam_reference(p, grads, lr, b1, b2, eps, wd=0.0, decoupled=False):
    m = np.zeros_like(p)
    v = np.zeros_like(p)
    for t, g in enumerate(grads, start=1):
        if decoupled:
            p = p * (1 - lr * wd)
        else:
            g = g + wd * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        mhat = m / (1 - b1**t)
        vhat = v / (1 - b2**t)
        p = p - lr * mhat / (np.sqrt(vhat) + eps)
    return p


def test_adam_two_steps():
    p0, g1, g2 = arrays()
    got = run(Adam, [g1, g2], lr=0.01, beta1=0.8, beta2=0.95, eps=1e-8)
    assert np.allclose(got, adam_reference(p0, [g1, g2], 0.01, 0.8, 0.95, 1e-8), rtol=1e-12, atol=1e-14)


def test_adam_l2_vs_adamw_decoupled():
    p0, g1, g2 = arrays()
    l2 = run(Adam, [g1, g2], lr=0.01, weight_decay=0.1)
    dec = run(AdamW, [g1, g2], lr=0.01, weight_decay=0.1)
    assert np.allclose(l2, adam_reference(p0, [g1, g2], 0.01, 0.9, 0.999, 1e-8, wd=0.1), rtol=1e-12)
    assert np.allclose(dec, adam_reference(p0, [g1, g2], 0.01, 0.9, 0.999, 1e-8, wd=0.1, decoupled=True),
                       rtol=1e-12)
    assert not np.allclose(l2, dec)


def test_l1_is_a_proximal_step_on_weights_only():
    w, b = np.array([0.5, -0.5, 0.0005, -0.0005, 0.0]), np.array([1.0, -1.0])
    gw, gb = np.zeros(5), np.array([0.5, 0.5])
    SGD([w, b], [gw, gb], lr=0.1, l1=0.01, is_weight=[True, False]).step()
    # each weight moves lr * l1 = 0.001 towards zero; the ones that would cross zero stop at exactly 0
    np.testing.assert_array_equal(w, [0.499, -0.499, 0.0, 0.0, 0.0])
    assert np.allclose(b, np.array([1.0, -1.0]) - 0.1 * 0.5)  # biases: the gradient step only


def test_preview_changes_nothing_and_predicts_the_step():
    p0, g1, g2 = arrays()
    p = p0.copy()
    g = g1.copy()
    opt = Adam([p], [g], lr=0.01)
    opt.step()
    g[...] = g2
    before, m_before = p.copy(), opt.m[0].copy()
    upd, state = opt.preview()
    assert np.array_equal(p, before) and np.array_equal(opt.m[0], m_before) and opt.t == 1
    opt.step()
    assert np.allclose(p - before, upd[0], rtol=1e-12, atol=1e-15)
    assert np.allclose(state["m"][0], opt.m[0])

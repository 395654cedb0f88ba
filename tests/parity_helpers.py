"""Shared by the backend parity tests (CPU and GPU): step backends in lockstep and compare."""

from __future__ import annotations

import numpy as np
from dltui.core.data.dataset import batches


def run_steps(backends, d, spec, steps=50, each=None, seed=7):
    """Train every backend on the same `steps` mini-batches (epochs shuffled by one shared rng);
    returns the per-batch losses, one row per backend. ``each(step, backend)`` runs before a step."""
    nbatch = batches(len(d.x_train), spec.values["training"]["batch_size"])
    rng = np.random.default_rng(seed)
    losses = [[] for _ in backends]
    for step in range(steps):
        if step % nbatch == 0:
            perm = rng.permutation(len(d.x_train))
            for b in backends:
                b.begin_epoch(perm)
        for i, b in enumerate(backends):
            if each:
                each(step, b)
            b.train_step(step % nbatch)
            losses[i].append(b.last_loss())
    return np.array(losses)


def rel(a, b):
    """The largest relative difference between two arrays (of losses or weights)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a), 1e-12)))

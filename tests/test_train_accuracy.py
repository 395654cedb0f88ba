"""Training accuracy from the epoch's own batches (as Keras reports it), unless an exact figure is asked."""

from __future__ import annotations

import numpy as np
import pytest
from dltui.core import Trainer, load_preset


class Spy:
    def __init__(self, be):
        self.be, self.calls = be, []
        self._evaluate = be.evaluate

    def evaluate(self, split="val"):
        self.calls.append(split)
        return self._evaluate(split)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_train_accuracy_comes_from_the_epochs_batches_without_an_extra_pass(backend):
    if backend == "torch":
        pytest.importorskip("torch")
    spec = load_preset("xor", {"training.epochs": 3, "training.dtype": "float64", "training.backend": backend})
    tr = Trainer(spec)
    spy = Spy(tr.backend)
    tr.backend.evaluate = spy.evaluate
    hits = []
    step = tr.backend.train_step

    def counting(b):  # the accuracy of each batch at the weights before its update
        s = b * tr.backend.bs
        rows = tr.order.perm[s:s + tr.backend.bs]
        xb, yb = tr.data.x_train[rows], tr.data.y_train[rows]
        out = tr.backend.predict(xb)
        hits.append((int(np.count_nonzero(out.argmax(1) == yb)), len(yb)))
        step(b)

    tr.backend.train_step = counting
    tr.fit()
    assert "train" not in spy.calls  # no pass over the training set for the accuracy
    bpe = tr.batches_per_epoch
    last = hits[-bpe:]
    assert tr.history[-1].train_metric == pytest.approx(sum(h for h, _ in last) / sum(n for _, n in last))


def test_exact_train_accuracy_when_asked():
    spec = load_preset("xor", {"training.epochs": 2, "training.exact_train_acc": True})
    tr = Trainer(spec)
    tr.fit()
    tr.backend.set_params(tr.last_params)  # the weights the last epoch ended with (not the best)
    assert tr.history[-1].train_metric == pytest.approx(tr.backend.evaluate("train")[1])

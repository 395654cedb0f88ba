"""The trainer's named parts: EarlyStopping, the live learning rate (the spec is never mutated)."""

from __future__ import annotations

from dltui.core import Trainer, load_preset
from dltui.core.runs.store.checkpoint import load_checkpoint
from dltui.core.training.early_stopping import EarlyStopping


def test_early_stopping_keeps_the_best_and_counts_patience():
    es = EarlyStopping(patience=2)
    weights = iter([["w1"], ["w2"], ["w3"], ["w4"]])
    assert es.update(1, 1.0, lambda: next(weights)) and es.best_weights == ["w1"]
    assert es.update(2, 0.5, lambda: next(weights)) and es.best_epoch == 2 and es.best_weights == ["w2"]
    assert not es.update(3, 0.7, lambda: next(weights)) and es.patience_left == 1 and not es.should_stop
    assert not es.update(4, 0.5, lambda: next(weights))  # equal is not better
    assert es.should_stop and es.best_value == 0.5 and es.best_weights == ["w2"]


def test_early_stopping_without_patience_or_validation_never_stops():
    for es in (EarlyStopping(patience=0), EarlyStopping(patience=1, watching=False)):
        es.update(1, 1.0, list)
        es.update(2, 2.0, list)
        es.update(3, 3.0, list)
        assert not es.should_stop and es.patience_left is None and es.best_epoch == 1


def test_set_lr_does_not_mutate_the_spec(tmp_path):
    spec = load_preset("xor", {"training.epochs": 2, "optimizer.lr": 0.1})
    tr = Trainer(spec, out_dir=tmp_path / "run")
    tr.set_lr(0.05)
    res = tr.fit()
    assert spec.values["optimizer"]["lr"] == 0.1
    assert tr.backend.opt.lr == 0.05 and all(r.lr == 0.05 for r in res.history)
    _, meta = load_checkpoint(tmp_path / "run" / "last.safetensors")
    assert meta["preset"]["optimizer"]["lr"] == 0.05  # the checkpoint records the rate it trained with

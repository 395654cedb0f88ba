"""Resuming a run: what a checkpoint must hold to go on exactly where a run stopped, and putting it back.

The last checkpoint carries, beside the weights, the optimizer's state (``optim.*`` tensors, the same
names on both backends), the order of the training rows in the epoch under way (``trainer.perm``) and,
in its metadata under ``resume``: the step count, the epoch and batch reached, the shuffle generator's
state, early stopping's best and patience, the live learning rate. With these, a resumed run takes the
same steps an uninterrupted one would (equal step for step in float64).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import CheckpointError
from ..runs.history import History
from ..runs.store.checkpoint import load_checkpoint, load_checkpoint_extra


def resume_state(tr) -> tuple[dict[str, np.ndarray], dict]:
    """(tensors, facts) of a trainer between steps, for its last checkpoint."""
    tensors, opt = tr.backend.get_opt_state()
    tensors = dict(tensors)
    if tr._perm is not None:
        tensors["trainer.perm"] = np.asarray(tr._perm, dtype=np.int64)
    if tr._next_perm is not None:
        tensors["trainer.next_perm"] = np.asarray(tr._next_perm, dtype=np.int64)
    facts = {"optimizer": opt, "epoch": tr.epoch, "batch": tr.batch, "step": tr.step,
             "rng": tr._rng.bit_generator.state, "lr": tr.lr, "best_epoch": tr.early.best_epoch,
             "best_value": tr.early.best_value, "stale": tr.early.stale, "elapsed": tr.elapsed()}
    return tensors, facts


def restore(tr, run_dir: str | Path) -> None:
    """Put a trainer (built from the run's preset) back where ``run_dir``'s last checkpoint stopped: weights,
    optimizer state, counters, shuffles, early stopping, history. CheckpointError when it cannot."""
    from ..runs.store.folder import RunDir, epoch_row, read_sampled

    run = RunDir(run_dir)
    if not run.last.is_file():
        raise CheckpointError(f"{run.path}: no last.safetensors to resume from (the run wrote none yet, or this "
                              "is not a run folder).")
    params, info, extra = load_checkpoint_extra(run.last)  # one read: weights, metadata, optimizer state
    facts = info.get("resume")
    if not isinstance(facts, dict):
        raise CheckpointError(f"{run.last}: written without optimizer state (an older dltui?); it cannot be "
                              "resumed exactly. Train again, or load its weights with predict.")
    try:
        tr.backend.set_params(params)
        tr.backend.set_opt_state({k: v for k, v in extra.items() if k.startswith("optim.")}, facts["optimizer"])
        tr._rng.bit_generator.state = facts["rng"]
    except (ValueError, TypeError, KeyError) as e:
        raise CheckpointError(f"{run.last}: does not fit this preset ({e}).") from None
    tr.epoch, tr.batch, tr.step = int(facts["epoch"]), int(facts["batch"]), int(facts["step"])
    tr._perm, tr._next_perm = extra.get("trainer.perm"), extra.get("trainer.next_perm")
    if facts.get("lr") is not None and facts["lr"] != tr.lr:
        tr.lr = facts["lr"]
        tr.backend.set_lr(tr.lr)
    _restore_early(tr, run, facts)
    rows, _ = read_sampled(run.metrics)  # a long log: a sample of it and its whole tail, as History keeps it
    rows = [r for r in rows if r["epoch"] <= tr.epoch]
    tr.history = History(epoch_row(r) for r in rows)
    tr.history.total = rows[-1]["epoch"] if rows else 0  # the epochs run, not the rows read (rows are in order)
    tr._elapsed_before = float(facts.get("elapsed") or 0.0)
    tr.resumed = True


def _restore_early(tr, run, facts: dict) -> None:
    e = tr.early
    e.best_epoch, e.best_value, e.stale = int(facts.get("best_epoch") or 0), facts.get("best_value"), \
        int(facts.get("stale") or 0)
    if run.best.is_file() and e.best_epoch:
        e.best_weights, _ = load_checkpoint(run.best)
    e.best_dirty = False


def continue_run(tr, epochs: int) -> None:
    """Before another ``fit()``: go on from the weights and optimizer state the run ended with, up to
    ``epochs`` in all, with the patience counted afresh."""
    if tr._last_params is None:
        raise RuntimeError("only a run that ended without diverging can continue")
    tr._elapsed_before = tr.elapsed()
    tr.backend.set_params(tr._last_params)
    tr.epochs, tr.early.stale, tr.resumed, tr.grads_stale = epochs, 0, True, False
    with tr._cond:
        tr._stop, tr._running, tr._budget, tr._epoch_budget = False, True, 0, False
    tr._paused_time, tr.state = 0.0, "ready"

"""Resuming a run (``dltui train --resume RUN``): a Trainer built from a run folder's preset, put back
where the folder's last checkpoint stopped.

The last checkpoint carries, beside the weights, the optimizer's state (``optim.*`` tensors, the same
names on both backends), the order of the training rows in the epoch under way (``trainer.perm``) and,
in its metadata under ``resume``: the step count, the epoch and batch reached, the shuffle generator's
state, early stopping's best and patience, the live learning rate (``Trainer.state_dict``). With these,
a resumed run takes the same steps an uninterrupted one would (equal step for step in float64).
"""

from __future__ import annotations

from pathlib import Path

from ..config.limits import read_preset_toml
from ..config.spec import spec_from_dict
from ..errors import CheckpointError
from ..runs.history import History
from ..runs.store.checkpoint import load_checkpoint, load_checkpoint_extra
from ..runs.store.folder import RunFolder, epoch_row, read_sampled
from .trainer import Trainer


def resume_trainer(run_dir: str | Path, overrides: dict | None = None, **kw) -> Trainer:
    """A Trainer that goes on with the run in ``run_dir`` (its preset.toml, plus ``overrides`` such as more
    ``training.epochs``), writing to the same folder."""
    run = RunFolder(run_dir)
    if not run.path.is_dir():
        raise CheckpointError(f"{run.path}: no such run folder (nothing to resume: no preset.toml).")
    if not run.preset.is_file():
        raise CheckpointError(f"{run.path}: no preset.toml; not a run folder dltui wrote.")
    values = read_preset_toml(run.preset)  # a bounded read; SpecError naming the file
    name = (run.read_status().get("started") or {}).get("preset") or run.path.name  # the preset's own name
    spec = spec_from_dict(values, str(name), str(run.preset))
    if overrides:
        spec = spec.with_overrides(overrides)
    tr = Trainer(spec, out_dir=run.path, **kw)
    restore(tr, run.path)
    return tr


def restore(tr: Trainer, run_dir: str | Path) -> None:
    """Put a trainer (built from the run's preset) back where ``run_dir``'s last checkpoint stopped: weights,
    optimizer state, counters, shuffles, early stopping, history. CheckpointError when it cannot."""
    run = RunFolder(run_dir)
    if not run.last.is_file():
        raise CheckpointError(f"{run.path}: no last.safetensors to resume from (the run wrote none yet, or this "
                              "is not a run folder).")
    params, info, extra = load_checkpoint_extra(run.last)  # one read: weights, metadata, optimizer state
    facts = info.get("resume")
    if not isinstance(facts, dict):
        raise CheckpointError(f"{run.last}: written without optimizer state (an older dltui?); it cannot be "
                              "resumed exactly. Train again, or load its weights with predict.")
    best = load_checkpoint(run.best)[0] if run.best.is_file() and facts.get("best_epoch") else None
    rows, _ = read_sampled(run.metrics)  # a long log: a sample of it and its whole tail, as History keeps it
    rows = [r for r in rows if r["epoch"] <= int(facts.get("epoch") or 0)]
    history = History(epoch_row(r) for r in rows)
    history.total = rows[-1]["epoch"] if rows else 0  # the epochs run, not the rows read (rows are in order)
    try:
        tr.load_state_dict(params, extra, facts, best_weights=best, history=history)
    except (ValueError, TypeError, KeyError) as e:
        raise CheckpointError(f"{run.last}: does not fit this preset ({e}).") from None

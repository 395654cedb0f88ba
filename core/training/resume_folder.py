"""``dltui train --resume RUN``: a Trainer built from a run folder's preset that goes on where it stopped."""

from __future__ import annotations

from pathlib import Path

from ..config.limits import read_preset_toml
from ..config.spec import spec_from_dict
from ..errors import CheckpointError
from ..runs.store.folder import RunDir
from .resume import restore
from .trainer import Trainer


def resume_trainer(run_dir: str | Path, overrides: dict | None = None, **kw):
    """A Trainer that goes on with the run in ``run_dir`` (its preset.toml, plus ``overrides`` such as more
    ``training.epochs``), writing to the same folder."""

    run = RunDir(run_dir)
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

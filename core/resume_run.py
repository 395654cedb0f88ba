"""``dltui train --resume RUN``: a Trainer built from a run folder's preset that goes on where it stopped."""

from __future__ import annotations

from pathlib import Path

from .errors import CheckpointError, SpecError
from .limits import read_preset_text
from .resume import restore
from .rundir import RunDir
from .spec import spec_from_dict
from .tomlread import tomllib
from .trainer import Trainer


def resume_trainer(run_dir: str | Path, overrides: dict | None = None, **kw):
    """A Trainer that goes on with the run in ``run_dir`` (its preset.toml, plus ``overrides`` such as more
    ``training.epochs``), writing to the same folder."""

    run = RunDir(run_dir)
    if not run.preset.is_file():
        raise CheckpointError(f"{run.path}: no preset.toml; not a run folder dltui wrote.")
    try:
        values = tomllib.loads(read_preset_text(run.preset))  # a bounded read
    except OSError:
        raise CheckpointError(f"{run.path}: no preset.toml; not a run folder dltui wrote.") from None
    except ValueError as e:
        raise SpecError(f"{run.preset}: not valid TOML ({e}).") from None
    name = (run.read_status().get("started") or {}).get("preset") or run.path.name  # the preset's own name
    spec = spec_from_dict(values, str(name), str(run.preset))
    if overrides:
        spec = spec.with_overrides(overrides)
    tr = Trainer(spec, out_dir=run.path, **kw)
    restore(tr, run.path)
    return tr

"""C in the app: compare runs without leaving it. In the dashboard, this run with the other runs of
its preset in its runs folder; in the picker, the highlighted preset's runs in the runs folder.
Either opens the compare screen over the current one (escape comes back), or says on screen why
there is nothing to compare. Sweeps' runs and `dltui check`'s cache under the folder count too."""

from __future__ import annotations

from pathlib import Path

from dltui.core.experiments import compare as cmp
from dltui.core.runs.store.scan import scan_runs

MAX_RUNS = 8  # the compare screen draws at most 8 curves
DEFAULT_ROOT = "runs"  # where `dltui train` and the app write runs


def run_folder(run) -> Path | None:
    """The folder a dashboard's run writes or reads (None: a run without one)."""
    return Path(run.view.folder) if run.view.folder else None


def _load(path: Path, name: str) -> cmp.LoadedRun | None:
    try:
        r = cmp.load_run(path)
    except cmp.CompareError:
        return None
    if not r.history:  # no epoch yet: nothing to draw
        return None
    r.name = name
    return r


def live_run(run, spec) -> cmp.LoadedRun | None:
    """A run without a folder (started from the picker), from its history in memory: drawn and
    tabulated like the others (enter cannot open it: there is no folder to read back)."""
    from dataclasses import asdict

    view = getattr(run, "view", None)
    rows = [asdict(e) for e in getattr(view, "history", None) or []]
    if not rows or spec is None:
        return None
    end = {"reason": view.end_reason} if getattr(view, "ended", False) and getattr(view, "end_reason", "") else {}
    return cmp.LoadedRun(Path(), "this run (no folder)", spec.values, rows, {"state": view.state, "end": end},
                         in_memory=True)


def preset_runs(root: str | Path, preset: str, this: Path | None = None, limit: int = MAX_RUNS) -> list:
    """``this`` run first (if it has an epoch), then the other runs of ``preset`` under ``root``, the
    most recently active first, at most ``limit`` in all."""
    root = Path(root)
    runs, seen = [], set()
    if this is not None:
        r = _load(this, f"{this.name} (this run)")
        if r is not None:
            runs.append(r)
            seen.add(this.resolve())
    if root.is_dir():
        for row in scan_runs(root):
            if len(runs) >= limit:
                break
            if row.preset != preset or row.epoch < 1 or row.path.resolve() in seen:
                continue
            r = _load(row.path, row.name)
            if r is not None:
                runs.append(r)
                seen.add(row.path.resolve())
    return runs


def compare_from_dashboard(screen) -> bool:
    """The dashboard's C: this run and the other runs of its preset in its runs folder."""
    from dltui.core.runs.store.scan import summarize

    spec = getattr(screen, "spec", None)
    this = run_folder(screen.run) if screen.run is not None else None
    preset = summarize(this, this.parent).preset if this is not None and this.is_dir() else ""  # a watched run
    preset = preset or getattr(getattr(screen.run, "view", None), "preset", "") or (spec.name if spec else "")
    root = this.parent if this is not None else Path(getattr(screen.app, "runs_dir", None) or DEFAULT_ROOT)
    runs = preset_runs(root, preset, this)
    if this is None and screen.run is not None:
        mine = live_run(screen.run, spec)
        runs = [mine, *runs[:MAX_RUNS - 1]] if mine is not None else runs
    if len(runs) < 2:
        where = f"{root}/" if root.is_dir() else f"{root}/ (no such folder)"
        screen.notify(f"nothing to compare: no other run of {preset} with a finished epoch in {where}. "
                      f"Train it again (R: a new seed) or run `dltui sweep {preset}`.",
                      severity="warning", timeout=8)
        return False
    screen.app.open_compare(runs)
    return True


def compare_from_picker(screen, preset: str) -> bool:
    """The picker's C: the runs of the highlighted preset in the app's runs folder."""
    root = Path(getattr(screen.app, "runs_dir", None) or DEFAULT_ROOT)
    runs = preset_runs(root, preset)
    if len(runs) < 2:
        found = "no run" if not runs else "only one run"
        screen.notify(f"nothing to compare: {found} of {preset} in {root}/. Start it (enter), or run "
                      f"`dltui sweep {preset} --seeds 3`, then press C again.", severity="warning", timeout=8)
        return False
    screen.app.open_compare(runs)
    return True

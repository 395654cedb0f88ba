"""Sweeps: a grid of ``--set`` overrides times N seeds, each an ordinary run folder, run on a
``concurrent.futures`` executor (local processes, a Dask client's executor, one process per GPU).

    tasks = plan("deep-8x3", grid=[parse_grid("model.hidden=[8,8,8],[56]")], seeds=range(1, 6),
                 out="runs/sweep-fat-deep")
    results = run_tasks(tasks, executor)          # one summary dict per task, in task order

A sweep folder holds ``r{row}-s{seed}/`` run folders (preset.toml, metrics.jsonl, status.json,
checkpoints, as ``dltui train`` writes) and ``sweep.json`` with the grid, the runs and the table.
A run folder whose status says finished and whose preset.toml equals the run's resolved preset is
reused instead of trained again, so rerunning an interrupted sweep only does the missing runs.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
from concurrent.futures import BrokenExecutor, Executor, Future, as_completed, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config.spec import SpecError, load_preset, parse_override
from ..data.splits import FOLLOW

DEFAULT_SEED_KEYS = ("training.seed", "data.seed")  # the split, init, shuffles (see splits.py); the synthetic data


@dataclass(frozen=True)
class Task:
    """One run of a sweep: a preset, its overrides (setting + seed) and its folder."""

    preset: str
    overrides: dict[str, Any]
    out_dir: str
    row: int = 0
    seed: int = 0
    label: str = ""


class SweepInterrupted(Exception):
    """Ctrl-C during a sweep: ``results`` holds the runs that finished (None for the rest).
    ``worker_lost``: not Ctrl-C, a worker process ended abruptly (killed, out of memory)."""

    def __init__(self, results: list, worker_lost: bool = False):
        super().__init__("interrupted")
        self.results, self.worker_lost, self.signum = results, worker_lost, None


# ---------------------------------------------------------------- the grid


def split_values(text: str) -> list[str]:
    """'[8,8,8],[56]' -> ['[8,8,8]', '[56]']: split on commas outside brackets and quotes."""
    out, depth, quote, cur = [], 0, None, ""
    for ch in text:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
            continue
        cur += ch
    out.append(cur.strip())
    return [v for v in out if v != ""]


def parse_grid(item: str) -> tuple[str, list[Any]]:
    """'model.hidden=[8,8,8],[56]' -> ('model.hidden', [[8, 8, 8], [56]]), each value parsed as
    ``--set`` parses it (TOML, else a plain string)."""
    if "=" not in item:
        raise SpecError(f"--grid {item!r}: expected section.key=value1,value2,..., "
                        "e.g. --grid model.hidden=[8,8,8],[56].")
    key, text = item.split("=", 1)
    key = key.strip()
    if key.count(".") != 1 or not all(key.split(".")):
        raise SpecError(f"--grid {item!r}: the key must be section.key, e.g. --grid model.hidden=[8,8,8],[56].")
    try:
        values = [parse_override(f"{key}={v}")[1] for v in split_values(text)]
    except SpecError as e:
        raise SpecError(str(e).replace("--set ", "--grid ")) from None
    if not values:
        raise SpecError(f"--grid {item!r}: no values after '='; give at least one, e.g. {key}=1,2.")
    return key, values


def label_of(setting: dict[str, Any]) -> str:
    if not setting:
        return "as shipped"
    return " ".join(f"{k.split('.')[-1]}={_short(v)}" for k, v in setting.items())


def _short(v: Any) -> str:
    if isinstance(v, list):
        return "[" + ",".join(map(_short, v)) + "]"
    return f"{v:g}" if isinstance(v, float) else str(v)


def settings(grid: list[tuple[str, list[Any]]]) -> list[dict[str, Any]]:
    """Every combination of the grid's values, first key slowest; one empty setting without a grid."""
    keys = [k for k, _ in grid]
    return [dict(zip(keys, combo)) for combo in itertools.product(*(vals for _, vals in grid))]


def plan(preset: str, grid: list[tuple[str, list[Any]]], seeds, out: str | Path,
         base: dict[str, Any] | None = None, seed_keys=DEFAULT_SEED_KEYS) -> list[Task]:
    """The sweep's runs, row by row (one row per setting), seed by seed. Every run's preset is
    loaded once here, so a bad key or value fails before anything trains."""
    out = Path(out).resolve()
    tasks = []
    for row, setting in enumerate(settings(grid)):
        for seed in seeds:
            overrides = {**(base or {}), **{k: seed for k in seed_keys}, **setting}
            _check(preset, overrides, setting)  # validate now: a SpecError names the key and the value
            tasks.append(Task(preset, overrides, str(out / f"r{row}-s{seed}"), row, seed, label_of(setting)))
    return tasks


def _check(preset: str, overrides: dict, setting: dict) -> None:
    """Load the run's preset; an error about a grid key says --grid, as the user typed it."""
    try:
        load_preset(preset, overrides)
    except SpecError as e:
        msg = str(e)
        for k in setting:
            msg = msg.replace(f"--set {k}", f"--grid {k}")
        raise SpecError(msg) from None


# ---------------------------------------------------------------- one run


def summarize(rows: list[dict], reason: str) -> dict:
    """The figures of one run from its epoch rows (metrics.jsonl objects or EpochEnded as dicts)."""
    if not rows:
        return {"reason": reason, "epochs_run": 0}
    last = rows[-1]
    best = next((r for r in rows if r["epoch"] == last["best_epoch"]), last)
    accs = [r["val_metric"] for r in rows if r.get("val_metric") is not None]
    return {
        "reason": reason, "epochs_run": last["epoch"], "best_epoch": last["best_epoch"],
        "best_val_loss": last["best_val_loss"], "train_loss": best["train_loss"],
        "final_train_loss": last["train_loss"], "min_train_loss": min(r["train_loss"] for r in rows),
        "final_val_loss": last.get("val_loss"),
        "val_acc": best.get("val_metric"), "train_acc": best.get("train_metric"),
        "best_val_acc": max(accs) if accs else None, "seconds": last.get("elapsed"),
    }


def finished_summary(out_dir: str | Path, preset_toml: str) -> dict | None:
    """The summary of a finished run in ``out_dir`` made from exactly this preset, else None."""
    from ..runs.store.folder import RunFolder, read_metrics
    from .baseline import read_baseline

    run = RunFolder(out_dir)
    status = run.read_status()
    reason = (status.get("end") or {}).get("reason")
    if status.get("state") != "finished" or reason in (None, "stopped", "killed"):
        return None
    try:
        if trained_part(run.preset.read_text(encoding="utf-8")) != trained_part(preset_toml):
            return None
    except (OSError, ValueError):
        return None
    rows, _ = read_metrics(run.metrics)
    return {**summarize(rows, reason), **read_baseline(out_dir), **weight_figures_of(run.checkpoint())}


SMALL_WEIGHT = 0.01  # |w| below this counts as (about) zero


def weight_figures(params) -> dict:
    """Figures of the kept (best) weights: the fraction of the first layer's weights near zero."""
    if not params:
        return {}
    import numpy as np

    w = np.abs(np.asarray(params[0][0], dtype=np.float64))
    return {"small_weights": float(np.mean(w < SMALL_WEIGHT))} if w.size else {}


def weight_figures_of(checkpoint: Path) -> dict:
    from ..runs.store.checkpoint import CheckpointError, load_checkpoint

    try:
        params, _ = load_checkpoint(checkpoint)
    except (OSError, CheckpointError):
        return {}
    return weight_figures(params)


def trained_part(preset_toml: str) -> dict:
    """A resolved preset without what does not change the run (title, note, claim)."""
    from ..config.spec import tomllib

    values = tomllib.loads(preset_toml)
    for section, key in (("data", "split_seed"), ("training", "init_seed")):  # -1 follows training.seed: a run
        if values.get(section, {}).get(key) == FOLLOW:  # saved before these keys existed is the same run
            del values[section][key]
    return {k: v for k, v in values.items() if k not in ("about", "claim")}


_IN_TASK = False  # a worker is running a task (its stop signal ends the task, not the worker)
_TRAINER = None  # the trainer a worker is running, for its signal handler
_STOP = False  # a worker saw a stop signal: the runs still queued for it are not started


def run_task(task: Task) -> dict:
    """Train one run into its folder (or reuse it) and return its summary. Runs in a worker. A run
    folder gets what `dltui train` writes, layers.jsonl (the layer log) included."""
    global _IN_TASK
    _IN_TASK = True
    try:
        if _STOP:
            return {"reason": "stopped"}
        spec = load_preset(task.preset, task.overrides)
        done = finished_summary(task.out_dir, spec.to_toml())
        if done is not None:
            return {**done, "reused": True}
        return _train(spec, task.out_dir)
    except KeyboardInterrupt:
        return {"reason": "stopped"}
    except Exception as e:  # noqa: BLE001 - a failed run is a result of the sweep, not its end
        return {"reason": "failed", "error": f"{type(e).__name__}: {e}"}
    finally:
        _IN_TASK = False


def _train(spec, out_dir: str) -> dict:
    global _TRAINER
    from ..runs.store.folder import RunFolder, read_metrics
    from ..runs.store.layerlog import EVERY
    from ..training.trainer import Trainer
    from .baseline import write_baseline

    trainer = Trainer(spec, out_dir=out_dir)
    trainer.recorders = trainer.run.recorders(trainer, layers_every=EVERY)  # metrics, and layers for `watch`
    _TRAINER = trainer
    try:
        if _STOP:  # the signal came while the trainer was being made
            trainer.stop()
        result = trainer.fit()
    finally:
        _TRAINER = None
    baseline = write_baseline(out_dir, trainer.data)
    weights = weight_figures(trainer.backend.get_params())  # the best epoch's, restored by fit
    rows, _ = read_metrics(RunFolder(out_dir).metrics)  # every epoch (the trainer keeps a bounded history)
    return {**summarize(rows, result.reason), **baseline, **weights}


def on_stop_signal(signum, frame) -> None:
    """In a worker, Ctrl-C or SIGTERM (from the terminal, or the sweep passing it on) stops the run
    after its batch, as `dltui train` does: the trainer writes ``last`` and marks the run stopped.
    A worker with no run (idle) ignores Ctrl-C and ends on SIGTERM or SIGHUP."""
    global _STOP
    _STOP = True
    trainer = _TRAINER
    if trainer is not None:
        trainer.stop()
    elif not _IN_TASK and signum != signal.SIGINT:
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)


def worker_init(cuda_device: str | None = None) -> None:
    """In each worker process: one BLAS thread, the GPU it owns, and Ctrl-C / SIGTERM that stop the
    run being trained (the trainer keeps its checkpoints) but never kill an idle worker."""
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    if cuda_device is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = cuda_device
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), on_stop_signal)


def mark_abandoned(tasks: list[Task]) -> list[str]:
    """After the workers are gone: a run folder whose status still says running with a dead pid (a
    worker killed mid-run: kill -9, the OOM killer) is marked finished, reason "killed" (the runs
    overview shows it so; a rerun of the sweep trains it again). Returns those run folders."""
    from ..runs.store.folder import RunFolder, read_metrics
    from ..runs.store.scan import pid_alive

    marked = []
    for t in tasks:
        run = RunFolder(t.out_dir)
        st = run.read_status()
        if st.get("state") != "running" or pid_alive(st.get("pid")):
            continue
        rows, _ = read_metrics(run.metrics) if run.metrics.exists() else ([], 0)
        st = {k: v for k, v in st.items() if k not in ("updated", "pid")}
        try:
            run.write_status(**{**st, "state": "finished", "end": {"reason": "killed", "epochs_run": len(rows)},
                                "signal": "worker killed"})
            marked.append(t.out_dir)
        except OSError:
            pass
    return marked


# ---------------------------------------------------------------- many runs


def run_tasks(tasks: list[Task], executor: Executor | None, on_done=None) -> list[dict]:
    """Run ``tasks`` on ``executor`` (None: here, one by one). Finished runs already on disk are
    reused without submitting them. ``on_done(index, summary)`` is called as each run ends.
    Ctrl-C cancels what has not started, stops what runs, and raises SweepInterrupted."""
    results: list[dict | None] = [None] * len(tasks)
    todo = []
    for i, t in enumerate(tasks):
        done = finished_summary(t.out_dir, load_preset(t.preset, t.overrides).to_toml())
        if done is not None:
            results[i] = {**done, "reused": True}
            if on_done:
                on_done(i, results[i])
        else:
            todo.append(i)
    if executor is None:
        for i in todo:
            results[i] = _stopped_is_interrupt(run_task(tasks[i]), results)
            if on_done:
                on_done(i, results[i])
        return results
    futures: dict[Future, int] = {executor.submit(run_task, tasks[i]): i for i in todo}
    try:
        for fut in as_completed(futures):
            i = futures[fut]
            results[i] = _stopped_is_interrupt(fut.result(), results)
            if on_done:
                on_done(i, results[i])
    except (KeyboardInterrupt, SweepInterrupted) as e:
        _interrupt(executor, futures, results)
        err = SweepInterrupted(results)
        err.signum = getattr(e, "signum", None)  # SIGTERM to the sweep: signals.Stopped(SIGTERM)
        raise err from None
    except BrokenExecutor:  # a worker was killed: the pool cannot run the rest
        _interrupt(executor, futures, results)
        raise SweepInterrupted(results, worker_lost=True) from None
    return results


def _stopped_is_interrupt(summary: dict, results: list) -> dict:
    if summary.get("reason") == "stopped":  # the worker saw Ctrl-C: the sweep stops
        raise SweepInterrupted(results)
    return summary


def _interrupt(executor: Executor, futures: dict[Future, int], results: list) -> None:
    for fut in futures:
        fut.cancel()
    for pid in worker_pids(executor):  # local workers: stop the runs they train (Ctrl-C may not reach them)
        try:
            os.kill(pid, signal.SIGINT)
        except OSError:
            pass
    running = [f for f in futures if not f.cancelled()]
    wait(running, timeout=30)  # local runs stop after their batch; a cluster's may take longer: not waited for
    for fut in running:
        if not fut.done() or fut.cancelled() or fut.exception(timeout=0) is not None:
            continue
        summary = fut.result()
        if summary.get("reason") not in ("stopped", "failed"):
            results[futures[fut]] = summary


def worker_pids(executor: Executor) -> list[int]:
    pools = getattr(executor, "pools", None) or [executor]  # the per-GPU executor holds several pools
    return [pid for pool in pools for pid in list(getattr(pool, "_processes", None) or {})]


def write_summary(out: str | Path, doc: dict) -> Path:
    from ..runs.store.checkpoint import atomic_write

    path = Path(out) / "sweep.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, json.dumps(doc, indent=1), fsync=False)
    return path

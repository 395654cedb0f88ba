"""`dltui sweep PRESET --grid KEY=V1,V2 --seeds N`: a grid of settings times N seeds, each an
ordinary run folder under one sweep folder, run in parallel; prints the lecture-style table."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

EXAMPLES = """\
examples:
  dltui sweep deep-8x3 --grid model.hidden=[8,8,8],[56] --seeds 8
  dltui sweep hw01-boss --data covid.train.csv --seeds 8 --seed-keys training.seed
  dltui sweep moons --seeds 8 --seed-keys data.split_seed     (one init, 8 splits)
  dltui sweep moons --seeds 8 --seed-keys training.init_seed  (one split, 8 inits)
  dltui sweep xor --grid optimizer.lr=0.01,0.1 --grid model.hidden=[4],[16] --jobs 2 --json
  dltui sweep moons --seeds 16 --cluster tcp://scheduler:8786   (needs dltui[cluster])
  dltui sweep hw01-boss --data covid.train.csv --gpus 0,1 --backend torch

Rerunning the same command reuses the finished runs in its folder; Ctrl-C stops
cleanly and keeps them. A different sweep into the same --out is refused unless you add --overwrite.
"""

DESCRIPTION = """\
Train every combination of the --grid values, each on --seeds seeds, in parallel.
Each run is an ordinary run folder (as `dltui train` writes) under one sweep folder.

Prints one row per setting: train and validation loss (and accuracy) as mean ± sd
over the seeds, and on how many seeds it beats the reference row (--ref, paired by
seed). --json and the sweep folder's sweep.json and table.csv keep every figure.
"""


def add_parser(sub) -> None:
    import argparse

    sp = sub.add_parser(
        "sweep", help="train a grid of settings x seeds and tabulate them",
        description=DESCRIPTION, epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    sp.add_argument("preset", help="a preset name (see `dltui list`) or a path to a .toml file")
    sp.add_argument("--grid", action="append", default=[], metavar="KEY=V1,V2,...",
                    help="values to sweep, e.g. --grid model.hidden=[8,8,8],[56] (repeatable: all combinations)")
    sp.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                    help="override a preset value for every run (repeatable)")
    sp.add_argument("--data", metavar="CSV", help="the CSV file for csv presets (sets data.path)")
    sp.add_argument("--epochs", type=int, metavar="N", help="shorthand for --set training.epochs=N")
    sp.add_argument("--backend", choices=["numpy", "torch"], help="numpy (default) or torch")
    sp.add_argument("--seeds", type=int, default=5, metavar="N", help="seeds per setting (default 5)")
    sp.add_argument("--seed-from", type=int, default=1, metavar="S", help="the first seed (default 1)")
    sp.add_argument("--seed-keys", metavar="KEYS",  # None: core.sweep.DEFAULT_SEED_KEYS (not imported at start-up)
                    help="the preset keys each seed sets (default training.seed,data.seed: the split, the init "
                         "and the shuffles; the synthetic data). E.g. training.seed to keep one dataset; "
                         "data.split_seed for new splits with the same init; training.init_seed for new "
                         "initial weights on one split")
    where = sp.add_mutually_exclusive_group()
    where.add_argument("--jobs", type=int, metavar="N", help="worker processes (default: one per core)")
    where.add_argument("--cluster", metavar="ADDRESS", help="send the runs to a Dask scheduler, e.g. tcp://host:8786")
    where.add_argument("--gpus", metavar="LIST", help="one worker per GPU, e.g. 0,1 (pinned by CUDA_VISIBLE_DEVICES)")
    sp.add_argument("--out", metavar="DIR", help="sweep folder (default runs/sweep-PRESET-<hash of the sweep>)")
    sp.add_argument("--overwrite", action="store_true",
                    help="replace a different sweep already in --out (otherwise dltui refuses)")
    sp.add_argument("--ref", type=int, default=0, metavar="R", help="the reference row for 'better than' (default 0)")
    sp.add_argument("--metric", default="best_val_loss", metavar="NAME",
                    help="the figure 'better than' compares (default best_val_loss; also train_loss, "
                         "final_train_loss, min_train_loss, val_acc, best_val_acc, small_weights: the fraction "
                         "of first-layer weights under 0.01)")
    sp.add_argument("--json", action="store_true", help="print the table as JSON instead of text")
    sp.add_argument("--csv", metavar="PATH", help="also write the table as CSV here (always in the sweep folder)")
    sp.set_defaults(run=run)


def base_overrides(args) -> dict:
    from dltui.tui.common import overrides_from_args

    base = overrides_from_args(args)
    if args.data is not None:
        base["data.path"] = str(Path(args.data).resolve())  # workers may run elsewhere
    if args.gpus:  # one worker per GPU: the runs train there, with the torch backend unless told otherwise
        base.setdefault("training.backend", "torch")
        base.setdefault("training.device", "cuda")
    return base


def check_args(args) -> None:
    from dltui.core.experiments.sweep_table import METRICS
    from dltui.tui.common import UserError

    if args.seeds < 1:
        raise UserError(f"--seeds {args.seeds}: give at least 1.")
    if args.jobs is not None and args.jobs < 1:
        raise UserError(f"--jobs {args.jobs}: give at least 1 worker.")
    if args.metric not in METRICS:
        raise UserError(f"--metric {args.metric!r}: expected one of {', '.join(METRICS)}.")


def make_plan(args):
    import hashlib  # (not at start-up: every dltui command builds this parser)

    from dltui.core.experiments.sweep import DEFAULT_SEED_KEYS, parse_grid, plan, settings
    from dltui.tui.common import UserError

    check_args(args)
    grid = [parse_grid(g) for g in args.grid]
    given = args.seed_keys if args.seed_keys is not None else ",".join(DEFAULT_SEED_KEYS)
    keys = [k.strip() for k in given.split(",") if k.strip()]
    base = base_overrides(args)
    check_seed_keys(args.preset, keys, base)
    seeds = list(range(args.seed_from, args.seed_from + args.seeds))
    ident = json.dumps([args.preset, grid, base, keys], sort_keys=True, default=str)
    out = Path(args.out or f"runs/sweep-{Path(args.preset).stem}-{hashlib.sha1(ident.encode()).hexdigest()[:8]}")
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out}: is a file; a sweep needs a folder.")
    rows = len(settings(grid))
    if not 0 <= args.ref < rows:
        raise UserError(f"--ref {args.ref}: the sweep has rows 0-{rows - 1} (one per setting).")
    tasks = plan(args.preset, grid, seeds, out, base, keys)
    check_metric(args.metric, check_data(tasks))
    check_out(out, {"preset": args.preset, "grid": [[k, v] for k, v in grid], "set": base, "seed_keys": keys},
              getattr(args, "overwrite", False))
    return tasks, grid, base, keys, seeds, out


def check_seed_keys(preset: str, keys: list[str], base: dict) -> None:
    """Each --seed-keys key must be a seed key of this preset (a whole-number key named *seed*)."""
    from dltui.core.config.spec import SCHEMA, data_fields, load_preset
    from dltui.tui.common import UserError

    kind = load_preset(preset, base).values["data"]["kind"]
    seeds = [f"{s}.{k}" for s, fields in (*SCHEMA.items(), ("data", data_fields(kind, preset)))
             for k, f in fields.items() if f.kind == "int" and "seed" in k]
    for k in keys:
        if k not in seeds:
            raise UserError(f"--seed-keys {k}: not a seed key of {preset}; seeds are set by "
                            f"{', '.join(dict.fromkeys(seeds))}.")


def check_data(tasks) -> set[str]:
    """Load each setting's data once here, so a missing or broken CSV is one clear error (exit 2)
    before anything trains, not a failure in every worker. Returns the tasks (regression, ...)."""
    from dltui.core.config.spec import load_preset
    from dltui.core.data.dataset import load_dataset

    seen, kinds = set(), set()
    for t in tasks:
        if t.row not in seen:
            seen.add(t.row)
            kinds.add(load_dataset(load_preset(t.preset, t.overrides)).task)
    return kinds


def check_metric(metric: str, kinds: set[str]) -> None:
    """Refuse a --metric the runs will not have: accuracy for regression, the baseline for classification."""
    from dltui.tui.common import UserError

    needs = "classification" if metric.endswith("_acc") else "regression" if metric.startswith("baseline") else None
    if needs and needs not in kinds:
        raise UserError(f"--metric {metric}: this sweep's runs are {'/'.join(sorted(kinds))}, which has no "
                        f"{metric.replace('_', ' ')}; use best_val_loss, train_loss, final_train_loss, "
                        "min_train_loss or small_weights.")


SETTING_NAMES = {"preset": "preset", "grid": "--grid", "set": "--set/--epochs/--data/--backend",
                 "seed_keys": "--seed-keys"}


def check_out(out: Path, settings_doc: dict, overwrite: bool) -> None:
    """A sweep folder holding a different sweep (other preset, grid, --set or seed keys) is refused
    unless ``overwrite``, which removes its runs; the same sweep is reused (its finished runs kept)."""
    import shutil

    from dltui.tui.common import UserError

    try:
        old = json.loads((out / "sweep.json").read_text())
    except (OSError, ValueError):
        return
    mine = json.loads(json.dumps(settings_doc, default=str))
    diff = [k for k in mine if json.dumps(old.get(k), sort_keys=True) != json.dumps(mine[k], sort_keys=True)]
    if not diff:
        return
    if not overwrite:
        other = ", ".join(SETTING_NAMES[k] for k in diff)
        raise UserError(f"--out {out}: holds a different sweep (other {other}). Choose another folder, "
                        " rerun that sweep's command to reuse it, or add --overwrite to replace it.")
    for d in out.glob("r*-s*"):
        if d.is_dir() and (d / "status.json").exists():
            shutil.rmtree(d)
    for name in ("sweep.json", "table.csv"):
        (out / name).unlink(missing_ok=True)


def executor_for(args):
    from dltui.core.experiments import executors
    from dltui.tui.common import UserError

    if args.cluster:
        return executors.dask_executor(args.cluster), f"Dask scheduler {args.cluster}"
    if args.gpus:
        try:
            gpus = executors.parse_gpus(args.gpus)
        except ValueError as e:
            raise UserError(str(e)) from None
        return executors.gpu_executor(gpus), f"{len(gpus)} GPU workers ({','.join(gpus)})"
    jobs = args.jobs or executors.default_jobs()
    return executors.local_executor(jobs), f"{jobs} local worker process{'es' if jobs > 1 else ''}"


class Progress:
    """One progress bar on a terminal; otherwise one plain line per finished run (on stderr, so
    stdout holds only the table or the JSON)."""

    def __init__(self, tasks, tty: bool):
        self.tasks, self.done, self.tty, self.bar = tasks, 0, tty, None
        if tty:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.bar = Progress(TextColumn("[bold]runs"), MofNCompleteColumn(), BarColumn(bar_width=None),
                                TextColumn("ETA"), TimeRemainingColumn(), transient=True,
                                console=Console(stderr=True))
            self.bar_task = self.bar.add_task("runs", total=len(tasks))
            self.bar.start()

    def __call__(self, i: int, summary: dict) -> None:
        self.done += 1
        t = self.tasks[i]
        if self.bar is not None:
            self.bar.update(self.bar_task, completed=self.done)
            return
        figures = f"val {summary['best_val_loss']:.4g}" if summary.get("best_val_loss") is not None else ""
        how = "reused" if summary.get("reused") else summary.get("reason", "")
        print(f"run {self.done}/{len(self.tasks)}: row {t.row} ({t.label}), seed {t.seed}: {how} {figures}".rstrip(),
              file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def execute(args, tasks, ctx) -> dict:
    """Run ``tasks`` on the executor ``ctx`` gives, with one progress bar. Returns the results and how it
    ended: interrupted (Ctrl-C, SIGTERM), lost (a worker process died), killed (the run folders a dead
    worker left running, now marked killed). Shared by `dltui sweep` and `dltui check`."""
    from dltui.core.experiments.executors import ClusterError
    from dltui.core.experiments.sweep import SweepInterrupted, mark_abandoned, run_tasks
    from dltui.tui.common import UserError

    progress = None
    out = {"results": [None] * len(tasks), "interrupted": False, "lost": False, "signum": None, "killed": [],
           "since": time.time()}
    try:
        with ctx as executor:  # the bar starts after the workers (its thread is not forked with them)
            progress = Progress(tasks, sys.stderr.isatty())
            out["results"] = run_tasks(tasks, executor, on_done=progress)
    except SweepInterrupted as e:
        out.update(results=e.results, interrupted=True, lost=e.worker_lost, signum=e.signum)
    except ClusterError as e:
        raise UserError(str(e)) from None
    finally:
        if progress is not None:
            progress.close()
        if not args.cluster:  # the workers are gone: a run one of them left "running" is marked killed
            out["killed"] = mark_abandoned(tasks)
    return out


def _names(dirs: list[str], most: int = 6) -> str:
    names = [Path(d).name for d in dirs]
    return ", ".join(names[:most]) + (f" and {len(names) - most} more" if len(names) > most else "")


def _stopped_since(out_dir: str, since: float) -> bool:
    from dltui.core.runs.store.folder import RunFolder

    run = RunFolder(out_dir)
    try:
        fresh = run.status.stat().st_mtime >= since - 1
    except OSError:
        return False
    return fresh and (run.read_status().get("end") or {}).get("reason") == "stopped"


def _say(text: str) -> None:
    """A message on stderr, wrapped at word boundaries to the terminal's width (whole in a pipe)."""
    import shutil
    import textwrap

    width = shutil.get_terminal_size().columns if sys.stderr.isatty() else 0
    print("\n" + (textwrap.fill(text, width - 1) if width > 20 else text), file=sys.stderr)


def ended_early(o: dict, tasks, where: str) -> int:
    """Say why the runs ended early and what is kept (naming the runs a killed worker had in flight);
    returns the exit status: 1 for a killed worker, 128 + the signal for Ctrl-C (130) or SIGTERM."""
    kept = sum(r is not None for r in o["results"])
    tail = (f"{kept}/{len(tasks)} runs finished and are kept in {where}; rerun the same command to reuse them "
            "and do the rest.")
    if not o["lost"]:
        _say(f"stopped: {tail}")
        return 128 + int(o["signum"] or 2)  # 130 Ctrl-C, 143 SIGTERM
    killed = (f"the run it was training, {_names(o['killed'])}, is marked killed" if len(o["killed"]) == 1 else
              f"the runs it was training, {_names(o['killed'])}, are marked killed" if o["killed"] else
              "it was between runs")
    others = [t.out_dir for t, r in zip(tasks, o["results"])
              if r is None and t.out_dir not in o["killed"] and _stopped_since(t.out_dir, o["since"])]
    stopped = f"; stopped with it (the pool cannot go on): {_names(others)}" if others else ""
    _say(f"a worker process ended abruptly (killed, or out of memory): {killed}{stopped}. {tail}")
    return 1


def run(args) -> int:
    tasks, grid, base, keys, seeds, out = make_plan(args)
    ctx, where = executor_for(args)
    print(f"sweep {args.preset}: {len(tasks) // len(seeds)} setting(s) x {len(seeds)} seeds = {len(tasks)} runs "
          f"on {where}, in {out}", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    o = execute(args, tasks, ctx)
    report(args, tasks, o["results"], grid, base, keys, seeds, out, time.perf_counter() - t0)
    if o["interrupted"]:
        return ended_early(o, tasks, str(out))
    failed = [r for r in o["results"] if r and r.get("reason") == "failed"]
    for r in failed[:3]:
        print(f"a run failed: {r.get('error')}", file=sys.stderr)
    return 1 if failed else 0


def table_width() -> int | None:
    """The terminal's width on a terminal (the table fits it); None in a pipe or a file (full detail)."""
    import shutil

    return shutil.get_terminal_size().columns if sys.stdout.isatty() else None


def report(args, tasks, results, grid, base, keys, seeds, out: Path, seconds: float) -> dict:
    from dltui.core.experiments.sweep import label_of, settings, write_summary
    from dltui.core.experiments.sweep_table import build, format_table, table_csv

    labels = [label_of(s) for s in settings(grid)]
    runs = [{"row": t.row, "seed": t.seed, "dir": t.out_dir, "setting": t.label, **(r or {"reason": "not run"})}
            for t, r in zip(tasks, results)]
    table = build(labels, runs, args.ref, args.metric)
    doc = {"preset": args.preset, "grid": [[k, v] for k, v in grid], "set": base, "seeds": seeds,
           "seed_keys": keys, "settings": [s for s in settings(grid)], "runs": runs, "table": table,
           "seconds": seconds}
    write_summary(out, doc)
    csv_text = table_csv(table)
    (out / "table.csv").write_text(csv_text, encoding="utf-8")
    if args.csv:
        Path(args.csv).write_text(csv_text, encoding="utf-8")
    if args.json:
        print(json.dumps({"out": str(out), "table": table}, indent=1))
    else:
        import textwrap

        metric, width = args.metric.replace("_", " "), table_width()
        head = (f"{args.preset}: {len(seeds)} seeds ({', '.join(keys)} = {seeds[0]}..{seeds[-1]}); "
                f"'better' compares {metric}, paired by seed")
        print(textwrap.fill(head, width) if width else head)
        print(format_table(table, width))
        print(f"sweep folder: {out} (sweep.json, table.csv)")
    return doc

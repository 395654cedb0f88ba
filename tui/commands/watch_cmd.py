"""`dltui watch RUN_DIR`: the dashboard, read-only, following a run `dltui train --out` is writing."""

from __future__ import annotations

from pathlib import Path


def add_parser(sub) -> None:
    sp = sub.add_parser(
        "watch", help="follow a headless run in the app",
        description="Open the dashboard read-only on a run folder that `dltui train --out RUN_DIR` "
                    "is writing "
                    "(in nohup, tmux or a batch job): the loss per epoch as metrics.jsonl grows, the best "
                    "checkpoint's weights every few seconds, and a message when the run ends.")
    sp.add_argument("run_dir", metavar="RUN_DIR", help="the run folder (holds preset.toml, metrics.jsonl), or a "
                    "folder of runs or sweeps: then a list of them (state, epoch, best loss, age); enter opens one")
    sp.set_defaults(run=run)


def run(args) -> int:
    from dltui.tui.common import UserError

    p = Path(args.run_dir)
    if not p.is_dir():
        raise UserError(f"{p}: no such run folder. Give the folder `dltui train --out` writes.")
    if not any((p / f).exists() for f in ("preset.toml", "metrics.jsonl", "status.json")):
        from dltui.core.runs.store.scan import find_runs

        if find_runs(p):  # a folder of runs or sweeps: the overview
            return watch_many(p)
        raise UserError(f"{p}: not a run folder (no preset.toml, metrics.jsonl or status.json). "
                        "Give the folder `dltui train --out` writes.")
    from dltui.tui.app import watch

    return watch(p)


def watch_many(p: Path) -> int:
    import sys

    if not sys.stdout.isatty():  # no screen: the same overview once, as plain lines
        from dltui.core.runs.store.scan import scan_runs
        from dltui.tui.run_list import COLUMNS, fmt_row

        print("\t".join(COLUMNS))
        for r in scan_runs(p):
            print("\t".join(fmt_row(r)))
        return 0
    from dltui.tui.screens.runs_overview import run_app

    return run_app(p)

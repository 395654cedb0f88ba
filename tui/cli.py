"""The `dltui` command: the app, and subcommands for work without a screen.

Each subcommand lives in its own module with ``add_parser(subparsers)`` and ``run(args) -> int``;
add a module to COMMANDS to add a command. Nothing here imports textual or torch at start-up.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

# dltui trains small networks: a multi-threaded BLAS spends more time waking threads than computing,
# and fights the UI thread for the cores. One BLAS thread, unless the user says otherwise.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

COMMANDS = [
    "dltui.tui.commands.list_cmd",
    "dltui.tui.commands.train_cmd",
    "dltui.tui.commands.predict_cmd",
    "dltui.tui.commands.trace_cmd",
    "dltui.tui.commands.devices_cmd",
    "dltui.tui.commands.watch_cmd",
    "dltui.tui.commands.export_cmd",
]

EPILOG = """\
examples:
  dltui list                                    the presets, by topic
  dltui train piecewise-sigmoid                 train headless, write runs/piecewise-sigmoid-<time>/
  dltui train hw01-covid --data covid.train.csv --out runs/hw1
  dltui predict runs/hw1 --data covid.test.csv --out pred.csv
  dltui watch runs/hw1                          follow a headless run in the app
  dltui piecewise-sigmoid --start               open a preset in the app and start training
  dltui train xor --set optimizer.lr=0.1 --set model.hidden=[4]

exit codes: 0 ok, 1 the run failed or diverged, 2 a usage or input error
"""


class UserError(Exception):
    """Raised by commands for mistakes a person can fix; printed without a traceback."""


def user_errors() -> tuple[type[BaseException], ...]:
    from dltui.core.backends import BackendError
    from dltui.core.checkpoint import CheckpointError
    from dltui.core.data import DataError
    from dltui.core.spec import SpecError

    return (UserError, SpecError, DataError, CheckpointError, BackendError)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="dltui",
        description="Watch neural networks learn in your terminal. Without a command, opens the app.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version="dltui 0.1.0")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(name).add_parser(sub)
    return p


def add_run_options(sp: argparse.ArgumentParser, preset_help: str | None = None) -> None:
    """The options every command that builds a run from a preset shares (the app's too, where the
    preset is optional: give ``preset_help``)."""
    if preset_help:
        sp.add_argument("preset", nargs="?", help=preset_help)
    else:
        sp.add_argument("preset", help="a preset name (see `dltui list`) or a path to a .toml file")
    sp.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                    help="override a preset value, e.g. --set optimizer.lr=3e-4 (repeatable)")
    sp.add_argument("--data", metavar="CSV", help="the CSV file for csv presets (sets data.path)")
    sp.add_argument("--epochs", type=int, metavar="N", help="shorthand for --set training.epochs=N")
    sp.add_argument("--seed", type=int, metavar="N", help="shorthand for --set training.seed=N")
    sp.add_argument("--backend", choices=["numpy", "torch"], help="numpy (default) or torch")
    sp.add_argument("--device", metavar="DEV", help="auto | cpu | cuda | cuda:N | mps (torch backend)")


def spec_from_args(args):
    from dltui.core.spec import load_preset, parse_override

    overrides = dict(parse_override(o) for o in args.overrides)
    if args.data is not None:
        overrides["data.path"] = args.data
    if args.epochs is not None:
        overrides["training.epochs"] = args.epochs
    if args.seed is not None:
        overrides["training.seed"] = args.seed
    if args.backend:
        overrides["training.backend"] = args.backend
    if args.device:
        overrides["training.device"] = args.device
    return load_preset(args.preset, overrides)


def build_app_parser() -> argparse.ArgumentParser:
    """`dltui [PRESET] [options]`: the app, on the picker or straight on a preset's dashboard."""
    p = argparse.ArgumentParser(
        prog="dltui", description="Open the app: the preset picker, or with PRESET its dashboard (paused at "
        "epoch 0; --start starts at once). Subcommands: dltui --help.")
    add_run_options(p, preset_help="a preset name or .toml file to open in the dashboard")
    p.add_argument("--start", action="store_true", help="start training at once instead of paused")
    p.add_argument("--preset", dest="preset_paths", action="append", default=[], metavar="PATH",
                   help="add a preset file to the picker (repeatable)")
    return p


def _command_names(parser: argparse.ArgumentParser) -> set[str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    return set()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    # `dltui`, `dltui PRESET ...` and `dltui --preset P`: the app (subparsers would reject a preset name)
    first = argv[0] if argv else None
    if first is None or (first not in _command_names(parser) and first not in ("-h", "--help", "--version")):
        args = build_app_parser().parse_args(argv)
        try:
            return open_app(args, parser)
        except user_errors() as e:
            print(f"dltui: error: {e}", file=sys.stderr)
            return 2
    args = parser.parse_args(argv)
    if not args.command:
        return open_app(args, parser)
    try:
        return args.run(args)
    except user_errors() as e:
        print(f"dltui: error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0


def open_app(args, parser) -> int:
    try:
        app_main = importlib.import_module("dltui.tui.app").main
    except ModuleNotFoundError as e:
        if e.name and e.name.startswith(("textual", "dltui.tui.app")):
            print(f"dltui: the app cannot start ({e}); `dltui train` works without it.", file=sys.stderr)
            return 2
        raise
    return app_main(args)


if __name__ == "__main__":
    sys.exit(main())

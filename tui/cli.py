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

# UserError and the run options live in tui/common.py (screens and commands import them from there);
# re-exported here for code that still imports them from the CLI.
from dltui.tui.common import UserError, add_run_options, spec_from_args, user_errors  # noqa: E402, F401

COMMANDS = [
    "dltui.tui.commands.list_cmd",
    "dltui.tui.commands.train_cmd",
    "dltui.tui.commands.predict_cmd",
    "dltui.tui.commands.trace_cmd",
    "dltui.tui.commands.devices_cmd",
    "dltui.tui.commands.watch_cmd",
    "dltui.tui.commands.top_cmd",
    "dltui.tui.commands.bench_cmd",
    "dltui.tui.commands.sweep_cmd",
    "dltui.tui.commands.check_cmd",
    "dltui.tui.commands.compare_cmd",
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

exit codes: 0 ok, 1 the run failed or diverged, 2 a usage or input error,
  130/143/129 stopped by Ctrl-C/SIGTERM/SIGHUP (after the batch, `last` written)
"""


class Parser(argparse.ArgumentParser):
    """argparse, with the words a person typed made safe for the terminal in its messages, and no
    abbreviated options (`--epoch 5` is not silently `--epochs 5`)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def _print_message(self, message, file=None):
        from dltui.core.sanitize import safe

        super()._print_message(safe(message) if message else message, file)


def build_parser() -> argparse.ArgumentParser:
    p = Parser(
        prog="dltui",
        description="Watch neural networks learn in your terminal. Without a command, opens the app.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version="dltui 0.1.0")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(name).add_parser(sub)
    return p


def build_app_parser() -> argparse.ArgumentParser:
    """`dltui [PRESET] [options]`: the app, on the picker or straight on a preset's dashboard."""
    p = Parser(
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
    from dltui.tui import safety

    safety.prepare_streams()
    try:
        return _main(argv)
    except BaseException as e:  # noqa: BLE001 - every ending gets a message and an exit code, no traceback
        return safety.ending(e)


def _main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    from dltui.tui import safety

    safety.check_command_name(argv, _command_names(parser))
    # `dltui`, `dltui PRESET ...` and `dltui --preset P`: the app (subparsers would reject a preset name)
    first = argv[0] if argv else None
    if first is None or (first not in _command_names(parser) and first not in ("-h", "--help", "--version")):
        args = build_app_parser().parse_args(argv)
        try:
            return open_app(args, parser)
        except user_errors() as e:
            safety.say_error(e)
            return 2
    args = parser.parse_args(argv)
    if not args.command:
        return open_app(args, parser)
    from dltui.tui import signals

    old = signals.install() if args.command != "watch" else {}  # the app handles its own keys
    try:
        return args.run(args)
    except user_errors() as e:
        safety.say_error(e)
        return 2
    except BrokenPipeError:
        return 0
    finally:
        signals.restore(old)


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

"""What the CLI's commands and the app's screens share: the error a person can fix, and building a
run's preset from command-line options. Imports nothing from the rest of tui/."""

from __future__ import annotations

import argparse


class UserError(Exception):
    """Raised by commands for mistakes a person can fix; printed without a traceback."""


def user_errors() -> tuple[type[BaseException], ...]:
    from dltui.core.errors import USER_ERRORS

    return (UserError, *USER_ERRORS)


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
    sp.add_argument("--seed", type=int, metavar="N", help="shorthand for --set training.seed=N: the shuffles, and the "
                    "split and the init unless --set data.split_seed=S or training.init_seed=S sets them apart")
    sp.add_argument("--backend", choices=["numpy", "torch", "auto"],
                    help="numpy (default), torch, or auto (the fastest here, by a short measured probe)")
    sp.add_argument("--device", metavar="DEV", help="auto | cpu | cuda | cuda:N | mps (torch backend)")
    sp.add_argument("--pace", metavar="RATE", help="updates per second: 'max' or a number such as 30 "
                    "(`train`: max unless given; the app: the preset's pace)")


def overrides_from_args(args) -> dict:
    """--set, --data, --epochs, --seed, --pace, --backend and --device as preset overrides (those of them
    the command has: train and the app have all; sweep --set, --data, --epochs and --backend). A value
    given, even an empty one, goes to the preset's checks; an empty --backend or --device is none."""
    from dltui.core.config.spec import parse_override

    overrides = dict(parse_override(o) for o in args.overrides)
    for opt, key in (("data", "data.path"), ("epochs", "training.epochs"), ("seed", "training.seed"),
                     ("pace", "training.pace"), ("backend", "training.backend"), ("device", "training.device")):
        value = getattr(args, opt, None)
        if value is not None and (value != "" or opt not in ("backend", "device")):
            overrides[key] = value
    device = getattr(args, "device", None)
    if device and device.strip().lower() == "auto" and not args.backend:  # --device auto alone: measure
        overrides["training.backend"] = "auto"
    return overrides


def spec_from_args(args):
    from dltui.core.config.spec import load_preset

    return load_preset(args.preset, overrides_from_args(args))

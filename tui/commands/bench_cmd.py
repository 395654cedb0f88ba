"""`dltui bench PRESET`: steps/s of this preset's model and batch on every option here (the NumPy
engine, torch on the CPU, CUDA eager, CUDA graph), and the winner `--backend auto` would pick."""

from __future__ import annotations

import sys


def add_parser(sub) -> None:
    from dltui.tui.common import add_run_options

    sp = sub.add_parser(
        "bench", help="measure steps/s of a preset on numpy, torch CPU, CUDA eager and CUDA graph",
        description="Time a few training steps of PRESET's model and batch (on random data of the same shape) "
                    "on each option present here, print steps/s per option and the winner, and cache the result "
                    "for --backend auto (each bench measures afresh). torch options are measured when torch is "
                    "installed. --backend auto itself measures only where it has a choice that can win (a GPU, "
                    "or torch already loaded); on a CPU-only machine it takes the NumPy engine unmeasured.")
    add_run_options(sp)
    sp.add_argument("--seconds", type=float, default=0.5, metavar="S",
                    help="timed seconds per option, after a short warm-up (default 0.5)")
    sp.set_defaults(run=run)


def run(args) -> int:
    from dltui.core.backends import autodevice
    from dltui.core.data.dataset import load_dataset
    from dltui.tui.common import UserError, spec_from_args

    if not 0.01 <= args.seconds <= 60:
        raise UserError(f"--seconds {args.seconds}: give a number of seconds between 0.01 and 60.")
    spec = spec_from_args(args)
    data = load_dataset(spec)
    t = spec.values["training"]
    device = args.device or "auto"
    asked = args.backend or ("auto" if t["backend"] == "auto" else None)
    print(f"{spec.name}: net {'-'.join(map(str, [data.n_features, *spec.values['model']['hidden'], data.n_outputs]))}"
          f", batch {t['batch_size'] or 'full'}, {t['dtype']}; {args.seconds:g} s per option ...",
          file=sys.stderr, flush=True)
    choice = autodevice.choose(spec, data.n_features, data.n_outputs, device=device, refresh=True,
                               seconds=args.seconds, torch_asked=asked != "numpy",
                               measure_single=True)
    if asked in ("numpy", "torch"):
        choice.table = [r for r in choice.table if r[0].startswith(asked)] or choice.table
    print(autodevice.format_table(choice))
    print(f"winner: {choice.reason}")
    return 0

"""`dltui trace PRESET`: the backpropagation step-through without a screen.

Readable text by default (one block per stage), JSON with ``--json`` (every array as
{"shape", "data"}) for handouts, notebooks and tests. ``--run RUN_DIR`` traces a saved model.
"""

from __future__ import annotations

import sys

MAX_WIDTH = 1000  # text columns; a wider trace would be lines no terminal shows


def add_parser(sub) -> None:
    from dltui.tui.common import add_run_options

    sp = sub.add_parser(
        "trace", help="one forward + backward pass, stage by stage, as text or JSON",
        description="Trace one mini-batch of the training set at the initial weights (or a saved model's, "
                    "with --run): every layer's a(l-1), z, a, delta, dW, db and the update the optimizer "
                    "would apply. Text shows one sample's numbers; --json writes the whole batch.")
    add_run_options(sp)
    for action in sp._actions:  # the preset may come from the run folder instead
        if action.dest == "preset":
            action.nargs, action.default = "?", None
            action.help = "a preset name or .toml file (not needed with --run)"
    sp.add_argument("--run", dest="run_dir", metavar="RUN_DIR",
                    help="trace a saved model (a run folder or .safetensors file)")
    sp.add_argument("--sample", type=int, default=0, metavar="N",
                    help="a training-set row: trace the mini-batch that holds it and show its numbers "
                         "(default 0)")
    sp.add_argument("--batch-size", type=int, metavar="N",
                    help="rows in the traced mini-batch (default: the preset's batch size; 0 = all)")
    sp.add_argument("--json", action="store_true",
                    help="write the trace as JSON (every array with its shape)")
    sp.add_argument("--check", action="store_true",
                    help="also compare a few gradients with finite differences (and torch autograd if "
                         "installed)")
    sp.add_argument("--width", type=int, default=100, metavar="COLS", help="text width (default 100)")
    sp.set_defaults(run=run)


def _source(args):
    """(backend, spec, note): a fresh network from the preset, or the saved one from --run."""
    from dltui.core.backends import make_backend
    from dltui.core.backends.autodevice import backend_for
    from dltui.core.backends.base import layer_sizes
    from dltui.core.data.dataset import DataError, load_dataset
    from dltui.tui.common import UserError, spec_from_args

    if args.run_dir:
        from dltui.core.config.spec import parse_override
        from dltui.tui.commands.predict_cmd import load_model

        be, meta = load_model(args.run_dir)
        overrides = dict(parse_override(o) for o in args.overrides)
        if args.data is not None:
            overrides["data.path"] = args.data
        if args.backend:
            overrides["training.backend"] = args.backend
        spec = be.spec.with_overrides(overrides) if overrides else be.spec
        try:
            data = load_dataset(spec)
        except DataError as e:
            raise UserError(f"{e} The run {args.run_dir} was trained on that data; to trace it, give the "
                            "CSV's path with --data CSV.") from None
        params = be.get_params()
        if data.n_features != params[0][0].shape[1]:
            raise UserError(f"--data {spec.values['data']['path']}: gives {data.n_features} feature columns, "
                            f"but the model in {args.run_dir} takes {params[0][0].shape[1]} "
                            f"({', '.join(meta['features']['names'][:10])}"
                            f"{', ...' if len(meta['features']['names']) > 10 else ''}). Give the CSV it was "
                            "trained on, or one with those columns.")
        name = spec.values["training"]["backend"]
        be = make_backend(name, spec, data.n_features, data.n_outputs, params=params, device=args.device)
        note = (f"saved model from {args.run_dir} (epoch {meta.get('epoch')}); the optimizer state is not "
                "saved, so the update is a fresh optimizer's first step")
        return be, spec, data, note
    if not args.preset:
        raise UserError("trace needs a PRESET (see `dltui list`) or --run RUN_DIR.")
    spec = spec_from_args(args)
    data = load_dataset(spec)
    sizes = layer_sizes(spec, data.n_features, data.n_outputs)
    be = backend_for(spec, sizes[0], sizes[-1], device=args.device)
    from dltui.core.data.splits import init_seed

    return be, spec, data, f"preset {spec.name} at its initial weights (seed {init_seed(spec.values)})"


def run(args) -> int:
    from dltui.core.engine.gradcheck import finite_difference_check, torch_autograd_check
    from dltui.core.engine.tracing import trace_batch
    from dltui.tui.common import UserError
    from dltui.tui.trace_text import trace_text

    if not 1 <= args.width <= MAX_WIDTH:
        raise UserError(f"--width {args.width}: give a text width of at most {MAX_WIDTH} columns (narrower "
                        "than 40 is shown at 40).")
    be, spec, data, note = _source(args)
    if args.batch_size is not None and args.batch_size < 0:
        raise UserError(f"--batch-size {args.batch_size}: give 0 (the whole training set) or more rows.")
    bs = spec.values["training"]["batch_size"] if args.batch_size is None else args.batch_size
    try:
        tr = trace_batch(be, data, batch_size=bs, sample=args.sample)
    except IndexError as e:
        raise UserError(f"{e}.") from None
    tr.extra["source"] = note
    tr.extra["preset"] = spec.name
    checks = {}
    if args.check:
        checks["finite_difference"] = finite_difference_check(tr)
        auto = torch_autograd_check(tr)
        if auto is not None:
            checks["torch_autograd"] = auto
    if args.json:
        d = tr.to_dict()
        if checks:
            d["checks"] = {k: [{"name": c.name, "layer": c.layer, "param": c.param, "i": c.i, "j": c.j,
                                "backprop": c.backprop, "other": c.other, "rel_err": c.rel_err} for c in v]
                           for k, v in checks.items()}
        import json

        sys.stdout.write(json.dumps(d) + "\n")
        return 0
    text = trace_text(tr, width=max(40, args.width))
    lines = [note, text]
    for kind, rows in checks.items():
        fd = kind == "finite_difference"
        label, short = ("finite differences", "numeric") if fd else ("torch autograd", "autograd")
        lines.append(f"── check: backprop vs {label}")
        for c in rows:
            lines.append(f"  {c.name:<14} backprop {c.backprop: .6e}   {short} {c.other: .6e}   "
                         f"rel. error {c.rel_err:.1e}")
    from dltui.core.sanitize import safe

    sys.stdout.write(safe("\n".join(lines)) + "\n")
    return 0

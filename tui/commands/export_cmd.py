"""`dltui export PRESET --torch`: a standalone PyTorch script of a preset, in the course's code shape."""

from __future__ import annotations

from pathlib import Path


def add_parser(sub) -> None:
    from dltui.tui.common import add_run_options

    sp = sub.add_parser(
        "export", help="write a preset as a standalone PyTorch script",
        description="Write PRESET (with --set/--data/--epochs/--seed applied) as a standalone PyTorch "
                    "script in the course's code shape: Dataset, DataLoader, nn.Module, a train/valid loop "
                    "with no-grad evaluation, early stopping, saving and loading the best model. A CSV "
                    "preset's script reads its CSV as the course's code does (the same rows as dltui); "
                    "generated data go into a CSV beside it (NAME.data.csv). Run it with python.")
    add_run_options(sp)
    sp.add_argument("--torch", action="store_true", help="export a PyTorch script (the only format so far)")
    sp.add_argument("--out", metavar="FILE.py", help="the script to write (default PRESET.py in this folder)")
    sp.add_argument("--test", metavar="CSV", help="CSV presets: rows to predict (e.g. covid.test.csv); the "
                    "script then writes pred.csv with the best model")
    sp.add_argument("--overwrite", action="store_true", help="replace files that exist")
    sp.set_defaults(run=run)


def run(args) -> int:
    from dltui.core.data.dataset import load_dataset, read_features_for_predict
    from dltui.core.integrations.torch_script import data_csv, torch_script
    from dltui.core.runs.store.checkpoint import atomic_write
    from dltui.tui.common import UserError, spec_from_args

    if not args.torch:
        raise UserError("dltui export: say which format: --torch writes a standalone PyTorch script "
                        "(the only format so far).")
    spec = spec_from_args(args)
    script = Path(args.out or f"{spec.name}.py")
    if script.suffix != ".py" or script.is_dir():
        raise UserError(f"--out {script}: give a file name ending in .py, e.g. --out {spec.name}.py.")
    data = load_dataset(spec)
    own_file = spec.values["data"]["kind"] == "csv"  # the script reads the preset's CSV itself
    if args.test:
        if not own_file:
            raise UserError(f"--test {args.test}: only a CSV preset predicts a file; '{spec.name}' generates "
                            "its data.")
        read_features_for_predict(args.test, data.features)  # the file has the model's columns
    data_file = script.with_name(script.stem + ".data.csv")
    taken = [str(p) for p in (script, *(() if own_file else (data_file,))) if p.exists()]
    if taken and not args.overwrite:
        raise UserError(f"{' and '.join(taken)} already exist{'s' if len(taken) == 1 else ''}: choose another "
                        "--out, or add --overwrite to replace.")
    try:
        script.parent.mkdir(parents=True, exist_ok=True)
        if not own_file:
            atomic_write(data_file, data_csv(data))
        atomic_write(script, torch_script(spec, data, data_file.name, args.test))
    except OSError as e:
        raise UserError(f"--out {script}: cannot write there ({e.strerror or e}).") from None
    n_test = 0 if data.x_test is None else len(data.x_test)
    rows = f"{len(data.x_train)} train / {len(data.x_val)} valid{f' / {n_test} test' if n_test else ''} rows"
    what = f"reading {spec.values['data']['path']}" if own_file else f"and {data_file}"
    print(f"wrote {script} {what} ({rows}). Run it: python {script}")
    return 0

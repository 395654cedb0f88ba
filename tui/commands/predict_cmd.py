"""`dltui predict RUN --data CSV --out pred.csv`: a saved model's predictions for new rows."""

from __future__ import annotations

from pathlib import Path


def add_parser(sub) -> None:
    sp = sub.add_parser(
        "predict", help="predict a CSV with a trained run",
        description="Predict every row of a CSV with a run's best checkpoint, encoding the rows with the "
                    "features and normalisation saved at training. Writes a CSV with header "
                    "'id,<target>' (for HW1: id,tested_positive).")
    sp.add_argument("run_dir", metavar="RUN", help="a run folder (from dltui train --out) or a .safetensors file")
    sp.add_argument("--data", required=True, metavar="CSV", help="the rows to predict, e.g. covid.test.csv")
    sp.add_argument("--out", default="pred.csv", metavar="CSV", help="where to write (default pred.csv)")
    sp.add_argument("--overwrite", action="store_true", help="replace --out if it exists (otherwise dltui refuses)")
    sp.set_defaults(run=run)


def load_model(run: str | Path):
    """(backend, meta) for a run folder or checkpoint file, on the NumPy backend."""
    from dltui.core.backends.numpy_backend import NumpyBackend
    from dltui.core.config.spec import SpecError, spec_from_dict
    from dltui.core.runs.store.checkpoint import RUN_KEYS, CheckpointError, load_checkpoint
    from dltui.core.runs.store.folder import RunFolder

    p = Path(run)
    if p.is_dir():
        ck = RunFolder(p).checkpoint()
        if not ck.exists():
            raise CheckpointError(f"{p}: holds no checkpoint (best.safetensors or last.safetensors). "
                                  "Is it a folder written by `dltui train --out`?")
    elif p.exists():
        ck = p
    else:
        raise CheckpointError(f"{p}: no such run folder or checkpoint file.")
    params, meta = load_checkpoint(ck, require=RUN_KEYS)
    try:
        spec = spec_from_dict(meta["preset"], meta.get("preset_name", "run"), str(ck))
        sizes = meta["layer_sizes"]
    except (KeyError, SpecError) as e:
        raise CheckpointError(f"{ck}: its metadata is incomplete or invalid ({e}).") from None
    if [W.shape for W, _ in params] != [(o, i) for i, o in zip(sizes[:-1], sizes[1:])]:
        raise CheckpointError(f"{ck}: the weights do not match the network its metadata describes.")
    return NumpyBackend(spec, sizes[0], sizes[-1], params=params), meta


def run(args) -> int:
    from dltui.tui.common import UserError

    try:
        if Path(args.out).is_file() and not args.overwrite:  # a file saved earlier is not lost to a typo
            raise UserError(f"{args.out}: exists; give another --out, or add --overwrite to replace it.")
        print(write_predictions(args.run_dir, args.data, args.out))
    except UserError as e:
        text = str(e)
        raise UserError(f"--out {text}" if text.startswith(f"{args.out}:") else text) from None
    return 0


def write_predictions(run_dir, data, out_path) -> str:
    """Predict the CSV ``data`` with the run's best checkpoint into ``out_path``; the line saying so.
    The app's predict key calls this too, so both write the same file."""
    import numpy as np
    from dltui.core.data.dataset import Features, read_features_for_predict
    from dltui.core.runs.store.checkpoint import atomic_write

    backend, meta = load_model(run_dir)
    feats = Features.from_dict(meta["features"])
    if not feats.columns:
        from dltui.tui.common import UserError

        raise UserError(f"{run_dir}: this run trained on generated data ({meta['preset']['data']['kind']}); "
                        "predict works on runs trained from a CSV.")
    if Path(out_path).is_dir():
        from dltui.tui.common import UserError

        raise UserError(f"{out_path}: is a folder; give a file name such as pred.csv.")
    ids, x = read_features_for_predict(data, feats)
    with np.errstate(over="ignore", invalid="ignore"):  # non-finite output is refused just below
        out = backend.predict(x)
    check_finite(out, run_dir, data)
    pred = out.argmax(1) if meta["task"] == "classification" else out[:, 0]
    lines = [f"{feats.id_column},{feats.target}"]
    for i, v in zip(ids, pred):
        lines.append(f"{i},{int(v) if meta['task'] == 'classification' else float(v)!r}")
    try:
        atomic_write(out_path, "\n".join(lines) + "\n")
    except OSError as e:
        from dltui.tui.common import UserError

        raise UserError(f"{out_path}: cannot write there ({e.strerror or e}).") from None
    from dltui.core.sanitize import safe

    return safe(f"wrote {len(pred)} predictions to {out_path} (model from epoch {meta['epoch']}, "
                f"mean {float(np.mean(pred)):.4g})" + labelled_note(data, feats, pred, meta["task"]))


def labelled_note(data, feats, pred, task: str) -> str:
    """'' for a test file; when ``data`` has the target column (the training CSV, say), a sentence saying
    so, with how the predictions score against it (issue 23: 2699 rows were written without a word)."""
    import numpy as np
    from dltui.core.data.dataset import read_table
    from dltui.core.errors import DataError

    try:
        table = read_table(data)
        if feats.target not in table.header:
            return ""
        y = table.numeric([table.header.index(feats.target)], "target")[:, 0]
    except (DataError, OSError, ValueError):
        return ""
    if task == "classification":
        score = f"accuracy against it {float(np.mean(np.asarray(pred) == y)):.1%}"
    else:
        score = f"RMSE against it {float(np.sqrt(np.mean((np.asarray(pred, float) - y) ** 2))):.4g}"
    return (f". Note: {data} has the target column '{feats.target}' ({score}): labelled rows, such as the "
            "training CSV, not a test file; the training rows' score is not a test score")


def check_finite(out, run_dir: str, data: str) -> None:
    """Refuse to write predictions that are not numbers (NaN/inf weights, or rows far outside the
    training range): nothing is written, the message says which rows."""
    import numpy as np

    bad = ~np.isfinite(out).all(axis=1)
    if bad.any():
        from dltui.tui.common import UserError

        rows = ", ".join(str(i + 2) for i in np.flatnonzero(bad)[:5])
        raise UserError(f"{run_dir}: the model's output is not a finite number for {int(bad.sum())} of "
                        f"{len(out)} rows of {data} (lines {rows}{', ...' if bad.sum() > 5 else ''}): its "
                        "weights hold NaN or inf, or those rows are far outside the training data. Nothing "
                        "was written.")

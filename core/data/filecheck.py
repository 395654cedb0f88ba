"""A CSV preset knows what its training file looks like: its column count(s) (``[data]
n_columns``) and the file's name (``[data] file``). A file that does not fit (HW1's test file,
which has no target, or the 2021 file for a 2022-only preset) gets a message that names the
file the preset expected, before any training.
"""

from __future__ import annotations


def expected_file(d: dict) -> str:
    """How the preset names its file: ``[data] file``, else its ``needs`` text."""
    return d.get("file") or d.get("needs") or "a CSV file with a header row and a numeric target column"


def check_training_file(header: list[str], d: dict, preset: str) -> str | None:
    """A message if ``header`` does not look like the file preset ``preset`` trains on; else None."""
    path = d["path"]
    want = d.get("n_columns") or []
    if want and len(header) not in want:
        counts = " or ".join(str(n) for n in want)
        hint = ""
        if len(header) + 1 in want:
            hint = (" It has one column fewer than the training file: is it the test file, which has no "
                    "target column?")
        target = f", target '{d['target']}'" if d.get("target") else ""
        return (f"{path}: has {len(header)} columns, but preset '{preset}' trains on "
                f"{expected_file(d)} ({counts} columns{target}).{hint} Give the training file with "
                "--data PATH.")
    return None


def check_predict_file(header: list[str], columns: list[list], target: str, path: str) -> str | None:
    """A message if a file given to ``predict`` lacks a column the model was trained on; else None."""
    from .csvload import column_keys

    keys = column_keys(header)
    missing = [f"'{n}'" + (f" (occurrence {o + 1})" if o else "") for n, o in columns if [n, o] not in keys]
    if not missing:
        return None
    shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
    return (f"{path}: lacks {len(missing)} of the {len(columns)} columns the model was trained on ({shown}). "
            f"Predict needs a file with the training file's feature columns (the target '{target}' may be "
            "missing); was the model trained on another edition of the data?")

"""Issue 14, fuzzed: CSVs, checkpoints (bytes and metadata) and run files (metrics.jsonl, status.json)
thrown at the loaders and the CLI. The only way out is a result or a message for a person."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from dltui.core.data.csvload import open_csv
from dltui.core.data.dataset import DataError
from dltui.core.runs.store.checkpoint import RUN_KEYS, CheckpointError, load_checkpoint, save_checkpoint
from dltui.core.runs.store.folder import RunFolder, clean_row, read_metrics
from dltui.core.sanitize import has_unsafe
from dltui.tui.cli import main
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

# DLTUI_FUZZ_EXAMPLES=2000 for an attack-sized run
FUZZ = settings(max_examples=int(os.environ.get("DLTUI_FUZZ_EXAMPLES", "60")), deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# ---------------------------------------------------------------- CSVs

number = st.one_of(st.integers(-10**6, 10**6), st.floats(-1e12, 1e12, allow_nan=False, allow_infinity=False))


@st.composite
def tables(draw):
    n_cols = draw(st.integers(1, 6))
    n_rows = draw(st.integers(1, 30))
    names = draw(st.lists(st.sampled_from(["a", "b", "id", "day", "x y", "é"]), min_size=n_cols, max_size=n_cols))
    values = draw(st.lists(st.lists(number, min_size=n_cols, max_size=n_cols), min_size=n_rows, max_size=n_rows))
    fmt = draw(st.sampled_from(["repr", "g", "spaces"]))
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    blank_after = draw(st.sets(st.integers(0, n_rows - 1), max_size=3))
    text_col = draw(st.booleans())
    bom = draw(st.booleans())
    trailing = draw(st.booleans())
    quoted = text_col and draw(st.booleans())  # "text, 3": a separator inside quotes (the csv module's path)
    return names, values, fmt, eol, blank_after, "quoted" if quoted else text_col, bom, trailing


def render(t) -> tuple[str, list[str], np.ndarray]:
    names, values, fmt, eol, blank_after, text_col, bom, trailing = t
    cell = {"repr": repr, "g": lambda v: format(v, ".6g"), "spaces": lambda v: f" {v!r} "}[fmt]
    header = names + (["note"] if text_col else [])
    lines = [",".join(header)]
    for i, row in enumerate(values):
        note = f'"text, {i}"' if text_col == "quoted" else f"text {i}"
        lines.append(",".join([cell(v) for v in row] + ([note] if text_col else [])))
        if i in blank_after:
            lines.append("")
    text = ("\ufeff" if bom else "") + eol.join(lines) + (eol if trailing else "")
    ref = np.array([[float(cell(v)) for v in row] for row in values], dtype=np.float64)
    return text, header, ref


@FUZZ
@given(t=tables())
def test_the_csv_reader_agrees_with_the_csv_module(tmp_path, t):
    text, header, ref = render(t)
    p = tmp_path / "t.csv"
    p.write_bytes(text.encode("utf-8"))
    f = open_csv(p)
    if header[-1] == "note":  # predict reads the id column first: text before numbers
        sep = ", " if t[5] == "quoted" else " "
        assert open_csv(p).text(len(header) - 1) == [f"text{sep}{i}" for i in range(len(ref))]
    assert f.header == [h.strip() for h in header] and f.n_rows == len(ref)
    cols = list(range(ref.shape[1]))
    assert np.array_equal(f.numeric(cols), ref)
    assert np.array_equal(f.numeric(cols[::-1]), ref[:, ::-1])
    if header[-1] == "note":
        sep = ", " if t[5] == "quoted" else " "
        assert f.text(len(header) - 1) == [f"text{sep}{i}" for i in range(len(ref))]


@FUZZ
@given(t=tables(), where=st.integers(0, 10**6), kind=st.sampled_from(["ragged", "word", "empty", "nan"]))
def test_a_bad_row_is_named_by_its_line(tmp_path, t, where, kind):
    names, values = t[0], t[1]
    t = (names, values, "repr", "\n", set(), False, False, True)
    text, header, ref = render(t)
    lines = text.split("\n")
    i = 1 + where % len(values)
    cells = lines[i].split(",")
    assume(not (kind == "empty" and len(cells) == 1))  # an empty one-cell row is a blank line: skipped
    if kind == "ragged":
        cells.append("1")
    else:
        cells[0] = {"word": "five", "empty": "", "nan": "nan"}[kind]
    lines[i] = ",".join(cells)
    p = tmp_path / "t.csv"
    p.write_text("\n".join(lines))
    with pytest.raises(DataError, match=f"line {i + 1}"):
        open_csv(p).numeric(list(range(len(header))))


@FUZZ
@given(raw=st.binary(max_size=300))
def test_any_bytes_give_a_table_or_a_data_error(tmp_path, raw):
    p = tmp_path / "t.csv"
    p.write_bytes(raw)
    try:
        f = open_csv(p)
        f.numeric(list(range(len(f.header))))
    except DataError as e:
        assert str(e)


# ---------------------------------------------------------------- checkpoints


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    d = tmp_path_factory.mktemp("ck")
    rows = "".join(f"{i},{i % 7},{i * 0.5},{i % 3}\n" for i in range(60))
    (d / "d.csv").write_text("id,a,b,y\n" + rows)
    (d / "p.toml").write_text('[data]\nkind = "csv"\n[training]\nepochs = 2\nbatch_size = 16\n')
    assert main(["train", str(d / "p.toml"), "--data", str(d / "d.csv"), "--out", str(d / "run")]) == 0
    return d


json_value = st.recursive(st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats() | st.text(max_size=8),
                          lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=6), kids,
                                                                                     max_size=4), max_leaves=12)


def _predict(d: Path, run: Path, capsys) -> None:
    out = d / "pred.csv"
    out.unlink(missing_ok=True)
    code = main(["predict", str(run), "--data", str(d / "d.csv"), "--out", str(out)])
    err = capsys.readouterr().err
    assert code in (0, 2), err
    assert "Traceback" not in err and not has_unsafe(err)
    assert (code == 0) == out.exists()


@FUZZ
@given(key=st.sampled_from(list(RUN_KEYS) + ["n_outputs", "metrics", "features.names", "features.mean",
                                                "features.std", "features.columns", "features.inputs",
                                                "features.id_column", "preset.model"]),
       value=json_value, delete=st.booleans())
def test_mutated_metadata_gives_predictions_or_a_message(trained, capsys, key, value, delete):
    params, meta = load_checkpoint(trained / "run" / "best.safetensors")
    meta = json.loads(json.dumps(meta))
    where, name = (meta, key) if "." not in key else (meta[key.split(".")[0]], key.split(".")[1])
    if delete:
        where.pop(name, None)
    else:
        where[name] = value
    run = trained / "mut"
    shutil.rmtree(run, ignore_errors=True)
    save_checkpoint(run / "best.safetensors", params, meta)
    _predict(trained, run, capsys)


@FUZZ
@given(flips=st.lists(st.tuples(st.integers(0, 10**9), st.integers(0, 255)), min_size=1, max_size=6),
       cut=st.one_of(st.none(), st.integers(0, 10**9)))
def test_damaged_bytes_give_a_checkpoint_error(trained, capsys, flips, cut):
    good = bytearray((trained / "run" / "best.safetensors").read_bytes())
    for pos, byte in flips:
        good[pos % len(good)] = byte
    if cut is not None:
        good = good[: cut % len(good)]
    run = trained / "bytes"
    run.mkdir(exist_ok=True)
    (run / "best.safetensors").write_bytes(bytes(good))
    try:
        load_checkpoint(run / "best.safetensors", require=RUN_KEYS)
    except CheckpointError:
        pass
    _predict(trained, run, capsys)
    from dltui.core.runs import WatchedRun as WatchRun

    WatchRun(run).poll()  # watch reads the same checkpoint: no exception either


# ---------------------------------------------------------------- run files


@FUZZ
@given(lines=st.lists(st.one_of(st.binary(max_size=40), json_value.map(lambda v: json.dumps(v).encode())),
                      max_size=8),
       status=st.one_of(json_value, st.dictionaries(
           st.sampled_from(["state", "pid", "updated", "started", "end", "epoch"]), json_value, max_size=6)))
def test_watch_reads_any_run_files_without_failing(tmp_path, lines, status):
    from dltui.core.runs import WatchedRun as WatchRun

    run = tmp_path / "w"
    shutil.rmtree(run, ignore_errors=True)
    run.mkdir()
    good = {"epoch": 1, "step": 4, "train_loss": 0.5, "val_loss": 0.6, "train_metric": None, "val_metric": None,
            "best_epoch": 1, "best_val_loss": 0.6, "patience_left": None, "lr": 0.01, "elapsed": 0.1,
            "steps_per_second": 40.0}
    body = b"\n".join([json.dumps(good).encode()] + [ln.replace(b"\n", b" ") for ln in lines]) + b"\n"
    (run / "metrics.jsonl").write_bytes(body)
    (run / "status.json").write_text(json.dumps(status))
    (run / "preset.toml").write_text('[data]\nkind = "xor"\n')
    notes: list[str] = []
    rows, _ = read_metrics(run / "metrics.jsonl", 0, notes)
    assert rows[0]["epoch"] == 1 and all(clean_row(r) is not None for r in rows)
    st_ = RunFolder(run).read_status(notes)
    assert isinstance(st_, dict)
    w = WatchRun(run, clock=iter(range(0, 10**6, 10)).__next__)
    for _ in range(3):
        w.poll()
    assert w.view.history and w.view.history[0].epoch == 1


def test_a_malformed_row_is_skipped_with_a_note(tmp_path):
    p = tmp_path / "metrics.jsonl"
    p.write_bytes(b'{"epoch": "x"}\n[1, 2]\n\xff\xfe\n{"epoch": 1, "step": 1, "best_epoch": 1, "train_loss": 1.0, '
                  b'"lr": 0.1, "elapsed": 1.0, "steps_per_second": 1.0}\n{"epoch": 2, "st')
    notes: list[str] = []
    rows, offset = read_metrics(p, 0, notes)
    assert [r["epoch"] for r in rows] == [1] and len(notes) == 3
    assert offset == p.read_bytes().rfind(b"\n") + 1  # the half-written last line waits for the next read


def test_status_fields_of_the_wrong_type_are_left_out(tmp_path):
    (tmp_path / "status.json").write_text(json.dumps({"state": "running", "pid": "12", "updated": "soon",
                                                       "started": {"preset": 3, "epochs": 10}, "end": [1]}))
    notes: list[str] = []
    doc = RunFolder(tmp_path).read_status(notes)
    assert doc == {"state": "running", "started": {"epochs": 10}} and len(notes) == 4

"""Layer statistics on a time schedule: a headless run writes layers.jsonl; the watch-side reader
gives back exactly what the trainer measured at the same step (‖∇W‖ included), the file stays
bounded, and the layer table shows the same cells for both."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from dltui.core import Trainer, load_preset
from dltui.core import events as ev
from dltui.core.runs.store.layerlog import FILENAME, LayerLog, LayerLogReader, read_layer_stats
from dltui.tui.cli import main


def _ticks(step: float = 1.0):
    c = itertools.count()
    return lambda: next(c) * step


def _run(tmp_path, every=2.0, max_bytes=1 << 20, epochs=3, preset="spiral", backend="numpy"):
    t = Trainer(load_preset(preset, {"training.epochs": epochs, "training.backend": backend}), out_dir=tmp_path)
    seen = []
    log = LayerLog(t, tmp_path, every=every, max_bytes=max_bytes, clock=_ticks())
    t.fit(callbacks=[log, lambda e: seen.append(e) if isinstance(e, ev.LayerStatsReady) else None])
    return t, log, seen


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_reader_gives_what_the_trainer_measured(tmp_path, backend):
    if backend == "torch":
        pytest.importorskip("torch")
    t, log, seen = _run(tmp_path, backend=backend)
    got = read_layer_stats(tmp_path)
    assert len(seen) >= 3 and log.records == len(seen)
    assert [e.step for e in got] == [e.step for e in seen]
    for mine, theirs in zip(got, seen):
        assert mine == theirs  # every figure, histograms included
        assert [s.g_norm for s in mine.layers] == [s.g_norm for s in theirs.layers]
        assert all(s.g_norm > 0 and s.update_ratio is not None for s in mine.layers)
    steps = [e.step for e in got[:-1]]  # the scheduled records (the last one is the end of the run's)
    assert steps == sorted(steps) and np.all(np.diff(steps) == np.diff(steps)[0])  # one per 2 ticks
    assert got[-1].step == t.step >= steps[-1]


def test_layer_table_shows_the_same_cells(tmp_path):
    pytest.importorskip("textual")
    from dltui.tui.widgets.layer_table import cells

    _, _, seen = _run(tmp_path, epochs=1)
    got = read_layer_stats(tmp_path)[-1]
    for a, b in zip(got.layers, seen[-1].layers):
        assert {k: str(v) for k, v in cells(a).items()} == {k: str(v) for k, v in cells(b).items()}
        assert str(cells(a)["g_norm"]) not in ("", "–")


def test_file_stays_bounded_and_keeps_the_whole_span(tmp_path):
    _, log, seen = _run(tmp_path, every=0.0, max_bytes=20_000, epochs=10)
    size = (tmp_path / FILENAME).stat().st_size
    got = read_layer_stats(tmp_path)
    assert log.records == len(seen) > len(got) and size <= 20_000
    assert got[0].step == seen[0].step and got[-1].step == seen[-1].step  # thinned, not cut


def test_reader_follows_growth_and_rewrites(tmp_path):
    t = Trainer(load_preset("xor", {"training.epochs": 1}))
    log = LayerLog(t, tmp_path, max_bytes=6000)
    log(ev.RunStarted("xor", "", "numpy", "cpu", "classification", 1, 0, 2, 2, (2, 4, 2), ("relu",), 1, 1, 1,
                      1, 0))
    reader = LayerLogReader(tmp_path)
    stats = tuple(t.backend.layer_stats())
    nan = (stats[0].__class__(**{**stats[0].__dict__, "g_norm": float("nan")}),) + stats[1:]
    log.write(ev.LayerStatsReady(1, 1, nan))
    first = reader.poll()
    assert len(first) == 1 and np.isnan(first[0].layers[0].g_norm)
    log.write(ev.LayerStatsReady(1, 2, stats))
    assert [e.step for e in reader.poll()] == [2] and not reader.reset
    for step in range(3, 40):
        log.write(ev.LayerStatsReady(1, step, stats))
    again = reader.poll()
    assert reader.reset and again[-1].step == 39  # rewritten: read from the start
    assert reader.poll() == []


def test_train_writes_layers_jsonl(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "xor", "--epochs", "5", "--out", str(out), "--quiet"]) == 0
    got = read_layer_stats(out)
    assert got and got[0].step == 2 and len(got[0].layers) == 2
    assert main(["train", "xor", "--epochs", "5", "--out", str(out), "--overwrite", "--quiet",
                 "--layers-every", "0"]) == 0
    assert not (out / FILENAME).exists()


def test_negative_layers_every_is_a_usage_error(tmp_path, capsys):
    assert main(["train", "xor", "--epochs", "1", "--out", str(tmp_path / "r"), "--layers-every", "-1"]) == 2
    assert "--layers-every" in capsys.readouterr().err


def test_the_last_record_describes_the_weights_the_run_ends_with(tmp_path):
    """A run shorter than the schedule still ends with a record of its final (best) weights, so `watch`
    of a finished run never shows the first batch's numbers."""
    import numpy as np
    from dltui.core import load_preset
    from dltui.core.runs.store.layerlog import LayerLog, read_layer_stats
    from dltui.core.training.trainer import Trainer

    tr = Trainer(load_preset("xor", {"training.epochs": 30}), out_dir=tmp_path)
    tr.fit(callbacks=[LayerLog(tr, tmp_path, every=3600.0)])
    recs = read_layer_stats(tmp_path)
    assert len(recs) == 2 and recs[-1].step == tr.step
    for s, (W, _) in zip(recs[-1].layers, tr.backend.get_params()):
        assert s.w_norm == pytest.approx(float(np.linalg.norm(W)), rel=1e-6)

"""--tensorboard DIR: TensorBoard's own reader reads back the scalars exactly (as the float32
TensorBoard stores), and weight and gradient histograms per layer."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("tensorboardX")
pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")

from dltui.core import Trainer, load_preset  # noqa: E402
from dltui.core.integrations.tensorboard_live import TensorBoardLog  # noqa: E402
from dltui.tui.cli import main  # noqa: E402
from tb_helpers import read_events as _read  # noqa: E402


def test_scalars_read_back_exactly(tmp_path, capsys):
    out, tb = tmp_path / "run", tmp_path / "tb"
    assert main(["train", "xor", "--epochs", "12", "--out", str(out), "--tensorboard", str(tb), "--quiet"]) == 0
    rows = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    acc = _read(tb)
    tags = acc.Tags()["scalars"]
    assert {"Loss/train", "Loss/valid", "Accuracy/train", "Accuracy/valid", "lr"} <= set(tags)
    for tag, key in (("Loss/train", "train_loss"), ("Loss/valid", "val_loss"), ("Accuracy/valid", "val_metric"),
                     ("lr", "lr")):
        got = [(s.step, s.value) for s in acc.Scalars(tag)]
        want = [(r["step"], float(np.float32(r[key]))) for r in rows]
        assert got == want, tag
    hist = acc.Tags()["histograms"]
    assert {"weights/layer1", "weights/layer2", "grads/layer1", "grads/layer2"} <= set(hist)
    w1 = acc.Histograms("weights/layer1")[0]
    assert w1.histogram_value.num == 2 * 8  # xor: 2 inputs -> 8 hidden units


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_histograms_on_the_schedule_and_equal_the_weights(tmp_path, backend):
    if backend == "torch":
        pytest.importorskip("torch")
    t = Trainer(load_preset("xor", {"training.epochs": 3, "training.backend": backend}))
    ticks = iter(range(10**6))
    log = TensorBoardLog(t, tmp_path, every=5, clock=lambda: float(next(ticks)))
    t.fit(callbacks=[log])
    acc = _read(tmp_path)
    steps = [h.step for h in acc.Histograms("grads/layer2")]
    assert len(steps) == log.histograms >= 2 and np.all(np.diff(steps) == 5)
    last = acc.Histograms("weights/layer2")[-1].histogram_value
    assert last.num == t.backend.get_params()[1][0].size
    g = acc.Histograms("grads/layer1")[-1].histogram_value
    assert g.num == 16 and g.sum_squares > 0


def test_numpy_run_with_tensorboard_stays_torch_free(tmp_path):
    code = ("import sys; from dltui.tui.cli import main; "
            f"rc = main(['train', 'xor', '--epochs', '2', '--out', r'{tmp_path / 'r'}', '--tensorboard', "
            f"r'{tmp_path / 'tb'}', '--quiet']); print(rc, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.split()[-2:] == ["0", "False"], out.stderr
    import torch  # noqa: F401 - and hiding it did not break a later import


def test_missing_tensorboardx_is_a_usage_error(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboardX", None)
    rc = main(["train", "xor", "--epochs", "2", "--out", str(tmp_path / "r"), "--tensorboard", str(tmp_path)])
    err = capsys.readouterr().err
    assert rc == 2 and "dltui[tensorboard]" in err and "Traceback" not in err

"""The app's pure parts: the status line, the loss plot's data handling, settings parsing, GPU note,
the picker's grouping and filtering."""

from __future__ import annotations

import pytest

pytest.importorskip("textual")

from dltui.core import events as ev  # noqa: E402
from dltui.core.backends.base import DEVICE_INFO  # noqa: E402
from dltui.core.runs import RunView, gpu_note  # noqa: E402
from dltui.tui.screens.picker import grouped  # noqa: E402
from dltui.tui.widgets.loss_plot import _label, epoch_ticks, loss_title, thin  # noqa: E402
from dltui.tui.widgets.status_line import clock_text, rate_text, status_text  # noqa: E402


def view(**kw) -> RunView:
    base = dict(preset="piecewise-sigmoid", backend="numpy", device="cpu", epochs_total=3000,
                batches_per_epoch=8, epoch=412, batch=3, step=3299, state="running", steps_per_s=1900.0,
                elapsed=7.2, lr=0.03, batch_size=32, n_train=256, pace=30.0)
    return RunView(**{**base, **kw})


def epoch(i: int, best: int, **kw) -> ev.EpochEnded:
    return ev.EpochEnded(epoch=i, step=i * 8, train_loss=1.0 / i, val_loss=kw.get("val", 1.1 / i),
                         train_metric=kw.get("acc"), val_metric=kw.get("val_acc"), best_epoch=best,
                         best_val_loss=1.1 / best, patience_left=kw.get("patience"), lr=0.01, elapsed=1.0,
                         steps_per_second=100.0)


def test_status_line_has_every_part_when_wide_and_drops_the_least_useful_first():
    wide = status_text(view(), width=180).plain
    for part in ("dltui · piecewise-sigmoid · numpy/cpu", "epoch 412/3000", "batch 3/8", "step 3299",
                 "1.9k steps/s", "00:07", "ETA ", "RUNNING", "lr 0.03", "bs 32", "pace 30/s"):
        assert part in wide
    # ETA: (3000*8 - 3299) steps at 1900/s
    assert f"ETA {clock_text((3000 * 8 - 3299) / 1900)}" in wide
    narrow = status_text(view(), width=80).plain
    assert len(narrow) <= 80 and "epoch 412/3000" in narrow and "RUNNING" in narrow
    assert "lr 0.03" in narrow and "bs 32" in narrow and "pace 30/s" in narrow  # never dropped
    assert "dltui · " not in narrow  # the first part to go
    tiny = status_text(view(), width=40).plain
    assert len(tiny) <= 40


def test_status_line_frozen_clock_and_gpu_note():
    frozen = status_text(view(), frozen=True, width=180).plain
    assert "– steps/s · --:-- · ETA --:--" in frozen and "1.9k" not in frozen
    on_gpu = view(backend="torch", device="cuda:0", device_note="NVIDIA H100 · 1.2/79 GB")
    gpu = status_text(on_gpu, width=200)
    assert "torch/cuda:0 (NVIDIA H100 · 1.2/79 GB)" in gpu.plain


def test_clock_and_rate_text():
    assert clock_text(None) == "--:--" and clock_text(65) == "01:05" and clock_text(3725) == "1:02:05"
    assert rate_text(1900) == "1.9k" and rate_text(25000) == "25k" and rate_text(7.25) == "7.2"


def test_gpu_note_from_device_info():
    class FakeGPU:
        capabilities = frozenset({DEVICE_INFO})

        def device_info(self):
            return {"name": "NVIDIA H100", "mem_reserved": 3 * 2**30, "mem_total": 80 * 2**30}

    class Broken(FakeGPU):
        def device_info(self):
            raise RuntimeError("NVML gone")

    class NoDeviceInfo:  # declares no device info: never asked (a backend's capabilities, not probed)
        capabilities = frozenset()

        def device_info(self):
            raise AssertionError("asked a backend that declares no device info")

    assert gpu_note(FakeGPU()) == "NVIDIA H100 · 3.0/80 GB"
    assert gpu_note(Broken()) == "" and gpu_note(NoDeviceInfo()) == ""


def test_loss_plot_thinning_keeps_first_last_and_best():
    h = [epoch(i, best=777) for i in range(1, 3001)]
    t = thin(h, 200)
    assert len(t) <= 203 and t[0].epoch == 1 and t[-1].epoch == 3000 and any(e.epoch == 777 for e in t)
    assert [e.epoch for e in t] == sorted(e.epoch for e in t)
    assert thin(h[:50], 200) == h[:50]


def test_epoch_ticks_are_whole_round_numbers():
    assert epoch_ticks(2) == [1, 2]
    assert epoch_ticks(600) == [1, 200, 400, 600]
    assert all(isinstance(t, int) for t in epoch_ticks(3000))


def test_y_tick_labels_read_as_losses():
    import math

    assert _label(math.log10(100.0), True) == "100" and _label(math.log10(0.0087), True) == "0.0087"
    assert _label(2.5, False) == "2.5" and _label(123456.0, False) == "1.2e+05"


def test_loss_title_best_patience_and_accuracy():
    assert loss_title([], "regression", 0) == "loss · no epoch yet"
    t = loss_title([epoch(1, 1), epoch(2, 2, patience=150)], "regression", 150)
    assert "best 0.55 @ 2" in t and "patience 150/150" in t
    c = loss_title([epoch(1, 1, acc=0.9, val_acc=0.875)], "classification", 0)
    assert "val acc 87.5% @ 1" in c  # which epoch's accuracy it is


def test_typed_settings_are_checked_as_the_cli_checks_them():
    """The editor (which replaced the settings form) validates typed values through core/spec."""
    from dltui.core.config.spec import load_preset
    from dltui.tui.screens.preset_edit import PresetEdit

    e = PresetEdit(load_preset("xor"))
    labels = [r.label for r in e.rows()]
    for label, text, ok in (("learning rate", "3e-4", True), ("learning rate", "-1", False),
                            ("batch size", "64", True), ("batch size", "1.5", False), ("epochs", "0", False)):
        e.cursor = labels.index(label)
        assert e.set_text(text) is ok, (label, text, e.error)
        assert bool(e.error) is not ok
    assert e.spec().values["optimizer"]["lr"] == 3e-4 and e.spec().values["training"]["batch_size"] == 64


def test_picker_groups_and_filter():
    entries = [{"name": "b", "path": "b", "topic": "lecture", "order": 2, "title": "Beta curve"},
               {"name": "a", "path": "a", "topic": "lecture", "order": 1, "title": "Alpha"},
               {"name": "x", "path": "x", "topic": "playground", "order": 1, "title": "XOR blobs"},
               {"name": "mine", "path": "m.toml", "topic": "yours", "order": 0, "title": "my own"}]
    groups = grouped(entries)
    assert [t for t, _ in groups] == ["From the lecture", "TensorFlow Playground data sets",
                                      "Your presets (this folder, --preset)"]
    assert [e["name"] for e in groups[0][1]] == ["a", "b"]
    assert [e["name"] for _, g in grouped(entries, "curve") for e in g] == ["b"]
    assert [e["name"] for _, g in grouped(entries, "playground xor") for e in g] == ["x"]
    assert grouped(entries, "nothing-like-this") == []

"""Pace: the trainer sleeps between steps at a chosen rate; max is unpaced; controls wake a paced loop;
presets set a default; headless runs are unpaced unless --pace."""

from __future__ import annotations

import threading
import time

import pytest
from dltui.core import Trainer, load_preset
from dltui.core.errors import SpecError
from dltui.core.training.pacing import PACE_LEVELS, Pacer, auto_pace, next_level, pace_text, parse_pace, preset_pace
from dltui.tui.cli import main


def test_levels_text_and_parsing():
    assert next_level(0.0, 1) == 0.0 and next_level(0.0, -1) == PACE_LEVELS[-1]
    assert next_level(30.0, 1) == 100.0 and next_level(30.0, -1) == 10.0
    assert next_level(1.0, -1) == 1.0 and next_level(PACE_LEVELS[-1], 1) == 0.0
    assert next_level(45.0, 1) == 100.0 and next_level(45.0, -1) == 30.0  # an auto pace between levels
    assert [pace_text(r) for r in (0, 1, 30, 2.5, 1000, 2500, 10000)] == \
        ["max", "1/s", "30/s", "2.5/s", "1k/s", "2.5k/s", "10k/s"]
    assert parse_pace("max") == 0 and parse_pace("30") == 30 and parse_pace(2.5) == 2.5
    for bad in ("fast", -1, float("nan")):
        with pytest.raises(ValueError):
            parse_pace(bad)


def test_auto_pace_makes_a_lesson_take_about_20_seconds_and_a_csv_max():
    spec = load_preset("piecewise-sigmoid")
    bpe = Trainer(spec).batches_per_epoch
    total = spec.values["training"]["epochs"] * bpe
    pace = preset_pace(spec.values, bpe)
    assert 10 <= total / pace <= 30
    assert auto_pace(35) == pytest.approx(1.8)
    csv = {"training": {"pace": "auto", "epochs": 3000}, "data": {"kind": "csv"}}
    assert preset_pace(csv, 10) == 0.0
    assert preset_pace({"training": {"pace": 42.0}, "data": {"kind": "sin"}}, 5) == 42.0
    assert preset_pace({"training": {"pace": "max"}, "data": {"kind": "sin"}}, 5) == 0.0
    long = {"training": {"pace": "auto", "epochs": 1_000_000}, "data": {"kind": "sin"}}
    assert preset_pace(long, 7) == 0.0  # 350k updates/s is above the fastest level: max


def test_pace_in_presets_and_overrides_with_clear_errors():
    assert load_preset("xor").values["training"]["pace"] == "auto"
    assert load_preset("xor", {"training.pace": "max"}).values["training"]["pace"] == "max"
    assert load_preset("xor", {"training.pace": 30}).values["training"]["pace"] == 30.0
    with pytest.raises(SpecError, match=r"\[training\] pace = 'fast' is not allowed.*'max' or a number"):
        load_preset("xor", {"training.pace": "fast"})


def test_pacer_schedule_sleeps_the_interval_and_does_not_burst_after_a_stall():
    now = [0.0]
    p = Pacer(10.0, clock=lambda: now[0])
    assert p.delay() == pytest.approx(0.1)
    now[0] = 0.1
    assert p.delay() == pytest.approx(0.1)
    now[0] = 5.0  # a long stall (a pause): start a fresh schedule, do not run 50 steps at once
    assert p.delay() == pytest.approx(0.1)
    p.set(0.0)
    assert p.delay() == 0.0


def test_a_paced_trainer_takes_its_time_and_max_is_unpaced():
    spec = load_preset("xor", {"training.epochs": 1, "training.batch_size": 0})  # 1 step per epoch
    spec = spec.with_overrides({"training.epochs": 6})
    t0 = time.perf_counter()
    res = Trainer(spec, pace=20.0).fit()
    paced = time.perf_counter() - t0
    assert res.steps == 6 and paced >= 5 / 20 * 0.9  # 6 steps at 20/s: at least 5 intervals
    assert Trainer(spec).pace == 0.0 and Trainer(spec).yield_every == 0  # headless library use: unpaced


def test_controls_wake_a_slow_paced_loop_at_once():
    spec = load_preset("xor", {"training.epochs": 100, "training.batch_size": 0})
    tr = Trainer(spec, pace=0.001)  # one step every 1000 s: only a woken loop ends within the deadline
    th = threading.Thread(target=tr.fit, daemon=True)
    th.start()
    deadline = time.monotonic() + 60
    while tr.step < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    tr.set_pace(0.0)  # to max: the rest runs at once
    th.join(timeout=60)
    assert not th.is_alive() and tr.step == 100
    tr2 = Trainer(spec, pace=0.001)
    th2 = threading.Thread(target=tr2.fit, daemon=True)
    th2.start()
    deadline = time.monotonic() + 60
    while tr2.step < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    tr2.stop()
    th2.join(timeout=60)
    assert not th2.is_alive() and 1 <= tr2.step < 3


def test_step_by_hand_and_epoch_are_not_held_back_by_a_slow_pace():
    spec = load_preset("xor", {"training.epochs": 3})
    tr = Trainer(spec, pace=0.1, start_paused=True)  # 10 s an update if running freely
    th = threading.Thread(target=tr.fit, daemon=True)
    th.start()
    assert tr.step_batch(3).result(timeout=5) == 3
    tr.step_epoch()
    deadline = time.monotonic() + 5
    while len(tr.history) < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(tr.history) == 1
    tr.stop()
    th.join(timeout=5)


def test_train_pace_option(tmp_path, capsys):
    assert main(["train", "xor", "--epochs", "2", "--pace", "fast", "--out", str(tmp_path / "a")]) == 2
    assert "pace" in capsys.readouterr().err
    assert main(["train", "xor", "--epochs", "2", "--pace", "max", "--quiet", "--out", str(tmp_path / "b")]) == 0

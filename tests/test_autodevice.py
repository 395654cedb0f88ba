"""--backend auto / --device auto: the fastest option by measurement (a fake timing source here;
the real probe runs in `dltui bench` and benchmarks/gpu_check.sh), cached, with a reason."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from dltui.core import load_preset
from dltui.core.backends import autodevice as ad
from dltui.tui.cli import main


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("DLTUI_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def fake_timer(speeds: dict[str, float], calls: list | None = None):
    def timer(opt):
        if calls is not None:
            calls.append(opt.label)
        v = speeds[opt.label]
        if isinstance(v, Exception):
            raise v
        return v
    return timer


def _gpu_box(monkeypatch):
    monkeypatch.setattr(ad, "_cuda_devices", lambda: ["cuda:0", "cuda:1"])
    return {"torch_ok": True, "cuda": True}


# HW1's recipe on a GPU box: 18 ms/epoch on the CPU, 30 ms on the H200 (issue 15): the CPU wins
TINY = {"numpy cpu": 5200.0, "torch cpu": 1500.0, "torch cuda:0": 3100.0, "torch cuda:0 graph": 4800.0}
# a wide net and a big batch: the GPU wins, the graph most
WIDE = {"numpy cpu": 40.0, "torch cpu": 45.0, "torch cuda:0": 2100.0, "torch cuda:0 graph": 2900.0}


def test_cpu_wins_on_a_tiny_net(monkeypatch):
    present = _gpu_box(monkeypatch)
    spec = load_preset("xor")
    c = ad.choose(spec, 2, 2, timer=fake_timer(TINY), **present)
    assert c.option == ad.Option("numpy", "cpu")
    assert [r[0] for r in c.table] == list(TINY)
    assert c.reason.startswith("numpy cpu: 5,200 steps/s, 1.08x the next best (torch cuda:0 graph")


def test_gpu_wins_on_a_wide_net(monkeypatch):
    present = _gpu_box(monkeypatch)
    spec = load_preset("xor", {"model.hidden": [2048, 2048], "training.batch_size": 4096})
    c = ad.choose(spec, 2, 2, timer=fake_timer(WIDE), **present)
    assert c.option == ad.Option("torch", "cuda:0", graph=True)
    ad.apply(spec, c)
    t = spec.values["training"]
    assert (t["backend"], t["device"], t["graph"]) == ("torch", "cuda:0", True)
    assert "torch cuda:0 graph: 2,900 steps/s, 1.38x the next best (torch cuda:0" in c.reason


def test_device_limits_the_options(monkeypatch):
    present = _gpu_box(monkeypatch)
    opts, _ = ad.candidates("cuda:1", **present)
    assert [o.label for o in opts] == ["torch cuda:1", "torch cuda:1 graph"]
    opts, _ = ad.candidates("cpu", **present)
    assert [o.label for o in opts] == ["numpy cpu", "torch cpu"]
    assert [o.label for o in ad.candidates("mps", **present)[0]] == ["torch mps"]
    assert ad.candidates("cuda", torch_ok=True, cuda=False)[0] == []


def test_a_failing_option_loses_and_says_why(monkeypatch):
    present = _gpu_box(monkeypatch)
    speeds = {**WIDE, "torch cuda:0 graph": RuntimeError("CUDA graph capture failed\nmore")}
    c = ad.choose(load_preset("xor"), 2, 2, timer=fake_timer(speeds), **present)
    assert c.option == ad.Option("torch", "cuda:0")
    assert ("torch cuda:0 graph", None, "RuntimeError: CUDA graph capture failed") in c.table
    assert "<- winner" in ad.format_table(c).splitlines()[3]


def test_result_is_cached_per_shape(monkeypatch, cache_dir):
    present = _gpu_box(monkeypatch)
    calls: list = []
    spec = load_preset("xor")
    first = ad.choose(spec, 2, 2, timer=fake_timer(TINY, calls), **present)
    again = ad.choose(spec, 2, 2, timer=fake_timer(WIDE, calls), **present)
    assert len(calls) == 4 and again.cached and again.option == first.option and "cached" in again.reason
    other = load_preset("xor", {"training.batch_size": 64})
    assert ad.choose(other, 2, 2, timer=fake_timer(WIDE, calls), **present).option.graph
    assert len(calls) == 8 and len(json.loads((cache_dir / "probe.json").read_text())) == 2
    fresh = ad.choose(spec, 2, 2, timer=fake_timer(WIDE, calls), refresh=True, **present)  # what bench does
    assert len(calls) == 12 and not fresh.cached and fresh.option.graph
    assert ad.choose(spec, 2, 2, timer=fake_timer(TINY, calls), **present).option.graph  # the new result is kept


def test_no_cuda_picks_numpy_without_starting_torch():
    code = ("import sys; from dltui.core import load_preset; from dltui.core.backends import autodevice as ad; "
            "c = ad.choose(load_preset('spiral'), 2, 2, cuda=False, torch_ok=True); "
            "print(c.option.label, '|', 'torch' in sys.modules, '|', c.reason)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    label, torch_loaded, reason = out.stdout.strip().split(" | ")
    assert (label, torch_loaded) == ("numpy cpu", "False") and "not measured" in reason and "CUDA" in reason


def test_real_probe_on_this_cpu_measures_both():
    pytest.importorskip("torch")
    c = ad.choose(load_preset("xor"), 2, 2, device="cpu", use_cache=False, seconds=0.05, torch_asked=True,
                  cuda=False)
    assert [r[0] for r in c.table] == ["numpy cpu", "torch cpu"] and all(r[1] > 0 for r in c.table)


def test_train_backend_auto_records_the_choice(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "xor", "--epochs", "2", "--backend", "auto", "--out", str(out), "--quiet"]) == 0
    err = capsys.readouterr().err
    assert err.startswith("auto: ")
    text = (out / "preset.toml").read_text()
    assert 'backend = "auto"' not in text and ('backend = "numpy"' in text or 'backend = "torch"' in text)


def test_bench_prints_the_table(capsys):
    pytest.importorskip("torch")
    assert main(["bench", "xor", "--seconds", "0.05"]) == 0
    out = capsys.readouterr().out
    assert "numpy cpu" in out and "torch cpu" in out and "winner: " in out and out.count("<- winner") == 1


def test_bench_of_one_backend_measures_it(capsys):
    assert main(["bench", "xor", "--backend", "numpy", "--seconds", "0.05"]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("numpy cpu"))
    assert "not measured" not in out and float(row.split()[2].replace(",", "")) > 0


def test_bench_bad_seconds_is_a_usage_error(capsys):
    assert main(["bench", "xor", "--seconds", "0"]) == 2
    assert "--seconds" in capsys.readouterr().err


def test_device_auto_alone_means_measure():
    from dltui.tui.cli import build_parser, spec_from_args

    p = build_parser()
    assert spec_from_args(p.parse_args(["train", "xor", "--device", "auto"])).values["training"]["backend"] == "auto"
    both = spec_from_args(p.parse_args(["train", "xor", "--backend", "torch", "--device", "auto"]))
    assert both.values["training"]["backend"] == "torch"  # an explicit backend keeps today's meaning
    assert spec_from_args(p.parse_args(["train", "xor"])).values["training"]["backend"] == "numpy"


def test_train_backend_auto_without_cuda_never_starts_torch(tmp_path):
    if ad.cuda_present():
        pytest.skip("a CUDA GPU is here: the probe rightly starts torch")
    code = ("import sys; from dltui.tui.cli import main; "
            f"rc = main(['train', 'xor', '--epochs', '2', '--backend', 'auto', '--out', r'{tmp_path}', '--quiet']); "
            "print(rc, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**__import__("os").environ, "DLTUI_CACHE_DIR": str(tmp_path / "cache")})
    assert out.stdout.split()[-2:] == ["0", "False"], out.stderr
    assert "auto: numpy cpu (not measured): no CUDA GPU here" in out.stderr


def test_the_step_through_takes_an_auto_backend_too(capsys):
    """`trace` builds its backend as the trainer does: `auto` is chosen, never an unknown backend."""
    assert main(["trace", "xor", "--set", "training.backend=auto"]) == 0
    assert "trace · numpy" in capsys.readouterr().out

"""The system panel's sampler: with a fake NVML the numbers equal what NVML returned; with the
real psutil the host figures are real; without NVML it says 'no GPU' and still shows the host."""

from __future__ import annotations

import os
import sys
import time

import pytest
from dltui.core.integrations import sysinfo

from tests.fake_nvml import A100, H200, FakeNVML

try:
    import psutil
except ImportError:  # the GPU box may lack it: the /proc fallback is still tested
    psutil = None
needs_psutil = pytest.mark.skipif(psutil is None, reason="psutil is not installed")


def test_numbers_equal_what_nvml_returned():
    s = sysinfo.Sampler(nvml=FakeNVML([H200, A100]))
    s.sample_once()
    gpus, host = s.latest()
    assert [g.name for g in gpus] == ["NVIDIA H200", "NVIDIA A100-SXM4-40GB"]
    g = gpus[0]
    assert (g.util, g.mem_used, g.mem_total, g.temp) == (37.0, 12 * 2**30, 141 * 2**30, 41.0)
    assert g.power == pytest.approx(123.456) and g.power_limit == pytest.approx(700.0)
    assert g.processes == [(4242, 3 * 2**30, sysinfo.process_name(4242))]
    assert gpus[1].power is None and gpus[1].processes == []  # "Not Supported" hides one figure only
    line = sysinfo.gpu_line(g)
    assert "37%" in line and "12.0/141.0 GiB" in line and "41°C" in line and "123/700 W" in line


def test_histories_follow_the_samples():
    fake = FakeNVML([dict(H200)])
    s = sysinfo.Sampler(nvml=fake, history=3)
    for util in (10, 20, 30, 40):
        fake.gpus[0]["util"] = util
        s.sample_once()
    assert s.history(0, "util") == [20.0, 30.0, 40.0]
    assert s.history(0, "temp") == [41.0] * 3
    assert len(s.cpu_history()) == 3


def test_no_driver_degrades_to_no_gpu():
    s = sysinfo.Sampler(nvml=FakeNVML([H200], fail_init=True))
    s.sample_once()
    assert s.nvml is None and "no GPU" in s.why_no_gpu and "Driver Not Loaded" in s.why_no_gpu
    s.sample_once()
    gpus, host = s.latest()
    assert gpus == [] and host.ram_total > 0


@needs_psutil
def test_host_from_real_psutil():
    h = sysinfo.read_host()
    vm = psutil.virtual_memory()
    assert h.ram_total == vm.total and h.n_cpus == os.cpu_count()
    assert 0 < h.ram_used <= h.ram_total and 0.0 <= h.cpu <= 100.0


def test_host_without_psutil_reads_proc(monkeypatch):
    total = psutil.virtual_memory().total if psutil else sysinfo.read_host().ram_total
    monkeypatch.setitem(sys.modules, "psutil", None)
    h = sysinfo.read_host()
    assert h.cpu is None and h.ram_total == total and 0 < h.ram_used <= total


def test_background_thread_samples_and_stops():
    fake = FakeNVML([H200])
    s = sysinfo.Sampler(interval=0.02, nvml=fake).start()
    deadline = time.monotonic() + 5
    while len(s.history(0, "util")) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    s.close()
    assert len(s.history(0, "util")) >= 3 and fake.shutdowns == 1
    assert not any(t.name == "dltui-sysinfo" for t in __import__("threading").enumerate())


def test_without_nvidia_ml_py_the_panel_says_how_to_get_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", None)
    s = sysinfo.Sampler()
    assert sysinfo.panel_lines(s) == ["sampling ..."]
    s.sample_once()
    assert s.nvml is None and 'pip install "dltui[gpu]"' in s.why_no_gpu
    lines = sysinfo.panel_lines(s, width=10)
    assert lines[0] == s.why_no_gpu and lines[1].startswith("host · CPU")


def test_sparkline_scales_and_marks_gaps():
    assert sysinfo.sparkline([0, 50, 100, None], 0, 100) == "▁▅█ "
    assert sysinfo.sparkline(list(range(100)), 0, 99, width=4) == "████"
    assert sysinfo.sparkline([], 0, 100) == ""

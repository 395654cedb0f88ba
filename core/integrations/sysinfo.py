"""The system panel's numbers: per GPU (NVML) utilisation, memory, temperature, power and the
processes on it; the host's CPU and RAM (psutil, else /proc). Sampled on a background thread
(``Sampler``), never on the training thread; short histories per GPU for sparklines.

NVML comes from the optional ``nvidia-ml-py`` package (``import pynvml``, the ``[gpu]`` extra).
Without it, or without a driver, the panel says why and shows the host only. Tests pass a fake
module with the same function names as ``nvml=``.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

HISTORY = 60  # samples kept per series (a minute at the default 1 s interval)


@dataclass
class GpuSample:
    index: int
    name: str
    util: float | None = None  # %
    mem_used: int | None = None  # bytes
    mem_total: int | None = None
    temp: float | None = None  # °C
    power: float | None = None  # W
    power_limit: float | None = None  # W
    processes: list[tuple[int, int | None, str]] = field(default_factory=list)  # (pid, bytes, name)


@dataclass
class HostSample:
    cpu: float | None  # % of all cores
    n_cpus: int
    ram_used: int | None
    ram_total: int | None


def _text(x) -> str:
    return x.decode(errors="replace") if isinstance(x, bytes) else str(x)


def _try(fn, *args, default=None):
    try:
        return fn(*args)
    except Exception:  # noqa: BLE001 - one missing figure (no power sensor, ...) must not hide the rest
        return default


def load_nvml(nvml=None) -> tuple[Any | None, str]:
    """(module, '') with NVML initialised, or (None, why not)."""
    if nvml is None:
        try:
            import pynvml as nvml
        except ImportError:
            return None, 'no GPU panel: nvidia-ml-py is not installed (pip install "dltui[gpu]")'
    try:
        nvml.nvmlInit()
    except Exception as e:  # noqa: BLE001 - no driver: no GPU
        return None, f"no GPU: NVML could not start ({_text(e).splitlines()[0] if str(e) else type(e).__name__})"
    return nvml, ""


def _processes(nvml, h) -> list[tuple[int, int | None, str]]:
    procs = _try(nvml.nvmlDeviceGetComputeRunningProcesses, h, default=[]) or []
    out = []
    for p in procs:
        pid = int(getattr(p, "pid", 0))
        mem = getattr(p, "usedGpuMemory", None)
        out.append((pid, int(mem) if isinstance(mem, int) else None, process_name(pid)))
    return out


def process_name(pid: int) -> str:
    """The command name of a pid (NVML pids may belong to another container: then '?')."""
    try:
        with open(f"/proc/{pid}/comm", encoding="utf-8") as fh:
            return fh.read().strip()
    except OSError:
        return "?"


def read_gpus(nvml) -> list[GpuSample]:
    """One sample per GPU NVML sees. Each missing figure stays None."""
    out = []
    for i in range(_try(nvml.nvmlDeviceGetCount, default=0) or 0):
        h = _try(nvml.nvmlDeviceGetHandleByIndex, i)
        if h is None:
            continue
        s = GpuSample(index=i, name=_text(_try(nvml.nvmlDeviceGetName, h, default=f"GPU {i}")))
        util = _try(nvml.nvmlDeviceGetUtilizationRates, h)
        s.util = None if util is None else float(util.gpu)
        mem = _try(nvml.nvmlDeviceGetMemoryInfo, h)
        if mem is not None:
            s.mem_used, s.mem_total = int(mem.used), int(mem.total)
        temp = _try(nvml.nvmlDeviceGetTemperature, h, getattr(nvml, "NVML_TEMPERATURE_GPU", 0))
        s.temp = None if temp is None else float(temp)
        mw = _try(nvml.nvmlDeviceGetPowerUsage, h)  # milliwatts
        s.power = None if mw is None else mw / 1000.0
        lim = _try(nvml.nvmlDeviceGetEnforcedPowerLimit, h)
        s.power_limit = None if lim is None else lim / 1000.0
        s.processes = _processes(nvml, h)
        out.append(s)
    return out


def read_host(psutil_mod=None) -> HostSample:
    """CPU (% since the last call) and RAM, via psutil, else /proc/meminfo (then CPU is None)."""
    try:
        ps = psutil_mod or __import__("psutil")
    except ImportError:
        ps = None
    n = os.cpu_count() or 1
    if ps is not None:
        vm = ps.virtual_memory()
        return HostSample(float(ps.cpu_percent(interval=None)), n, int(vm.total - vm.available), int(vm.total))
    mem = {}
    try:
        with open("/proc/meminfo", encoding="utf-8") as fh:
            for line in fh:
                k, v = line.split(":", 1)
                mem[k] = int(v.split()[0]) * 1024
    except (OSError, ValueError):
        return HostSample(None, n, None, None)
    total, avail = mem.get("MemTotal"), mem.get("MemAvailable")
    return HostSample(None, n, total - avail if total and avail else None, total)


SERIES = ("util", "mem_used", "temp", "power")


class Sampler:
    """Samples GPUs and host every ``interval`` seconds on its own daemon thread; the UI reads
    ``latest()`` and ``history(gpu, series)`` (thread-safe snapshots). ``sample_once()`` is the
    same work without the thread (for `dltui top --once` and tests)."""

    def __init__(self, interval: float = 1.0, nvml=None, psutil_mod=None, history: int = HISTORY):
        self.interval = interval
        self._nvml_arg = nvml
        self._started_nvml = False  # NVML starts on the first sample (can take a second: off the UI thread)
        self.nvml, self.why_no_gpu = None, ""
        self._psutil = psutil_mod
        self._lock = threading.Lock()
        self._hist: dict[tuple[int, str], deque] = {}
        self._cpu_hist: deque = deque(maxlen=history)
        self._n = history
        self.gpus: list[GpuSample] = []
        self.host: HostSample | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sample_once(self) -> None:
        if not self._started_nvml:
            self._started_nvml = True
            self.nvml, self.why_no_gpu = load_nvml(self._nvml_arg)
        gpus = read_gpus(self.nvml) if self.nvml is not None else []
        host = read_host(self._psutil)
        with self._lock:
            self.gpus, self.host = gpus, host
            for g in gpus:
                for name in SERIES:
                    self._hist.setdefault((g.index, name), deque(maxlen=self._n)).append(getattr(g, name))
            self._cpu_hist.append(host.cpu)

    def latest(self) -> tuple[list[GpuSample], HostSample | None]:
        with self._lock:
            return list(self.gpus), self.host

    def history(self, gpu: int, series: str) -> list[float | None]:
        with self._lock:
            return list(self._hist.get((gpu, series), ()))

    def cpu_history(self) -> list[float | None]:
        with self._lock:
            return list(self._cpu_hist)

    def start(self) -> Sampler:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="dltui-sysinfo", daemon=True)
            self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.is_set():
            t0 = time.monotonic()
            try:
                self.sample_once()
            except Exception:  # noqa: BLE001 - the panel keeps its last figures
                pass
            self._stop.wait(max(0.0, self.interval - (time.monotonic() - t0)))

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None
        if self.nvml is not None:
            _try(self.nvml.nvmlShutdown)
            self.nvml = None


def fmt_gib(n: int | None) -> str:
    return "?" if n is None else f"{n / 2**30:.1f}"


def gpu_line(g: GpuSample) -> str:
    """'0 NVIDIA H200 · 37% · 12.0/139.8 GiB · 41°C · 120/700 W · 2 procs'."""
    parts = [f"{g.index} {g.name}"]
    parts.append("util ?" if g.util is None else f"{g.util:.0f}%")
    parts.append(f"{fmt_gib(g.mem_used)}/{fmt_gib(g.mem_total)} GiB")
    if g.temp is not None:
        parts.append(f"{g.temp:.0f}°C")
    if g.power is not None:
        parts.append(f"{g.power:.0f}" + (f"/{g.power_limit:.0f}" if g.power_limit else "") + " W")
    parts.append(f"{len(g.processes)} procs")
    return " · ".join(parts)


def host_line(h: HostSample) -> str:
    cpu = "?" if h.cpu is None else f"{h.cpu:.0f}%"
    return f"host · CPU {cpu} of {h.n_cpus} cores · RAM {fmt_gib(h.ram_used)}/{fmt_gib(h.ram_total)} GiB"


BARS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float | None], lo: float = 0.0, hi: float | None = None, width: int = 30) -> str:
    """The last ``width`` values as block characters between lo and hi (max of the values if None);
    a missing value is a space."""
    vals = values[-width:]
    known = [v for v in vals if v is not None]
    top = hi if hi is not None else (max(known) if known else 1.0)
    span = max(top - lo, 1e-12)
    out = []
    for v in vals:
        if v is None:
            out.append(" ")
        else:
            out.append(BARS[min(len(BARS) - 1, max(0, int((v - lo) / span * (len(BARS) - 1) + 0.5)))])
    return "".join(out)


def panel_lines(s: Sampler, width: int = 30) -> list[str]:
    """The whole panel as plain lines (the screen and `dltui top --once` both show these)."""
    gpus, host = s.latest()
    if host is None:
        return ["sampling ..."]
    lines = []
    if not gpus:
        lines.append(s.why_no_gpu or "no GPU: NVML sees none")
    for g in gpus:
        lines.append(gpu_line(g))
        lines.append(f"  util  {sparkline(s.history(g.index, 'util'), 0, 100, width)}")
        lines.append(f"  mem   {sparkline(s.history(g.index, 'mem_used'), 0, g.mem_total, width)}")
        lines.append(f"  temp  {sparkline(s.history(g.index, 'temp'), 20, 95, width)}")
        if g.power is not None:
            lines.append(f"  power {sparkline(s.history(g.index, 'power'), 0, g.power_limit, width)}")
        for pid, mem, name in g.processes:
            lines.append(f"  pid {pid:<8} {name:<16} {fmt_gib(mem)} GiB")
    if host is not None:
        lines.append(host_line(host))
        lines.append(f"  cpu   {sparkline(s.cpu_history(), 0, 100, width)}")
    return lines

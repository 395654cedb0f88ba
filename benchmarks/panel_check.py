"""The system panel on a real machine: its NVML figures against nvidia-smi's, and the cost of
sampling on a background thread to a training run on the main thread.

    python benchmarks/panel_check.py     # exits 1 when a figure disagrees with nvidia-smi

Without nvidia-ml-py or a GPU it says so and checks the host figures and the cost only.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time

import dltui.tui.cli  # noqa: F401 - one BLAS thread, as dltui runs
from dltui.core import Trainer, load_preset
from dltui.core.integrations.sysinfo import Sampler, panel_lines

MIB = 2**20


def smi() -> list[dict]:
    if not shutil.which("nvidia-smi"):
        return []
    q = "name,memory.total,memory.used,temperature.gpu,power.limit"
    out = subprocess.run(["nvidia-smi", f"--query-gpu={q}", "--format=csv,noheader,nounits"], capture_output=True,
                         text=True, timeout=20).stdout
    rows = []
    for line in out.strip().splitlines():
        name, total, used, temp, limit = [x.strip() for x in line.split(",")]
        rows.append({"name": name, "total": float(total), "used": float(used), "temp": float(temp),
                     "limit": float(limit) if limit.replace(".", "").isdigit() else None})
    return rows


def compare() -> bool:
    s = Sampler()
    s.sample_once()
    gpus, host = s.latest()
    print("\n".join(panel_lines(s)))
    ref = smi()
    if s.nvml is None:
        print(f"SKIP NVML comparison: {s.why_no_gpu}")
        return True
    ok = len(gpus) == len(ref)
    print(f"GPUs: panel {len(gpus)}, nvidia-smi {len(ref)}")
    for g, r in zip(gpus, ref):
        checks = [("name", g.name == r["name"]), ("memory total", abs(g.mem_total / MIB - r["total"]) <= 1),
                  ("memory used", abs(g.mem_used / MIB - r["used"]) <= 1024),
                  ("temperature", g.temp is not None and abs(g.temp - r["temp"]) <= 3)]
        if r["limit"] is not None and g.power_limit is not None:
            checks.append(("power limit", abs(g.power_limit - r["limit"]) <= 1))
        for what, good in checks:
            print(f"  gpu {g.index} {what}: {'ok' if good else 'DIFFERS'}")
            ok &= good
    s.close()
    return ok


def cost(repeats: int = 5) -> None:
    """Training speed (main thread) with and without a sampler at 10 Hz, alternating; medians."""
    def run(sample: bool) -> float:
        s = Sampler(interval=0.1).start() if sample else None
        t = Trainer(load_preset("spiral", {"training.epochs": 150}))
        res = t.fit()
        if s:
            s.close()
        return res.steps / res.history[-1].elapsed
    bare, sampled = [], []
    for _ in range(repeats):
        bare.append(run(False))
        sampled.append(run(True))
    b, m = statistics.median(bare), statistics.median(sampled)
    print(f"training with a 10 Hz sampler: {m:,.0f} steps/s vs {b:,.0f} without ({m / b:.3f}x, median of {repeats})")


if __name__ == "__main__":
    t0 = time.perf_counter()
    good = compare()
    cost()
    print(f"panel_check: {'ok' if good else 'FIGURES DIFFER'} ({time.perf_counter() - t0:.1f} s)")
    sys.exit(0 if good else 1)

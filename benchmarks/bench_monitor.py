"""The cost of dltui.monitor in a plain PyTorch loop: the same loop with and without it.

Two models, data on the device, the loss kept on the device (no per-step host sync in either loop):
  small  - the HW1 network's shape, 117-16-8-1 ReLU MLP, MSE, Adam, batch 256
  larger - an MNIST-sized MLP, 784-512-512-10 ReLU, cross-entropy, Adam, batch 128

Interleaved in one process, one epoch (16 steps) at a time: each round times a bare epoch, a
monitored epoch and a second bare epoch (the monitored one always in the middle, so a machine
getting busier or quieter hurts both alike), on one model that keeps training. The monitor is the
real one in real use: metrics.jsonl each epoch, status.json, layer stats every ``--every`` seconds
(default 2). Reported per model: the bare step time; the monitor's overhead per step in
microseconds (median and interquartile range of the round differences); the ratio of totals
(all bare time / all monitored time, so the rare stats records count); the median of the rounds'
ratios with its 10-90 % range; and the noise floor, the two bare epochs of a round against each
other (the same figures for A vs A). Then the parts measured alone: one ``mon.step()`` call, one
epoch row, one layer-stats record; and steps alternating one by one with and without ``mon.step()``
(medians), which with the epoch row and the stats' share gives the overhead a step at a resolution
of about a microsecond, far finer than the end-to-end noise on a shared machine.

    python benchmarks/bench_monitor.py                     # CPU, and CUDA when there; 20 s a model
    python benchmarks/bench_monitor.py --device cpu --seconds 60 --every 0.5

Target (issue 15): the monitored loop runs at >= 0.95x the speed of the bare one (ratio of totals).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

try:
    import torch
    from torch import nn
except ImportError:  # pragma: no cover
    print('bench_monitor: torch is not installed (pip install "dltui[torch]").')
    sys.exit(0)

from dltui.core.integrations.monitor import STATS_SHARE, monitor

STEPS = 16  # steps per epoch (one timed chunk)
MODELS = {  # name: (layer sizes, batch, loss)
    "small": ((117, 16, 8, 1), 256, "mse"),
    "larger": ((784, 512, 512, 10), 128, "ce"),
}


def setup(name: str, device: str):
    sizes, batch, loss = MODELS[name]
    torch.manual_seed(0)
    layers: list = []
    for a, b in zip(sizes, sizes[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    model = nn.Sequential(*layers[:-1]).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    n = STEPS * batch
    x = torch.randn(n, sizes[0], device=device)
    if loss == "mse":
        y, fn = torch.randn(n, 1, device=device), nn.functional.mse_loss
    else:
        y, fn = torch.randint(0, sizes[-1], (n,), device=device), nn.functional.cross_entropy
    return model, opt, x, y, fn, batch


def one_epoch(model, opt, x, y, fn, batch, mon=None):
    total = torch.zeros((), device=x.device)
    for s in range(0, len(x), batch):
        opt.zero_grad(set_to_none=True)
        loss = fn(model(x[s:s + batch]), y[s:s + batch])
        loss.backward()
        opt.step()
        total += loss.detach()
        if mon is not None:
            mon.step(loss)
    return total


def q(xs, p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(p * (len(xs) - 1))))]


def interleaved(name: str, device: str, seconds: float, every: float) -> dict:
    model, opt, x, y, fn, batch = setup(name, device)
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    for _ in range(3):  # warm-up: first optimizer steps, kernels, allocator
        one_epoch(model, opt, x, y, fn, batch)
    sync()

    def bare() -> float:
        t0 = time.perf_counter()
        float(one_epoch(model, opt, x, y, fn, batch))  # the bare loop reads its epoch loss too
        sync()
        return time.perf_counter() - t0

    a, m, b = [], [], []
    with tempfile.TemporaryDirectory() as d, monitor(model, d, epochs=10**6, lr=1e-3, every=every) as mon:
        t_end = time.perf_counter() + seconds
        while time.perf_counter() < t_end or len(m) < 5:
            a.append(bare())
            t0 = time.perf_counter()
            one_epoch(model, opt, x, y, fn, batch, mon)
            mon.epoch()  # one metrics.jsonl row; reads the epoch's mean loss (one host read, like the bare loop)
            sync()
            m.append(time.perf_counter() - t0)
            b.append(bare())
        records = mon.layerlog.records
    base = [(p + r) / 2 for p, r in zip(a, b)]
    return {"rounds": len(m), "records": records, "bare_us": statistics.median(base) / STEPS * 1e6,
            "over_us": [(mm - bb) / STEPS * 1e6 for mm, bb in zip(m, base)],
            "ratios": [bb / mm for mm, bb in zip(m, base)], "aa": [p / r for p, r in zip(a, b)],
            "total": sum(base) / sum(m), "total_aa": sum(a) / sum(b)}


def alternating_steps(name: str, device: str, seconds: float, n: int = 4000) -> tuple[float, float]:
    """Median step time (µs) without and with ``mon.step`` (between stats), steps alternating one by one
    in one loop: a machine's load changes far more slowly than a step, so the medians compare alike."""
    model, opt, x, y, fn, batch = setup(name, device)
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    times: tuple[list, list] = ([], [])
    with tempfile.TemporaryDirectory() as d, monitor(model, d, every=1e9) as mon:
        t_end = time.perf_counter() + seconds
        for i in range(n + 40):
            if i > 440 and time.perf_counter() > t_end:  # at least 200 of each
                break
            s = (i * batch) % len(x)
            t0 = time.perf_counter()
            opt.zero_grad(set_to_none=True)
            loss = fn(model(x[s:s + batch]), y[s:s + batch])
            loss.backward()
            opt.step()
            if i % 2:
                mon.step(loss)
            sync()
            if i >= 40:  # warm-up, and the first stats record (armed at the first mon.step)
                times[i % 2].append(time.perf_counter() - t0)
    return statistics.median(times[0]) * 1e6, statistics.median(times[1]) * 1e6


def parts(name: str, device: str, n: int = 3000) -> tuple[float, float, float]:
    """(µs per mon.step() call between stats, µs per epoch row, ms per layer-stats record)."""
    model, opt, x, y, fn, batch = setup(name, device)
    loss = fn(model(x[:batch]), y[:batch])
    loss.backward()
    with tempfile.TemporaryDirectory() as d, monitor(model, d, every=1e9) as mon:
        mon.step(loss)  # arms the first stats
        model(x[:batch])
        mon.step(loss)  # takes them
        t0 = time.perf_counter()
        for _ in range(n):
            mon.step(loss)
        per_step = (time.perf_counter() - t0) / n * 1e6
        t0 = time.perf_counter()
        for _ in range(200):
            mon.step(loss)
            mon.epoch()
        per_epoch = (time.perf_counter() - t0) / 200 * 1e6 - per_step
        spent = 0.0
        for _ in range(20):  # the forward pass between is the loop's own work, not the monitor's
            t0 = time.perf_counter()
            mon._arm()
            spent += time.perf_counter() - t0
            model(x[:batch])
            t0 = time.perf_counter()
            mon._layer_stats()
            spent += time.perf_counter() - t0
        per_stats = spent / 20 * 1e3
    return per_step, per_epoch, per_stats


def report(name: str, dev: str, r: dict, every: float, p: tuple[float, float, float], alt) -> bool:
    o, rt, aa = r["over_us"], r["ratios"], r["aa"]
    sizes, batch, _ = MODELS[name]
    ok = r["total"] >= 0.95
    print(f"{dev} {name} ({'-'.join(map(str, sizes))}, batch {batch}): {r['rounds']} rounds x {STEPS} steps, "
          f"{r['records']} layer-stats records (every {every:g} s)")
    print(f"  bare step {r['bare_us']:.0f} us; monitor overhead per step: median {statistics.median(o):+.1f} us "
          f"(IQR {q(o, .25):+.1f} .. {q(o, .75):+.1f})")
    print(f"  speed ratio monitored/bare: totals {r['total']:.3f}x; rounds median {statistics.median(rt):.3f}x "
          f"(p10-p90 {q(rt, .1):.3f}-{q(rt, .9):.3f})   target >= 0.95x {'met' if ok else 'NOT met'}")
    print(f"  noise floor, bare vs bare: totals {r['total_aa']:.3f}x; rounds median {statistics.median(aa):.3f}x "
          f"(p10-p90 {q(aa, .1):.3f}-{q(aa, .9):.3f})")
    gap = max(every, p[2] / 1e3 / STATS_SHARE)  # the monitor waits longer between costly records
    stats_us = p[2] * 1e3 / gap * alt[0] / 1e6  # their share of one step
    print(f"  parts alone: mon.step() {p[0]:.2f} us/call, epoch row {p[1]:.0f} us, one stats record "
          f"{p[2]:.2f} ms, every {gap:.2g} s (= {stats_us:.2f} us a step)")
    parts_us = p[0] + p[1] / STEPS + stats_us
    print(f"  alternating steps (medians): bare {alt[0]:.1f} us, with mon.step() {alt[1]:.1f} us "
          f"({alt[1] - alt[0]:+.1f} us)")
    print(f"  overhead a step from the parts: {parts_us:.1f} us = {alt[0] / (alt[0] + parts_us):.3f}x; with the "
          f"alternating steps' difference for mon.step(): {alt[0] / (alt[0] + parts_us - p[0] + alt[1] - alt[0]):.3f}x")
    return ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default=None, help="cpu or cuda (default: cpu, and cuda when present)")
    ap.add_argument("--models", default="small,larger", help="comma-separated: " + ", ".join(MODELS))
    ap.add_argument("--seconds", type=float, default=20.0, help="interleaved rounds for this long, per model")
    ap.add_argument("--every", type=float, default=2.0, help="seconds between layer stats (as in real use)")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    a = ap.parse_args()
    devices = [a.device] if a.device else ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    torch.set_num_threads(a.threads)
    print(f"torch {torch.__version__}, {a.threads} CPU thread(s), load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    ok = True
    for dev in devices:
        for name in a.models.split(","):
            r = interleaved(name, dev, a.seconds, a.every)
            ok &= report(name, dev, r, a.every, parts(name, dev), alternating_steps(name, dev, a.seconds / 2))
    print(f"load average at the end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

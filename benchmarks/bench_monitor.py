"""The cost of dltui.core.monitor in a plain PyTorch loop: the same loop with and without it.

Model: the HW1 network's shape (117-16-8-1 ReLU MLP), Adam, batch 256, data on the device, the
loss kept on the device (no per-step host sync in either loop). The loops alternate, each repeat
in a fresh run folder; the result is the median of the ratios of back-to-back pairs (which goes
first alternates), beside each loop's median speed. The monitor writes metrics.jsonl every
epoch, status.json at most once a second and layer stats every ``--every`` seconds (default 2,
as in real use; ``--every 0`` measures the worst case, stats at every other step).

    python benchmarks/bench_monitor.py                       # CPU, and CUDA when there
    python benchmarks/bench_monitor.py --device cpu --repeats 7 --epochs 20

Target (issue 15): the monitored loop runs at >= 0.95x the speed of the bare one.
"""

from __future__ import annotations

import argparse
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

from dltui.core.monitor import monitor

N, N_FEATURES, BATCH = 4096, 117, 256


def setup(device: str):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(N_FEATURES, 16), nn.ReLU(), nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 1)).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y = torch.randn(N, N_FEATURES, device=device), torch.randn(N, 1, device=device)
    return model, opt, x, y


def one_epoch(model, opt, x, y, mon=None):
    total = torch.zeros((), device=x.device)
    for s in range(0, N, BATCH):
        opt.zero_grad(set_to_none=True)
        loss = nn.functional.mse_loss(model(x[s:s + BATCH]), y[s:s + BATCH])
        loss.backward()
        opt.step()
        total += loss.detach()
        if mon is not None:
            mon.step(loss)
    return total


def timed(device: str, epochs: int, every: float | None) -> float:
    """Steps per second of ``epochs`` epochs; with a monitor when ``every`` is not None."""
    model, opt, x, y = setup(device)
    one_epoch(model, opt, x, y)  # warm-up (first optimizer step, kernels)
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    with tempfile.TemporaryDirectory() as d:
        mon = monitor(model, d, epochs=epochs, lr=1e-3, every=every).__enter__() if every is not None else None
        sync()
        t0 = time.perf_counter()
        for _ in range(epochs):
            total = one_epoch(model, opt, x, y, mon)
            if mon is not None:
                mon.epoch()
            else:
                float(total)  # the bare loop reads its epoch loss too
        sync()
        dt = time.perf_counter() - t0
        if mon is not None:
            mon.__exit__(None, None, None)
    return epochs * (N // BATCH) / dt


def parts(device: str, n: int = 2000) -> tuple[float, float]:
    """(microseconds per mon.step() call between stats, milliseconds per stats record)."""
    model, opt, x, y = setup(device)
    loss = nn.functional.mse_loss(model(x[:BATCH]), y[:BATCH])
    loss.backward()
    with tempfile.TemporaryDirectory() as d, monitor(model, d, every=1e9) as mon:
        mon.step(loss)  # arms the first stats
        model(x[:BATCH])
        mon.step(loss)
        t0 = time.perf_counter()
        for _ in range(n):
            mon.step(loss)
        per_step = (time.perf_counter() - t0) / n * 1e6
        t0 = time.perf_counter()
        for _ in range(20):
            mon._arm()
            model(x[:BATCH])
            mon._layer_stats()
        per_stats = (time.perf_counter() - t0) / 20 * 1e3
    return per_step, per_stats


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default=None, help="cpu or cuda (default: cpu, and cuda when present)")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--every", type=float, default=2.0, help="seconds between layer stats (0: every other step)")
    ap.add_argument("--noise", action="store_true",
                    help="also time the bare loop against itself (the machine's noise floor for the ratio)")
    a = ap.parse_args()
    devices = [a.device] if a.device else ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    torch.set_num_threads(1)
    ok = True
    for dev in devices:
        bare, mon = [], []
        for i in range(a.repeats):  # alternate, who goes first too, so a busy machine hurts both alike
            if i % 2:
                mon.append(timed(dev, a.epochs, a.every))
                bare.append(timed(dev, a.epochs, None))
            else:
                bare.append(timed(dev, a.epochs, None))
                mon.append(timed(dev, a.epochs, a.every))
        b, m = statistics.median(bare), statistics.median(mon)
        ratio = statistics.median(x / y for x, y in zip(mon, bare))  # each pair ran back to back
        ok &= ratio >= 0.95
        if a.noise:
            again = [timed(dev, a.epochs, None) for _ in range(a.repeats)]
            aa = sorted(x / y for x, y in zip(again, bare))
            print(f"{dev}: bare vs bare (noise floor): pair ratios {aa[0]:.3f}..{aa[-1]:.3f}, median "
                  f"{statistics.median(aa):.3f}x")
        step_us, stats_ms = parts(dev)
        print(f"{dev}: mon.step() {step_us:.1f} us per call, one layer-stats record {stats_ms:.2f} ms "
              f"(a bare step here: {1e6 / b:.0f} us)")
        print(f"{dev}: bare {b:,.0f} steps/s, monitored {m:,.0f} steps/s (medians of {a.repeats}, {a.epochs} epochs "
              f"x {N // BATCH} steps, stats every {a.every:g} s): median pair ratio {ratio:.3f}x  target >= 0.95x "
              f"{'met' if ratio >= 0.95 else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

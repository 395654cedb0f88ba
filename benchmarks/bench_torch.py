"""Per-step cost of dltui's torch backend against a plain, well-written PyTorch loop.

Same model (a 117-16-8-1 ReLU MLP, the HW1 network's shape), same initial weights, Adam, batch 256,
the data already on the device, one epoch shuffle on the device, no host sync per step. The plain
loop is what a careful person writes by hand; dltui's numbers go through the Backend interface
(begin_epoch with the trainer's NumPy permutation, train_step, and one epoch_loss read per epoch,
as the trainer does). Runs alternate and the best of several repeats is kept, so a busy machine
hurts both sides alike. Prints microseconds per step and the ratio to the plain loop.

    python benchmarks/bench_torch.py                 # CPU, and CUDA (eager and graph) when there
    python benchmarks/bench_torch.py --device cpu --epochs 5 --repeats 3

Targets (issue 3): eager within 1.1x of the plain loop; the CUDA-graph path faster than it.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

try:
    import torch
    import torch.nn.functional as F
    from torch import nn
except ImportError:  # pragma: no cover
    print("bench_torch: torch is not installed (pip install \"dltui[torch]\").")
    sys.exit(0)

from dltui.core.backends.torch_backend import TorchBackend
from dltui.core.config.spec import load_preset

N_FEATURES, HIDDEN, BATCH = 117, [16, 8], 256


def make_spec(device: str, graph: bool, dtype: str):
    return load_preset("hw01-covid", {
        "model.hidden": HIDDEN, "model.activation": "relu", "optimizer.name": "adam", "optimizer.lr": 1e-3,
        "training.batch_size": BATCH, "training.dtype": dtype, "training.device": device,
        "training.graph": graph})


class PlainLoop:
    """The reference: nn.Sequential, torch.optim.Adam, slices of device-resident data."""

    def __init__(self, params, x, y, device, dtype):
        layers: list[nn.Module] = []
        for i, (W, b) in enumerate(params):
            lin = nn.Linear(W.shape[1], W.shape[0], device=device, dtype=dtype)
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(W))
                lin.bias.copy_(torch.from_numpy(b))
            layers += [lin] if i == len(params) - 1 else [lin, nn.ReLU()]
        self.model = nn.Sequential(*layers)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=1e-3)
        self.x = torch.from_numpy(x).to(device)
        self.y = torch.from_numpy(y).to(device)
        self.n, self.device = len(x), device

    def epoch(self):
        perm = torch.randperm(self.n, device=self.device)
        xs, ys = self.x[perm], self.y[perm]
        model, opt = self.model, self.opt
        for s in range(0, self.n, BATCH):
            opt.zero_grad(set_to_none=True)
            loss = F.mse_loss(model(xs[s:s + BATCH]), ys[s:s + BATCH])
            loss.backward()
            opt.step()
        return loss


class DltuiLoop:
    def __init__(self, spec, params, x, y, rng):
        self.be = TorchBackend(spec, x.shape[1], 1, params=params, device=spec.values["training"]["device"])
        self.be.set_data(x, y, x[:0], y[:0], BATCH)
        self.n, self.rng = len(x), rng
        self.nb = -(-self.n // BATCH)

    def epoch(self):
        be = self.be
        be.begin_epoch(self.rng.permutation(self.n))
        for b in range(self.nb):
            be.train_step(b)
        return be.epoch_loss()


class TrainerLoop:
    """The whole dltui loop: Trainer.fit (events, pause flags, best-weights copies) over the backend."""

    def __init__(self, spec, params, x, y, epochs):
        from dltui.core.data.dataset import Dataset, Features

        self.spec = spec.with_overrides({"training.epochs": epochs, "training.patience": 0})
        names = [f"x{i}" for i in range(x.shape[1])]
        self.data = Dataset(x, y, x[:0], y[:0], "regression", 1, Features(names=names))
        self.be = TorchBackend(spec, x.shape[1], 1, params=params, device=spec.values["training"]["device"])
        self.epochs = epochs

    def epoch(self):  # one fit of `epochs` epochs
        from dltui.core.training.trainer import Trainer

        Trainer(self.spec, self.be, data=self.data).fit()


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def time_loop(loop, device: str, epochs: int) -> float:
    sync(device)
    t0 = time.perf_counter()
    for _ in range(epochs):
        loop.epoch()
    sync(device)
    return time.perf_counter() - t0


def bench_device(device: str, args) -> list[tuple[str, float, float]]:
    dtype = torch.float32
    rng = np.random.default_rng(0)
    n = BATCH * args.batches
    x = rng.standard_normal((n, N_FEATURES)).astype(np.float32)
    y = (x[:, :3].sum(1, keepdims=True) + 0.1 * rng.standard_normal((n, 1))).astype(np.float32)
    from dltui.core.backends.base import initial_params

    params = [(W.astype(np.float32), b.astype(np.float32))
              for W, b in initial_params(make_spec("cpu", False, "float32"), N_FEATURES, 1)]
    loops = {"plain PyTorch loop": PlainLoop(params, x, y, device, dtype),
             "dltui torch (eager)": DltuiLoop(make_spec(device, False, "float32"), params, x, y, rng)}
    if device.startswith("cuda"):
        loops["dltui torch (CUDA graph)"] = DltuiLoop(make_spec(device, True, "float32"), params, x, y, rng)
    fit_epochs = max(args.epochs, 4)
    loops["dltui Trainer.fit (eager)"] = TrainerLoop(make_spec(device, False, "float32"), params, x, y,
                                                     fit_epochs)
    if device.startswith("cuda"):
        loops["dltui Trainer.fit (graph)"] = TrainerLoop(make_spec(device, True, "float32"), params, x, y,
                                                         fit_epochs)
    for loop in loops.values():  # warm-up: allocator, kernels, graph capture
        time_loop(loop, device, 2)
    times: dict[str, list[float]] = {k: [] for k in loops}
    for _ in range(args.repeats):  # interleaved, so a busy machine slows every loop alike
        for name, loop in loops.items():
            epochs = loop.epochs if isinstance(loop, TrainerLoop) else args.epochs
            runs = 1 if isinstance(loop, TrainerLoop) else args.epochs
            times[name].append(time_loop(loop, device, runs) / (epochs * -(-n // BATCH)))
    for name, loop in loops.items():
        if isinstance(loop, (DltuiLoop, TrainerLoop)) and loop.be.warning:
            print(f"  note: {name}: {loop.be.warning}")
    ref, ref_med = min(times["plain PyTorch loop"]), float(np.median(times["plain PyTorch loop"]))
    return [(name, min(ts) * 1e6, min(ts) / ref, float(np.median(ts)) / ref_med)
            for name, ts in times.items()]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="all", help="cpu, cuda, or all (cpu and, when there, cuda)")
    p.add_argument("--epochs", type=int, default=1, help="epochs per timed run")
    p.add_argument("--batches", type=int, default=32, help="mini-batches per epoch")
    p.add_argument("--repeats", type=int, default=40,
                   help="timed runs per loop, interleaved; the best is kept")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    devices = [args.device]
    if args.device == "all":
        devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    net = f"{N_FEATURES}-{'-'.join(map(str, HIDDEN))}-1"
    print(f"torch {torch.__version__}; {net} ReLU MLP, Adam, batch {BATCH}, {args.batches} batches/epoch, "
          f"{args.repeats} interleaved runs of {args.epochs} epoch(s) per loop")
    ok = True
    for device in devices:
        if device.startswith("cuda"):
            print(f"{device}: {torch.cuda.get_device_name(0)}")
        else:
            print(f"{device}: {torch.get_num_threads()} threads")
        for name, us, ratio, med_ratio in bench_device(device, args):
            print(f"  {name:<26} {us:9.1f} us/step (best)   {ratio:5.2f}x plain   "
                  f"(median runs: {med_ratio:5.2f}x)")
            if "Trainer" in name:  # the whole loop, for information: not part of the targets
                continue
            if "eager" in name and ratio > 1.1:
                ok = False
            if "graph" in name and ratio >= 1.0:
                ok = False
    verdict = "targets met" if ok else "targets NOT met"
    print(f"{verdict} (best runs: eager <= 1.10x plain, graph < 1.00x plain)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

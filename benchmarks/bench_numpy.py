"""Speed of the NumPy engine (a benchmark, run on purpose; prints ratios, asserts nothing).

1. One training step of a 117-16-8-1 ReLU MLP, batch 256, Adam: dltui's NumpyBackend.train_step vs a
   minimal hand-written NumPy loop doing the same maths (target: within 1.3x).
2. One HW1 epoch (2022 covid.train.csv, all 117 features, 16-8-1, batch 256, Adam, + validation): dltui's
   Trainer vs the course's usual PyTorch recipe (Dataset + DataLoader(shuffle=True), zero_grad/backward/step,
   evaluation under no_grad) on the CPU. Needs torch and ../shared/data; skipped otherwise.

    python benchmarks/bench_numpy.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

# as the dltui command does (tui/cli.py): one BLAS thread for small networks
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
from dltui.core import Trainer, load_preset  # noqa: E402
from dltui.core.backends.numpy_backend import NumpyBackend  # noqa: E402

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "hw01_2022" / "covid.train.csv"


def best_of(fn, repeat: int, number: int) -> float:
    """Seconds per call: the best of ``repeat`` timings of ``number`` calls."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - t) / number)
    return min(times)


def hand_written_step(sizes, x, y, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8):
    rng = np.random.default_rng(0)
    Ws = [rng.standard_normal((o, i)).astype(np.float32) * np.sqrt(2 / i) for i, o in zip(sizes[:-1], sizes[1:])]
    bs = [np.zeros(o, np.float32) for o in sizes[1:]]
    params = [p for pair in zip(Ws, bs) for p in pair]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    t = [0]

    def step():
        a = [x]
        zs = []
        for i, (W, b) in enumerate(zip(Ws, bs)):
            z = a[-1] @ W.T + b
            zs.append(z)
            a.append(np.maximum(z, 0) if i < len(Ws) - 1 else z)
        diff = a[-1] - y
        _ = float(np.mean(diff * diff))
        d = diff * (2.0 / diff.size)
        grads = [None] * len(params)
        for i in range(len(Ws) - 1, -1, -1):
            if i < len(Ws) - 1:
                d = d * (zs[i] > 0)
            grads[2 * i] = d.T @ a[i]
            grads[2 * i + 1] = d.sum(0)
            if i:
                d = d @ Ws[i]
        t[0] += 1
        bc1, bc2 = 1 - b1 ** t[0], (1 - b2 ** t[0]) ** 0.5
        for p, g, mi, vi in zip(params, grads, m, v):
            mi += (1 - b1) * (g - mi)
            vi *= b2
            vi += (1 - b2) * g * g
            p -= (lr / bc1) * mi / (np.sqrt(vi) / bc2 + eps)

    return step


def bench_step(repeat: int) -> None:
    sizes = [117, 16, 8, 1]
    rng = np.random.default_rng(1)
    x = rng.standard_normal((256, 117)).astype(np.float32)
    y = rng.standard_normal((256, 1)).astype(np.float32)
    spec = load_preset("xor", {"data.kind": "regression", "loss.name": "mse", "model.hidden": [16, 8],
                               "model.activation": "relu", "optimizer.name": "adam", "training.batch_size": 256})
    be = NumpyBackend(spec, 117, 1)
    be.set_data(x, y, x[:0], y[:0], 256)
    be.begin_epoch(np.arange(256))
    ours = best_of(lambda: be.train_step(0), repeat, 2000)
    ref = best_of(hand_written_step(sizes, x, y), repeat, 2000)
    print(f"one Adam step, 117-16-8-1, batch 256:  dltui {ours * 1e6:7.1f} us   hand-written {ref * 1e6:7.1f} us"
          f"   ratio {ours / ref:.2f}x  (target <= 1.3x)")


def bench_hw1_epoch(repeat: int) -> None:
    if not DATA.exists():
        print(f"HW1 epoch: skipped, no data at {DATA}")
        return
    try:
        import torch
        from torch.utils.data import DataLoader, Dataset
    except ImportError:
        print("HW1 epoch: skipped, torch is not installed")
        return
    torch.set_num_threads(1)
    spec = load_preset("hw01-covid", {"data.path": str(DATA), "data.features": "all", "data.top_k": 0,
                                      "data.normalize": False, "training.epochs": 1, "training.patience": 0,
                                      "training.batch_size": 256, "model.hidden": [16, 8]})
    trainer = Trainer(spec)
    d = trainer.data

    run20 = spec.with_overrides({"training.epochs": 20})

    def ours_20_epochs():
        Trainer(run20, data=d).fit()

    class CovidDataset(Dataset):  # the course's recipe
        def __init__(self, x, y):
            self.x, self.y = torch.FloatTensor(x), torch.FloatTensor(y)

        def __getitem__(self, i):
            return self.x[i], self.y[i]

        def __len__(self):
            return len(self.x)

    model = torch.nn.Sequential(torch.nn.Linear(d.n_features, 16), torch.nn.ReLU(), torch.nn.Linear(16, 8),
                                torch.nn.ReLU(), torch.nn.Linear(8, 1))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    crit = torch.nn.MSELoss()
    train_loader = DataLoader(CovidDataset(d.x_train, d.y_train[:, 0]), batch_size=256, shuffle=True)
    valid_loader = DataLoader(CovidDataset(d.x_val, d.y_val[:, 0]), batch_size=256, shuffle=False)

    def course_epoch():
        model.train()
        losses = []
        for x, y in train_loader:
            opt.zero_grad()
            loss = crit(model(x).squeeze(1), y)
            loss.backward()
            opt.step()
            losses.append(loss.detach().item())
        model.eval()
        vl = []
        for x, y in valid_loader:
            with torch.no_grad():
                vl.append(crit(model(x).squeeze(1), y).item())
        return sum(losses) / len(losses), sum(vl) / len(vl)

    ours = best_of(ours_20_epochs, repeat, 1) / 20
    ref = best_of(course_epoch, repeat, 20)
    print(f"one HW1 epoch (train + validation):      dltui {ours * 1e3:7.2f} ms   course recipe {ref * 1e3:7.2f} ms"
          f"   dltui is {ref / ours:.1f}x faster (torch {torch.__version__}, 1 thread)")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    bench_step(a.repeat)
    bench_hw1_epoch(a.repeat)

"""`--backend auto` with the real probe on two cases: the HW1 network's shape (117-16-8-1, batch
256; issue 15 expects the CPU to win on a GPU box) and a wide one (784-2048-2048-10, batch 4096,
where a GPU should win). Prints each table, the winner and what the probe cost.

    python benchmarks/auto_check.py            # exits 1 if CUDA is here and the wide net picks the CPU
"""

from __future__ import annotations

import sys
import time

import dltui.tui.cli  # noqa: F401 - one BLAS/OpenMP thread, as every dltui command runs
from dltui.core.backends import autodevice as ad
from dltui.core.config.spec import load_preset

CASES = [
    ("HW1 shape 117-16-8-1, batch 256", {"model.hidden": [16, 8], "model.activation": "relu",
                                          "training.batch_size": 256}, 117, 1),
    ("wide 784-2048-2048-10, batch 4096", {"model.hidden": [2048, 2048], "model.activation": "relu",
                                            "training.batch_size": 4096}, 784, 10),
]


def main() -> int:
    t0 = time.perf_counter()
    cuda = ad.cuda_present()
    print(f"CUDA present: {cuda} (checked in {time.perf_counter() - t0:.3f} s, torch imported: "
          f"{'torch' in sys.modules})")
    ok = True
    for title, over, n_in, n_out in CASES:
        spec = load_preset("piecewise-sigmoid", over)
        t0 = time.perf_counter()
        c = ad.choose(spec, n_in, n_out, use_cache=False, torch_asked=True, seconds=0.5)
        cost = time.perf_counter() - t0
        print(f"\n{title}: probe took {cost:.2f} s\n{ad.format_table(c)}\nwinner: {c.reason}")
        if cuda and "wide" in title and not c.option.device.startswith("cuda"):
            print("FAIL: a CUDA GPU is here but the wide net picked the CPU")
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

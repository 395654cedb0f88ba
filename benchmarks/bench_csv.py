"""CSV parsing into float arrays: NumPy's C reader vs pyarrow vs polars vs the old cell-by-cell reader.

    python benchmarks/bench_csv.py            # both cases of issue 14, 3 repeats each
    python benchmarks/bench_csv.py --quick    # 1/10 of the rows, 1 repeat

The files are synthetic and generated in /tmp (never committed): 200k rows x 118 columns (the HW1
2022 shape, ~212 MB) and 1M rows x 22 columns (~199 MB). Each reader runs in a fresh interpreter so
its peak RSS (ru_maxrss of the child) is its own; time is wall time of the parse alone. The reference
row in each case is the old reader (Python's csv module into lists of str, then np.array).

Why dltui.core.data.csvload uses NumPy's C reader (np.loadtxt, numpy >= 1.23): with it dltui loads these
files in 1.4-1.9 s at 1.1x the file's size in peak RSS (2.8-3.0 s with a text column, which takes the
checked path), where the old reader took 12-13 s and 8.4-8.8x. polars was at times the fastest in
wall time (0.5-2.1 s across runs, using threads) and pyarrow 1.4-4 s, but both need 2.6-4.6x the file
in memory and add ~180 MB each to the install; NumPy is a dependency already and meets the target
(seconds, under 3x the file in RAM). Full numbers: core/csvload.py's docstring and issue 14's report.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

CASES = {"hw1-200k-x118": (200_000, 118), "1M-x22": (1_000_000, 22)}

READERS = {
    "old-csv-module": """
import csv
with open(path, newline="") as fh:
    rows = list(csv.reader(fh))
x = np.array([r for r in rows[1:]], dtype=np.float64)
""",
    "dltui-csvload": """
from dltui.core.data.csvload import open_csv
t = open_csv(path)
n = len(t.header)
y = t.numeric([n - 1], "target")  # as data.py loads a training set: the target, then the features
x = t.numeric(list(range(1, n - 1)), "feature")
""",
    "dltui-mixed": """
from dltui.core.data.csvload import open_csv
t = open_csv(path)
t._mixed = True  # the checked path a file with text columns takes: shape scan, then chosen columns
n = len(t.header)
y = t.numeric([n - 1], "target")
x = t.numeric(list(range(1, n - 1)), "feature")
""",
    "numpy-loadtxt": """
x = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float64, ndmin=2)
""",
    "pyarrow": """
import pyarrow.csv as pc
tb = pc.read_csv(path)
x = np.column_stack([c.to_numpy() for c in tb.columns])
""",
    "pyarrow-1thread": """
import pyarrow.csv as pc
tb = pc.read_csv(path, read_options=pc.ReadOptions(use_threads=False))
x = np.column_stack([c.to_numpy() for c in tb.columns])
""",
    "polars": """
import polars as pl
x = pl.read_csv(path).to_numpy()
""",
}

CHILD = """
import resource, sys, time, json
import numpy as np
path = sys.argv[1]
t0 = time.perf_counter()
{body}
dt = time.perf_counter() - t0
assert x.shape[0] > 0 and x.dtype == np.float64
print(json.dumps({{"s": dt, "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "shape": list(x.shape)}}))
"""


def make_file(rows: int, cols: int, path: str) -> None:
    import numpy as np

    if os.path.exists(path):
        return
    rng = np.random.default_rng(0)
    header = ",".join(["id"] + [f"c{j}" for j in range(cols - 2)] + ["y"])
    with open(path + ".part", "w") as fh:
        fh.write(header + "\n")
        for start in range(0, rows, 20_000):
            n = min(20_000, rows - start)
            block = rng.random((n, cols - 1)) * 100
            ids = np.arange(start, start + n)[:, None]
            np.savetxt(fh, np.hstack([ids, block]), delimiter=",", fmt=["%d"] + ["%.6f"] * (cols - 1))
    os.replace(path + ".part", path)


def run_one(reader: str, path: str) -> dict | None:
    code = CHILD.format(body=READERS[reader])
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    p = subprocess.run([sys.executable, "-c", code, path], capture_output=True, text=True, env=env)
    if p.returncode != 0:
        print(f"  {reader}: failed: {p.stderr.strip().splitlines()[-1] if p.stderr.strip() else p.returncode}")
        return None
    return json.loads(p.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1/10 of the rows, one repeat")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--readers", default=",".join(READERS), help="comma-separated subset")
    args = ap.parse_args()
    repeats = 1 if args.quick else args.repeats
    for case, (rows, cols) in CASES.items():
        rows = rows // 10 if args.quick else rows
        path = f"/tmp/dltui-bench-{case}-{rows}.csv"
        make_file(rows, cols, path)
        mib = os.path.getsize(path) / 2**20
        print(f"{case}: {rows} rows x {cols} columns, {mib:.0f} MiB ({path})")
        ref = None
        for reader in args.readers.split(","):
            runs = [r for r in (run_one(reader, path) for _ in range(repeats)) if r]
            if not runs:
                continue
            s = sorted(r["s"] for r in runs)
            rss = max(r["rss_mib"] for r in runs)
            ref = ref or s[0]
            print(f"  {reader:<16} {s[0]:7.2f} s (median {s[len(s) // 2]:.2f}, {len(s)} runs)  "
                  f"peak RSS {rss:6.0f} MiB = {rss / mib:4.1f}x file   time ratio vs {args.readers.split(',')[0]}: "
                  f"{s[0] / ref:.2f}")
    return 0


if __name__ == "__main__":
    t = time.time()
    rc = main()
    print(f"total {time.time() - t:.0f} s")
    sys.exit(rc)

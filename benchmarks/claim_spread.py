"""How much room each lesson's [claim] has: every claim run on many seeds, per seed the margin
(below: reference / mine; above: mine / reference; the claim holds on a seed when the margin
exceeds its factor), and the chance that the claim as shipped (k of n) holds on a fresh seed set.

    OPENBLAS_NUM_THREADS=1 python benchmarks/claim_spread.py --seeds 30 --first-seed 101 --jobs 2
    python benchmarks/claim_spread.py deep-8x3 fat-56 --seeds 40 --json spread.json

A claim is shipped only where p (the share of seeds it holds on, measured on seeds it was not tuned
on) makes "k of n" hold with room: P(Binomial(n, p) >= k) >= 0.99 (column `P(k/n)`), computed also
with the lower end of p's 90% Wilson interval (column `P lo`). A claim ``by = "median"`` compares the
medians over its n seeds: `P med` is the share of 4000 random n-seed subsets of the measured seeds
on which the medians compare as claimed (given for every claim, to choose between the two forms).
Runs are cached in --out like `dltui check`'s (a second call reuses them)."""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from dltui.core.config.spec import load_preset, shipped_presets  # noqa: E402
from dltui.core.experiments.claims import plan_claim  # noqa: E402
from dltui.core.experiments.sweep import run_tasks, worker_init  # noqa: E402


def margin(mine, ref, relation: str) -> float | None:
    if mine is None or ref is None:
        return None
    if relation == "below":
        return ref / mine if mine > 0 else math.inf
    return mine / ref if ref > 0 else math.inf


def binom_tail(n: int, k: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p)."""
    return sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k, n + 1))


def wilson_low(wins: int, n: int, z: float = 1.645) -> float:
    if n == 0:
        return 0.0
    p = wins / n
    d = 1 + z * z / n
    c = p + z * z / (2 * n)
    r = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, (c - r) / d)


def median_share(rows: list[dict], n: int, relation: str, factor: float, draws: int = 4000) -> float:
    """Of random n-seed subsets of ``rows``, the share whose medians compare as claimed."""
    pairs = [(r["mine"], r["ref"]) for r in rows if r["mine"] is not None and r["ref"] is not None]
    if len(pairs) < n or len(pairs) < len(rows):
        return 0.0
    rng = random.Random(0)
    ok = 0
    for _ in range(draws):
        sub = rng.sample(pairs, n)
        a, b = statistics.median(x for x, _ in sub), statistics.median(y for _, y in sub)
        ok += (a * factor < b) if relation == "below" else (a > b * factor)
    return ok / draws


def claimed(names: list[str]) -> list[str]:
    if names:
        return names
    return [n for n in shipped_presets() if load_preset(n).values.get("claim")
            and load_preset(n).values["data"]["kind"] != "csv"]


def report(name: str, check, results: dict) -> dict:
    c = load_preset(name).values["claim"]
    rel, factor = c["relation"], c["factor"]
    rows = []
    for seed, t, r in zip(check.seeds, check.mine, check.ref or [None] * len(check.mine)):
        mine = (results.get(t.out_dir) or {}).get(c["metric"])
        ref = (results.get(r.out_dir) or {}).get(c["than_metric"] or c["metric"]) if r else c["value"]
        rows.append({"seed": seed, "mine": mine, "ref": ref, "margin": margin(mine, ref, rel)})
    ms = [r["margin"] for r in rows]
    good = [m for m in ms if m is not None]
    wins = sum(1 for m in good if m > factor)
    n_s = len(rows)
    p = wins / n_s
    k = c["wins"] or c["seeds"]
    qs = sorted(good)

    def q(f):
        return qs[min(len(qs) - 1, int(f * len(qs)))] if qs else float("nan")

    return {"preset": name, "relation": rel, "factor": factor, "k": k, "n": c["seeds"], "seeds": n_s,
            "wins": wins, "p": p, "p_lo": wilson_low(wins, n_s), "P": binom_tail(c["seeds"], k, p),
            "P_lo": binom_tail(c["seeds"], k, wilson_low(wins, n_s)), "by": c["by"],
            "P_med": median_share(rows, c["seeds"], rel, factor), "min": q(0.0), "q10": q(0.1),
            "q25": q(0.25), "median": q(0.5), "rows": rows}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("presets", nargs="*", help="claimed presets (default: every shipped one without a CSV)")
    ap.add_argument("--seeds", type=int, default=30)
    ap.add_argument("--first-seed", type=int, default=101, help="seeds first..first+N-1 (default 101: not "
                    "the seeds `dltui check` ships with)")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--out", default="runs/claim-spread", help="run cache (default runs/claim-spread)")
    ap.add_argument("--json", metavar="PATH", help="write every seed's figures here")
    args = ap.parse_args(argv)
    names = claimed(args.presets)
    checks = {n: plan_claim(n, args.out, first_seed=args.first_seed, n_seeds=args.seeds) for n in names}
    unique = {}
    for ch in checks.values():
        for t in ch.mine + ch.ref:
            unique.setdefault(t.out_dir, t)
    tasks = list(unique.values())
    print(f"{len(names)} claims, {len(tasks)} runs, seeds {args.first_seed}..{args.first_seed + args.seeds - 1}",
          file=sys.stderr, flush=True)
    done = [0]

    def tick(i, r):
        done[0] += 1
        if done[0] % 50 == 0:
            print(f"  {done[0]}/{len(tasks)}", file=sys.stderr, flush=True)

    with ProcessPoolExecutor(args.jobs, initializer=worker_init) as ex:
        res = run_tasks(tasks, ex, on_done=tick)
    by_dir = {t.out_dir: r for t, r in zip(tasks, res)}
    out = [report(n, checks[n], by_dir) for n in names]
    print("| preset | claim | holds on | p 90% low | P(k/n) | P lo | P med | margin min / q10 / q25 / median |")
    print("|---|---|---|---|---|---|---|---|")
    for r in out:
        form = f"median of {r['n']}" if r["by"] == "median" else f"{r['k']}/{r['n']}"
        print(f"| {r['preset']} | {r['relation']} {form} x{r['factor']:g} | {r['wins']}/{r['seeds']} | "
              f"{r['p_lo']:.2f} | {r['P']:.3f} | {r['P_lo']:.3f} | {r['P_med']:.3f} | {r['min']:.3g} / "
              f"{r['q10']:.3g} / {r['q25']:.3g} / {r['median']:.3g} |")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))
    weak = [r["preset"] for r in out if (r["P_med"] if r["by"] == "median" else r["P"]) < 0.99]
    if weak:
        print(f"\nbelow 0.99 on a fresh seed set: {', '.join(weak)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

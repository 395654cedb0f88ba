"""`dltui check [PRESET ...]`: run each lesson preset's [claim] across seeds and print ✓/✗ with
the numbers; exit 1 when a claim does not hold."""

from __future__ import annotations

import json
import sys
import time

from dltui.tui.commands.sweep_cmd import ended_early, execute, executor_for


def add_parser(sub) -> None:
    sp = sub.add_parser(
        "check", help="check the lessons' claims across seeds",
        description="Each lesson preset states what it teaches as a [claim] (a figure, below or above another "
                    "preset's or a setting's, on at least k of n seeds). This trains the runs each claim needs "
                    "(in parallel, through the sweep engine; runs shared by several claims train once, and a "
                    "second check reuses finished runs) and prints ✓ or ✗ with the numbers. Exit 1 if a claim "
                    "fails.")
    sp.add_argument("presets", nargs="*", metavar="PRESET", help="presets to check (default: every shipped "
                    "preset with a claim)")
    sp.add_argument("--data", metavar="CSV", help="the CSV file for csv presets (sets data.path)")
    where = sp.add_mutually_exclusive_group()
    where.add_argument("--jobs", type=int, metavar="N", help="worker processes (default: one per core)")
    where.add_argument("--cluster", metavar="ADDRESS", help="send the runs to a Dask scheduler")
    sp.add_argument("--first-seed", type=int, default=1, metavar="N",
                    help="run seeds N..N+n-1 instead of 1..n, to check the lessons on seeds they were never tuned on")
    sp.add_argument("--out", default="runs/check", metavar="DIR", help="the run cache (default runs/check)")
    sp.add_argument("--json", action="store_true", help="print the verdicts as JSON")
    sp.set_defaults(run=run, gpus=None)


def with_claims(names: list[str], data: str | None = None) -> list[str]:
    """The presets to check: those named, or every shipped one with a claim (CSV presets only with
    --data: their claims need the file)."""
    from dltui.core.config.spec import load_preset, shipped_presets
    from dltui.tui.common import UserError

    for n in names:  # named: a CSV claim without its file is the user's to fix, not 8 failed runs
        d = load_preset(n).values["data"]
        if d["kind"] == "csv" and not (d.get("path") or data):
            raise UserError(f"{n}: its claim trains on a CSV file; give it with --data PATH.")
    if names:
        return names
    out = []
    for n in shipped_presets():
        v = load_preset(n).values
        if v.get("claim"):
            if v["data"]["kind"] == "csv" and not (v["data"].get("path") or data):
                print(f"skipped {n}: its claim needs the CSV (--data PATH)", file=sys.stderr)
                continue
            out.append(n)
    return out


def plan(args):
    from pathlib import Path

    from dltui.core.experiments.claims import plan_claim
    from dltui.tui.common import UserError

    if args.jobs is not None and args.jobs < 1:
        raise UserError(f"--jobs {args.jobs}: give at least 1 worker.")
    if not 0 <= args.first_seed <= 4_000_000_000:
        raise UserError(f"--first-seed {args.first_seed}: give a seed from 0 to 4000000000.")
    base = {"data.path": str(Path(args.data).resolve())} if args.data else {}
    checks, missing = [], []
    for name in with_claims(args.presets, args.data):
        check = plan_claim(name, args.out, base, first_seed=args.first_seed)
        (checks.append(check) if check else missing.append(name))
    if missing:
        raise UserError(f"{', '.join(missing)}: no [claim] in {'this preset' if len(missing) == 1 else 'these'}; "
                        "`dltui check` without names checks every preset that has one.")
    unique = {}
    for c in checks:
        for t in c.mine + c.ref:
            unique.setdefault(t.out_dir, t)
    return checks, list(unique.values())


def run(args) -> int:
    from dltui.core.experiments.claims import explain, judge, medians, verdict_line

    checks, tasks = plan(args)
    ctx, where = executor_for(args)
    print(f"checking {len(checks)} claim(s): {len(tasks)} runs on {where}, cache {args.out}", file=sys.stderr,
          flush=True)
    t0 = time.perf_counter()
    o = execute(args, tasks, ctx)
    if o["interrupted"]:
        return ended_early(o, tasks, f"the cache {args.out}")
    results = o["results"]
    by_dir = {t.out_dir: r for t, r in zip(tasks, results)}
    for c in checks:
        judge(c, by_dir)
    if args.json:
        print(json.dumps([{"preset": c.preset, "claim": c.describe(), "text": c.claim["text"], "holds": c.holds,
                           "wins": c.wins, "seeds": c.claim["seeds"], "seed_list": c.seeds, "needed": c.needed,
                           "pairs": c.pairs,
                           "medians": medians(c)} for c in checks], indent=1))
    else:
        plain = not (sys.stdout.encoding or "").lower().startswith("utf")
        for c in checks:
            print(verdict_line(c, ascii_only=plain))
            for line in explain(c):
                print(line)
        good = sum(c.holds for c in checks)
        print(f"{good}/{len(checks)} claims hold ({time.perf_counter() - t0:.0f} s)")
    return 0 if all(c.holds for c in checks) else 1

"""Claims as data: a lesson preset's ``[claim]`` says what it teaches, as a comparison that must
hold on enough seeds, and ``dltui check`` runs it through the sweep engine.

    [claim]
    text = "24 sigmoids fit the 24-kink curve at least 3x better than 3 sigmoids"
    metric = "best_val_loss"     # a figure of each run (see sweep.summarize)
    relation = "below"           # below: mine * factor < reference; above: mine > reference * factor
    than = "kinks-3-sigmoids"    # another preset, or "" with than_set = ["model.hidden=[3]"] (this preset
    factor = 3.0                 #   with overrides), or "" with value = 0.01 (a fixed bound)
    seeds = 5                    # seeds 1..5 set every key in seed_keys, in both runs (paired by seed)
    wins = 4                     # it must hold on at least 4 of them (0: on all)
    by = "seeds"                 # or "median": the median over the seeds of mine vs of the reference
                                 #   (for an effect real on average but not on every seed)

``dltui check --first-seed N`` runs seeds N..N+seeds-1 instead, so anyone can check a lesson on seeds
it was never tuned on.

Runs go to a cache folder named after each run's resolved settings, so a reference shared by
several claims trains once, and a second ``dltui check`` reuses finished runs.
"""

from __future__ import annotations

import hashlib
import json
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from ..config.spec import Spec, load_preset, parse_override
from .sweep import Task, trained_part


@dataclass
class ClaimCheck:
    """One claim's runs and, once they are done, its verdict."""

    preset: str
    claim: dict
    mine: list[Task]
    ref: list[Task]  # empty for a fixed bound
    seeds: list[int] = field(default_factory=list)
    pairs: list[tuple[float | None, float | None]] = field(default_factory=list)
    wins: int = 0
    holds: bool = False

    @property
    def needed(self) -> int:
        return self.claim["wins"] or self.claim["seeds"]

    @property
    def by_median(self) -> bool:
        return self.claim.get("by") == "median"

    def describe(self) -> str:
        c = self.claim
        what = c["metric"].replace("_", " ")
        if c["than"]:
            ref = c["than"] + "'s"
        elif c["than_set"]:
            ref = "the same run's with " + " ".join(c["than_set"])
        else:
            ref = f"{c['value']:g}"
        if c["than_metric"] and c["than_metric"] != c["metric"] and (c["than"] or c["than_set"]):
            ref += " " + c["than_metric"].replace("_", " ")
        by = f" by a factor of {c['factor']:g}" if c["factor"] != 1 else ""
        if self.by_median:
            of_ref = " median" if c["than"] or c["than_set"] else ""
            return f"median {what} over {c['seeds']} seeds {c['relation']} {ref}{of_ref}{by}"
        return f"{what} {c['relation']} {ref}{by} on at least {self.needed} of {c['seeds']} seeds"


def run_folder(cache: Path, spec: Spec) -> str:
    """A folder named after the run's resolved settings (not its title or note)."""
    key = json.dumps(trained_part(spec.to_toml()), sort_keys=True)
    return str(cache / f"{spec.name}-{hashlib.sha1(key.encode()).hexdigest()[:10]}")


def _tasks(preset: str, overrides: dict, seeds: list[int], keys: list[str], cache: Path) -> list[Task]:
    tasks = []
    for s in seeds:
        o = {**overrides, **{k: s for k in keys}}
        spec = load_preset(preset, o)
        tasks.append(Task(preset, o, run_folder(cache, spec), seed=s, label=spec.name))
    return tasks


def plan_claim(preset: str, cache: str | Path, base: dict | None = None, first_seed: int = 1,
               n_seeds: int | None = None) -> ClaimCheck | None:
    """The runs a preset's claim needs (None if it has no claim). ``base``: overrides for every run
    (e.g. data.path); the claim's own ``than_set`` applies to the reference only. Seeds run from
    ``first_seed`` (1 as shipped); ``n_seeds`` replaces the claim's count (its spread measured on many
    seeds: benchmarks/claim_spread.py)."""
    spec = load_preset(preset, base or {})
    claim = spec.values.get("claim")
    if not claim:
        return None
    if n_seeds is not None:
        claim = {**claim, "seeds": n_seeds, "wins": 0}
    cache = Path(cache).resolve()
    seeds = list(range(first_seed, first_seed + claim["seeds"]))
    mine = _tasks(preset, dict(base or {}), seeds, claim["seed_keys"], cache)
    ref: list[Task] = []
    if claim["than"] or claim["than_set"]:
        ref_preset = claim["than"] or preset
        ref_over = {**(base or {}), **dict(parse_override(o) for o in claim["than_set"])}
        ref = _tasks(ref_preset, ref_over, seeds, claim["seed_keys"], cache)
    return ClaimCheck(spec.name, claim, mine, ref, seeds=seeds)


def judge(check: ClaimCheck, results: dict[str, dict]) -> ClaimCheck:
    """Fill in the verdict from run summaries keyed by run folder."""
    c = check.claim
    m = c["metric"]
    check.pairs = []
    for i, t in enumerate(check.mine):
        mine = (results.get(t.out_dir) or {}).get(m)
        rm = c["than_metric"] or m
        ref = (results.get(check.ref[i].out_dir) or {}).get(rm) if check.ref else c["value"]
        check.pairs.append((mine, ref))
    ok = [holds(a, b, c["relation"], c["factor"]) for a, b in check.pairs]
    check.wins = sum(ok)
    if check.by_median:
        a, b = medians(check)
        complete = all(x is not None and y is not None for x, y in check.pairs)  # a failed run fails the claim
        check.holds = complete and holds(a, b, c["relation"], c["factor"])
    else:
        check.holds = check.wins >= check.needed
    return check


def holds(mine: float | None, ref: float | None, relation: str, factor: float) -> bool:
    if mine is None or ref is None:
        return False
    return mine * factor < ref if relation == "below" else mine > ref * factor


def medians(check: ClaimCheck) -> tuple[float | None, float | None]:
    def med(xs):
        xs = [x for x in xs if x is not None]
        return statistics.median(xs) if xs else None

    return med(a for a, _ in check.pairs), med(b for _, b in check.pairs)


def seed_range(check: ClaimCheck) -> str:
    s = check.seeds
    return f"seed {s[0]}" if len(s) == 1 else f"seeds {s[0]}-{s[-1]}"


def verdict_line(check: ClaimCheck, ascii_only: bool = False) -> str:
    mark = ("ok  " if check.holds else "FAIL") if ascii_only else ("✓" if check.holds else "✗")
    a, b = medians(check)
    fig = (f"median {a:.4g} vs {b:.4g}" if a is not None and b is not None else "no figures")
    if check.by_median:
        return (f"{mark} {check.preset}: {check.describe()}: {fig} ({seed_range(check)}; per seed it holds on "
                f"{check.wins}/{check.claim['seeds']})")
    return (f"{mark} {check.preset}: {check.describe()}: holds on {check.wins}/{check.claim['seeds']} seeds "
            f"({seed_range(check)}; {fig})")


def explain(check: ClaimCheck) -> list[str]:
    """A failed claim in plain words: what the lesson says, on which seeds it did not hold, and with
    which figures (empty for a claim that holds)."""
    if check.holds:
        return []
    c = check.claim
    text = c["text"] or check.describe()
    out = [f"  the lesson's statement did not hold on these seeds: \"{text}\""]
    if check.by_median:
        a, b = medians(check)
        figs = " vs ".join("none" if x is None else format(x, ".4g") for x in (a, b))
        factor = "" if c["factor"] == 1 else f" (factor {c['factor']:g})"
        out.append(f"  over {seed_range(check)} the medians are {figs}{factor}; a run without a figure fails it too.")
    else:
        out.append(f"  it held on {check.wins} of {len(check.pairs)} seeds ({seed_range(check)}); "
                   f"{check.needed} needed.")
    failed = []
    for seed, (mine, ref) in zip(check.seeds, check.pairs):
        if holds(mine, ref, c["relation"], c["factor"]):
            continue
        if mine is None or ref is None:
            failed.append(f"seed {seed}: {'this run' if mine is None else 'the reference'} gave no figure "
                          "(it failed or diverged)")
        else:
            failed.append(f"seed {seed}: {mine:.4g} vs {ref:.4g}")
    if failed:
        out.append("  not on " + "; ".join(failed[:8]) + (f"; and {len(failed) - 8} more" if len(failed) > 8 else ""))
    return out

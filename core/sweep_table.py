"""The lecture-style table of a sweep: one row per setting, each figure as mean ± sd and
min-max over the seeds, and "better than row R on k/n seeds" (paired by seed)."""

from __future__ import annotations

import csv
import io
import math

# metric -> True when higher is better
METRICS = {
    "best_val_loss": False, "train_loss": False, "final_train_loss": False, "min_train_loss": False,
    "final_val_loss": False, "baseline_val_loss": False, "val_acc": True, "train_acc": True, "best_val_acc": True,
    "small_weights": True,
}


FINISHED = ("completed", "early_stop", "diverged")  # a run that stopped, failed or never ran is left out


def stats(values: list[float]) -> dict | None:
    vals = [v for v in values if v is not None and math.isfinite(v)]
    if not vals:
        return None
    n = len(vals)
    mean = sum(vals) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in vals) / (n - 1)) if n > 1 else 0.0
    return {"mean": mean, "sd": sd, "min": min(vals), "max": max(vals), "n": n}


def better(a: float | None, b: float | None, metric: str) -> bool | None:
    if a is None or b is None:
        return None
    return a > b if METRICS[metric] else a < b


def wins(mine: dict, ref: dict, metric: str) -> tuple[int, int]:
    """(seeds where ``mine`` beats ``ref``, seeds both have): ``mine``/``ref`` map seed -> summary."""
    pairs = [better(mine[s].get(metric), ref[s].get(metric), metric) for s in mine if s in ref]
    pairs = [p for p in pairs if p is not None]
    return sum(pairs), len(pairs)


def build(labels: list[str], runs: list[dict], ref: int = 0, metric: str = "best_val_loss") -> list[dict]:
    """``runs``: dicts with ``row``, ``seed`` and a run summary (None-valued figures allowed)."""
    by_row: list[dict] = [{} for _ in labels]
    for r in runs:
        if r.get("reason") in FINISHED:
            by_row[r["row"]][r["seed"]] = r
    table = []
    for i, label in enumerate(labels):
        seeds = by_row[i]
        entry = {"row": i, "setting": label, "runs": len(seeds),
                 "diverged": sum(1 for r in seeds.values() if r["reason"] == "diverged")}
        for m in METRICS:
            entry[m] = stats([r.get(m) for r in seeds.values()])
        if i != ref and 0 <= ref < len(labels):
            k, n = wins(seeds, by_row[ref], metric)
            entry["better_than"] = {"row": ref, "metric": metric, "wins": k, "of": n}
        table.append(entry)
    return table


def _cell(s: dict | None, fmt: str = ".4g") -> str:
    if s is None:
        return "-"
    return f"{s['mean']:{fmt}} ± {s['sd']:{fmt}}  [{s['min']:{fmt}}-{s['max']:{fmt}}]"


def columns(table: list[dict]) -> list[tuple[str, str]]:
    cols = [("train_loss", "train loss @best"), ("best_val_loss", "val loss (best)")]
    if any(e["baseline_val_loss"] for e in table):
        cols.append(("baseline_val_loss", "linear baseline val"))
    if any(e["val_acc"] for e in table):
        cols.append(("val_acc", "val acc @best"))
    return cols


def format_table(table: list[dict]) -> str:
    """Plain text, one line per setting, columns padded (no colour, no escape bytes)."""
    cols = columns(table)
    head = ["#", "setting", "runs", *(c[1] for c in cols), "vs ref"]
    body = []
    for e in table:
        b = e.get("better_than")
        vs = (f"better than row {b['row']} on {b['wins']}/{b['of']} seeds" if b else "(reference)")
        body.append([str(e["row"]), e["setting"], str(e["runs"]) + (f" ({e['diverged']} div)" if e["diverged"]
                     else ""), *(_cell(e[k], ".3f" if k.endswith("acc") else ".4g") for k, _ in cols), vs])
    widths = [max(len(r[j]) for r in [head, *body]) for j in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in [head, *body]]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def table_csv(table: list[dict]) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    head = ["row", "setting", "runs", "diverged"]
    for m in METRICS:
        head += [f"{m}_mean", f"{m}_sd", f"{m}_min", f"{m}_max"]
    w.writerow(head + ["ref_row", "wins", "of"])
    for e in table:
        line = [e["row"], e["setting"], e["runs"], e["diverged"]]
        for m in METRICS:
            s = e[m]
            line += [repr(s[k]) if s else "" for k in ("mean", "sd", "min", "max")]
        b = e.get("better_than")
        w.writerow(line + ([b["row"], b["wins"], b["of"]] if b else ["", "", ""]))
    return out.getvalue()

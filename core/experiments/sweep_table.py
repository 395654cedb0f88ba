"""The lecture-style table of a sweep: one row per setting, each figure as mean ± sd and
min-max over the seeds (less detail when the terminal is narrow), and "better than row R on k/n
seeds" (paired by seed)."""

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


def _cell(s: dict | None, fmt: str = ".4g", ranges: bool = True) -> str:
    if s is None:
        return "-"
    cell = f"{s['mean']:{fmt}} ± {s['sd']:{fmt}}"
    return cell + (f"  [{s['min']:{fmt}}-{s['max']:{fmt}}]" if ranges else "")


def columns(table: list[dict]) -> list[tuple[str, str, str]]:
    """(metric, header, short header) of the figures the table shows."""
    cols = [("train_loss", "train loss @best", "train@best"), ("best_val_loss", "val loss (best)", "val best")]
    if any(e["baseline_val_loss"] for e in table):
        cols.append(("baseline_val_loss", "linear baseline val", "linear val"))
    if any(e["val_acc"] for e in table):
        cols.append(("val_acc", "val acc @best", "val acc"))
    return cols


# the levels of detail tried in turn until the table fits the width: (digits, min-max, long words)
DETAIL = ((4, True, True), (4, False, True), (4, False, False), (3, False, False))


def _rows(table: list[dict], digits: int, ranges: bool, long: bool) -> list[list[str]]:
    cols = columns(table)
    head = ["#", table[0].get("_setting_head", "setting") if table else "setting", "runs",
            *(c[1] if long else c[2] for c in cols), "vs ref"]
    body = []
    for e in table:
        b = e.get("better_than")
        if b:
            vs = (f"better than row {b['row']} on {b['wins']}/{b['of']} seeds" if long
                  else f"beats #{b['row']} {b['wins']}/{b['of']}")
        else:
            vs = "(reference)" if long else "(ref)"
        runs = str(e["runs"]) + (f" ({e['diverged']} div)" if e["diverged"] else "")
        cells = [_cell(e[k], f".{digits - 1}f" if k.endswith("acc") else f".{digits}g", ranges) for k, *_ in cols]
        body.append([str(e["row"]), e["setting"], runs, *cells, vs])
    return [head, *body]


def _lines(rows: list[list[str]], width: int | None, shortest: int = 7, strict: bool = True) -> list[str] | None:
    """The padded lines; with ``width``, the settings' labels cut (to no less than ``shortest``) to
    fit it, or None when that is not enough (``strict``; else cut to ``shortest``)."""
    widths = [max(len(r[j]) for r in rows) for j in range(len(rows[0]))]
    over = sum(widths) + 2 * (len(widths) - 1) - width if width is not None else 0
    if over > 0:
        if widths[1] - over < min(shortest, widths[1]) and strict:
            return None
        widths[1] = max(widths[1] - over, min(shortest, widths[1]))
    cut = [[c if j != 1 or len(c) <= widths[1] else c[:widths[1] - 1] + "…" for j, c in enumerate(r)] for r in rows]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cut]
    lines.insert(1, "-" * len(lines[0]))
    return lines


def format_table(table: list[dict], width: int | None = None) -> str:
    """Plain text, one line per setting, columns padded (no colour, no escape bytes). With ``width``,
    less detail until it fits: min-max left out, shorter words, settings' labels as their values,
    fewer digits, labels cut (--json and table.csv keep every figure)."""
    short = values_only(table)
    uncut = 10 ** 6  # no label cut at all
    tries = [*((table, d, 24) for d in DETAIL), *((short, d, uncut) for d in (*DETAIL[2:], (2, False, False))),
             (short, DETAIL[-1], 12)]
    for t, level, shortest in tries:
        lines = _lines(_rows(t, *level), width, shortest)
        if lines is not None:
            return "\n".join(lines)
    return "\n".join(_lines(_rows(short, 2, False, False), width, strict=False))


def values_only(table: list[dict]) -> list[dict]:
    """The settings' labels without their keys ('hidden=[4] lr=0.01' -> '[4] 0.01'), the keys named
    once in the header, for narrow terminals."""
    keys = [[tok.split("=", 1)[0] for tok in e["setting"].split(" ")] for e in table]
    if not table or "=" not in table[0]["setting"] or any(k != keys[0] for k in keys):
        return table
    keys = keys[0]
    out = [{**e, "setting": " ".join(tok.split("=", 1)[-1] for tok in e["setting"].split(" "))} for e in table]
    out[0]["_setting_head"] = " ".join(keys)
    return out


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

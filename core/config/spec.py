"""Presets: load a TOML file (by shipped name or by path), apply ``--set`` overrides,
fill defaults and validate every value with an error that names the file, the key,
what was given and what is allowed.

The schema is a table of :class:`Field` per section. Generator parameters in
``[data]`` come from the generator functions' own signatures (see ``data.py``),
so adding a generator needs no change here.
"""

from __future__ import annotations

import copy
import difflib
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from ..data.generators import GENERATORS
from ..engine import nn
from ..errors import SpecError
from ..training.pacing import pace_value
from .fields import Field
from .limits import check_model_size, check_nesting, read_preset_toml
from .tomlread import tomllib

ACTIVATIONS = (*(a for a in nn.ACTIVATIONS if a != "identity"), "identity")  # the names nn.py defines
TOPICS = ("lecture", "playground", "hw01", "template")


SCHEMA: dict[str, dict[str, Field]] = {
    "about": {
        "title": Field("str", "", help="a one-line title"),
        "topic": Field("str", "playground", choices=TOPICS),
        "note": Field("str", "", help="the teaching note shown in the app"),
        "order": Field("int", 100, help="sort order inside the topic"),
    },
    "data": {
        "kind": Field("str", required=True, help="a generator name or 'csv'"),
        "valid_ratio": Field("float", 0.2, min=0.0, max=0.9),
        "seed": Field("int", 0, min=0, help="seed of the synthetic data (the split: split_seed)"),
        "split_seed": Field("int", -1, min=-1, max=2**32 - 1, help="seed of the data split; -1: training.seed"),
        "split": Field("str", "random", choices=("random", "course", "time"),
                       help="random: NumPy shuffle; course: torch's random_split as the ML2022 course seeds "
                            "it (the split seed); time: rows in order, train first, then validation, test"),
        "test_ratio": Field("float", 0.0, min=0.0, max=0.9, help="rows held out as a test split; the summary "
                            "reports the test loss of the best-validation weights"),
    },
    "model": {
        "hidden": Field("list[int]", [16], min=1, help="hidden layer sizes, e.g. [16, 8]; [] is a linear model"),
        "activation": Field("str|list[str]", "relu", choices=ACTIVATIONS),
        "init": Field("str", "he", choices=("he", "xavier", "torch", "normal")),
        "init_scale": Field("float", 1.0, min=0.0, max=100.0, help="std for init='normal', a multiplier otherwise"),
    },
    "loss": {
        "name": Field("str", "mse", choices=("mse", "cross_entropy")),
    },
    "optimizer": {
        "name": Field("str", "adam", choices=("sgd", "adam", "adamw")),
        "lr": Field("float", 1e-3, min=0.0, max=100.0),
        "momentum": Field("float", 0.0, min=0.0, max=0.999999),
        "weight_decay": Field("float", 0.0, min=0.0),
        "l1": Field("float", 0.0, min=0.0, help="L1 penalty on weights: after each step every weight shrinks "
                    "by lr*l1 towards zero; one that would cross zero becomes exactly 0"),
        "beta1": Field("float", 0.9, min=0.0, max=0.999999),
        "beta2": Field("float", 0.999, min=0.0, max=0.999999999),
        "eps": Field("float", 1e-8, min=0.0),
    },
    "training": {
        "epochs": Field("int", 100, min=1, max=10_000_000),
        "batch_size": Field("int", 32, min=0, help="0 means the full training set in one batch"),
        "patience": Field("int", 0, min=0, help="early stop after this many epochs without a better "
                          "validation loss; 0 turns it off"),
        "seed": Field("int", 0, min=0, max=2**32 - 1, help="the shuffles; the split and init unless set apart"),
        "init_seed": Field("int", -1, min=-1, max=2**32 - 1, help="seed of the initial weights; -1: training.seed"),
        "dtype": Field("str", "float32", choices=("float32", "float64")),
        "backend": Field("str", "numpy", choices=("numpy", "torch", "auto"),
                         help="auto: the fastest of numpy / torch CPU / CUDA, by a short measured probe"),
        "device": Field("str", "auto", help="auto | cpu | cuda | cuda:N | mps (torch backend)"),
        "graph": Field("bool", False, help="torch on CUDA: capture the training step in a CUDA graph"),
        "exact_train_acc": Field("bool", False, help="classification: measure the training accuracy with an "
                                 "extra pass over the training set each epoch (default: the epoch's own batches)"),
        "pace": Field("pace", "auto", help="updates per second in the app: 'max', a number, or 'auto' (generated "
                      "data: about 20 s a run; CSV: max); `dltui train` runs at max unless --pace"),
    },
}

# [claim]: what a lesson preset teaches, checked across seeds by `dltui check` (core/claims.py)
CLAIM_METRICS = ("best_val_loss", "train_loss", "final_train_loss", "min_train_loss", "final_val_loss",
                 "baseline_val_loss", "val_acc", "train_acc", "best_val_acc", "small_weights")
CLAIM_FIELDS: dict[str, Field] = {
    "metric": Field("str", "best_val_loss", choices=CLAIM_METRICS, help="the figure compared, per seed"),
    "relation": Field("str", required=True, choices=("below", "above")),
    "than": Field("str", "", help="another preset; empty: this preset with than_set, or the number value"),
    "than_set": Field("list[str]", [], help="KEY=VALUE overrides of the reference, e.g. ['model.hidden=[56]']"),
    "than_metric": Field("str", "", choices=("", *CLAIM_METRICS), help="the reference's figure (default: metric)"),
    "value": Field("float", 0.0, help="a fixed bound, when there is no reference run"),
    "factor": Field("float", 1.0, min=1.0, help="below: mine*factor < ref; above: mine > ref*factor"),
    "seeds": Field("int", 5, min=1, max=100),
    "wins": Field("int", 0, min=0, help="seeds on which it must hold; 0 means all"),
    "by": Field("str", "seeds", choices=("seeds", "median"),
                help="seeds: it holds on at least `wins` seeds; median: the medians over the seeds compare"),
    "seed_keys": Field("list[str]", ["training.seed", "data.seed"], help="the keys each seed sets"),
    "text": Field("str", "", help="the claim in words"),
}
EXTRA_SECTIONS: dict[str, dict[str, Field]] = {"claim": CLAIM_FIELDS}  # optional: only where given

CSV_FIELDS: dict[str, Field] = {
    "path": Field("str", "", help="the CSV file (give it with --data PATH)"),
    "target": Field("str", "", help="target column name (its last occurrence) or index; default the last column"),
    "features": Field("str|list[str]", "all", help="names, glob patterns or indices; 'all' for every column"),
    "drop": Field("list[str]", ["id"], help="columns never used as features"),
    "top_k": Field("int", 0, min=0, help="keep the k features most correlated with the target (0 = all)"),
    "normalize": Field("bool", True, help="z-score features with the training split's mean and std"),
    "id_column": Field("str", "id", help="the id column written by predict"),
    "needs": Field("str", "", help="what to tell a person who did not give --data"),
    "file": Field("str", "", help="the file this preset trains on, named when another file is given"),
    "n_columns": Field("list[int]", [], min=1, help="the column counts a valid training file has ([] = any)"),
}


@dataclass
class Section:
    """Attribute access to one validated section: ``spec.training.epochs``."""

    _values: dict

    def __getattr__(self, key: str) -> Any:
        try:
            return self._values[key]
        except KeyError:
            raise AttributeError(key) from None

    def get(self, key: str, default: Any = None) -> Any:
        return self._values.get(key, default)

    def as_dict(self) -> dict:
        return dict(self._values)


class Spec:
    """A validated preset. ``spec.values`` is the resolved dict (defaults filled)."""

    def __init__(self, values: dict, name: str, source: str):
        self.values = values
        self.name = name
        self.source = source

    def __getattr__(self, section: str) -> Section:
        if section in SCHEMA:
            return Section(self.values[section])
        raise AttributeError(section)

    @property
    def activations(self) -> list[str]:
        act = self.values["model"]["activation"]
        hidden = self.values["model"]["hidden"]
        return list(act) if isinstance(act, list) else [act] * len(hidden)

    @property
    def task(self) -> str:
        return "classification" if self.values["loss"]["name"] == "cross_entropy" else "regression"

    def with_overrides(self, overrides: dict[str, Any] | list[str]) -> Spec:
        values = copy.deepcopy(self.values)
        given = apply_overrides(values, overrides, self.source)
        return Spec(validate(values, self.source, given), self.name, self.source)

    def to_toml(self) -> str:
        return dumps_toml(self.values)

    def __repr__(self) -> str:
        return f"Spec({self.name!r} from {self.source})"


# ---------------------------------------------------------------- loading


def preset_dir() -> Path:
    return Path(str(resources.files("dltui.presets")))


def shipped_presets() -> dict[str, Path]:
    return {p.stem: p for p in sorted(preset_dir().glob("*.toml"))}


def resolve_preset_path(name_or_path: str | Path) -> Path:
    p = Path(name_or_path)
    if p.suffix == ".toml" or p.exists():
        if not p.is_file():
            raise SpecError(f"{p}: no such preset file.")
        return p
    shipped = shipped_presets()
    if str(name_or_path) in shipped:
        return shipped[str(name_or_path)]
    close = difflib.get_close_matches(str(name_or_path), list(shipped), n=3)
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    raise SpecError(
        f"No preset named '{name_or_path}'.{hint} `dltui list` shows the presets; "
        "a path to your own .toml file works too."
    )


def load_preset(name_or_path: str | Path, overrides: dict[str, Any] | list[str] | None = None) -> Spec:
    """Load a shipped preset by name or a TOML file by path, apply overrides, validate."""
    path = resolve_preset_path(name_or_path)
    raw = read_preset_toml(path)
    given = set()
    if overrides:
        given = apply_overrides(raw, overrides, str(path))
    return Spec(validate(raw, str(path), given), path.stem, str(path))


def parse_override(item: str) -> tuple[str, Any]:
    """'optimizer.lr=3e-4' -> ('optimizer.lr', 0.0003). Values are TOML, or else plain strings."""
    if "=" not in item:
        raise SpecError(f"--set {item!r}: expected section.key=value, e.g. --set optimizer.lr=3e-4.")
    key, text = item.split("=", 1)
    key, text = key.strip(), text.strip()
    check_nesting(key, text)
    try:
        value = tomllib.loads(f"v = {text}")["v"]
    except (tomllib.TOMLDecodeError, RecursionError):
        value = text
    return key, value


def apply_overrides(values: dict, overrides: dict[str, Any] | list[str], source: str) -> set[str]:
    """Set each 'section.key' in ``values``; returns the keys set, so errors can say they came from --set."""
    items = [parse_override(o) for o in overrides] if isinstance(overrides, list) else list(overrides.items())
    for key, value in items:
        if key.count(".") != 1:
            raise SpecError(
                f"--set {key}={value!r}: the key must be section.key, one of the sections "
                f"{', '.join(SCHEMA)} (e.g. training.epochs)."
            )
        section, name = key.split(".")
        if section not in SCHEMA:
            raise SpecError(_unknown(f"--set {key}={value!r}", "section", section, list(SCHEMA)))
        if not isinstance(values.get(section, {}), dict):
            raise SpecError(f"{source}: [{section}] must be a table.")
        values.setdefault(section, {})[name] = value
    return {k for k, _ in items}


# ---------------------------------------------------------------- validation


def _unknown(source: str, what: str, name: str, allowed: list[str]) -> str:
    close = difflib.get_close_matches(name, allowed, n=1)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    return f"{source}: unknown {what} '{name}'.{hint} Allowed: {', '.join(allowed)}."


def _describe(f: Field) -> str:
    if f.choices:
        return "one of " + ", ".join(map(str, f.choices))
    def num(v: float) -> str:
        return str(int(v)) if float(v).is_integer() and abs(v) < 1e15 else f"{v:g}"

    rng = ""
    if f.min is not None and f.max is not None:
        rng = f" between {num(f.min)} and {num(f.max)}"
    elif f.min is not None:
        rng = f" >= {num(f.min)}"
    elif f.max is not None:
        rng = f" <= {num(f.max)}"
    kinds = {"int": "a whole number", "float": "a number", "str": "a string", "bool": "true or false",
             "list[int]": "a list of whole numbers", "list[str]": "a list of strings",
             "list[float]": "a list of numbers", "str|list[str]": "a string or a list of strings",
             "pace": "'auto', 'max' or a number of updates per second > 0"}
    return kinds.get(f.kind, f.kind) + rng


def _check(source: str, section: str, key: str, value: Any, f: Field, from_set: bool = False) -> Any:
    def bad(why: str = "") -> SpecError:
        given = repr(value)
        where = f"{source} (with --set {section}.{key})" if from_set else source
        return SpecError(
            f"{where}: [{section}] {key} = {given} is not allowed{why}: expected {_describe(f)}."
            + (f" ({f.help})" if f.help else "")
        )

    def scalar(kind: str, v: Any) -> Any:
        if kind == "int":
            if isinstance(v, bool) or not isinstance(v, int):
                if not (isinstance(v, float) and v.is_integer()):
                    raise bad()
                v = int(v)  # 1e3 -> 1000, then the range check below (1e30 must not slip past it)
        elif kind == "float":
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise bad()
            v = float(v)
            if not math.isfinite(v):
                raise bad()
        elif kind == "str":
            if not isinstance(v, str):
                raise bad()
        elif kind == "bool":
            if not isinstance(v, bool):
                raise bad()
        if f.choices and v not in f.choices:
            raise bad()
        if kind in ("int", "float"):
            if f.min is not None and v < f.min:
                raise bad()
            if f.max is not None and v > f.max:
                raise bad()
        return v

    if f.kind == "pace":
        try:
            return pace_value(value)
        except (ValueError, TypeError):
            raise bad() from None
    if f.kind.startswith("list["):
        inner = f.kind[5:-1]
        if not isinstance(value, list):
            raise bad()
        return [scalar(inner, v) for v in value]
    if f.kind == "str|list[str]":
        if isinstance(value, list):
            return [scalar("str", v) for v in value]
        return scalar("str", value)
    return scalar(f.kind, value)


def data_fields(kind: str, source: str) -> dict[str, Field]:
    """Fields valid in [data] for this kind: the common ones plus the generator's parameters."""
    fields = dict(SCHEMA["data"])
    if kind == "csv":
        fields.update(CSV_FIELDS)
        return fields
    gen = GENERATORS.get(kind)
    if gen is None:
        raise SpecError(_unknown(source, "[data] kind", kind, sorted(GENERATORS) + ["csv"]))
    fields.update(gen.fields)
    return fields


def validate(raw: dict, source: str, from_set: set[str] = frozenset()) -> dict:
    if not isinstance(raw, dict):
        raise SpecError(f"{source}: a preset must be a TOML table.")
    out: dict[str, dict] = {}
    for section in raw:
        if section not in SCHEMA and section not in EXTRA_SECTIONS:
            raise SpecError(_unknown(source, "section", section, list(SCHEMA)))
        if not isinstance(raw[section], dict):
            raise SpecError(f"{source}: [{section}] must be a table, got {raw[section]!r}.")
    data_raw = raw.get("data", {})
    if "kind" not in data_raw:
        raise SpecError(f"{source}: [data] kind is missing: name a generator (e.g. 'piecewise') or 'csv'.")
    if not isinstance(data_raw["kind"], str):
        raise SpecError(f"{source}: [data] kind = {data_raw['kind']!r} is not allowed: expected a string.")
    for section, fields in SCHEMA.items():
        if section == "data":
            fields = data_fields(data_raw["kind"], source)
        out[section] = _validate_extra(raw.get(section, {}), section, fields, source, from_set)
    for section, fields in EXTRA_SECTIONS.items():
        if section in raw:
            out[section] = _validate_extra(raw[section], section, fields, source)
    act, hidden = out["model"]["activation"], out["model"]["hidden"]
    check_model_size(hidden, None, None, source, out["training"]["dtype"])
    if isinstance(act, list) and len(act) != len(hidden):
        raise SpecError(
            f"{source}: [model] activation has {len(act)} names for {len(hidden)} hidden layers "
            f"{hidden}: give one name, or one per hidden layer."
        )
    if out["data"]["valid_ratio"] + out["data"]["test_ratio"] > 0.9:
        raise SpecError(f"{source}: [data] valid_ratio + test_ratio = "
                        f"{out['data']['valid_ratio'] + out['data']['test_ratio']:g} leaves too few training rows: "
                        "keep the sum at most 0.9.")
    dev = out["training"]["device"]
    if not (dev in ("auto", "cpu", "cuda", "mps") or (dev.startswith("cuda:") and dev[5:].isdigit())):
        raise SpecError(
            f"{source}: [training] device = {dev!r} is not allowed: expected auto, cpu, cuda, cuda:N or mps."
        )
    return out


def _validate_extra(given: dict, section: str, fields: dict[str, Field], source: str,
                    from_set: frozenset | set = frozenset()) -> dict:
    """One section's values checked against its fields: unknown keys refused, defaults filled in."""
    for key in given:
        if key not in fields:
            raise SpecError(_unknown(source, f"key in [{section}]", key, list(fields)))
    vals = {}
    for key, f in fields.items():
        if key in given:
            vals[key] = _check(source, section, key, given[key], f, f"{section}.{key}" in from_set)
        elif f.required:
            raise SpecError(f"{source}: [{section}] {key} is missing: expected {_describe(f)}.")
        else:
            vals[key] = copy.deepcopy(f.default)
    return vals


# ---------------------------------------------------------------- writing


def _toml_string(v: str) -> str:
    """A TOML basic string: backslash, quote and every control character escaped."""
    out = []
    for ch in v:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return _toml_string(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {v!r} as TOML")


def dumps_toml(values: dict) -> str:
    lines = []
    for section, table in values.items():
        lines.append(f"[{section}]")
        for key, v in table.items():
            lines.append(f"{key} = {_toml_value(v)}")
        lines.append("")
    return "\n".join(lines)


def spec_from_dict(values: dict, name: str = "run", source: str = "<checkpoint>") -> Spec:
    return Spec(validate(copy.deepcopy(values), source), name, source)

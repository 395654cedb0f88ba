"""The preset editor's model: a run's preset as rows a person changes with keys (no terminal here).

Every edit is validated at once through ``core.spec`` (the CLI's own checks and messages, as if the
changed keys came from ``--set``) and, when the data changed, by building the dataset; an invalid
edit is undone and its message kept in ``error``. ``spec()`` is the edited preset, ``changes()`` what
differs from the run's, ``command()`` the equivalent ``dltui train PRESET --set ...`` line and
``write(folder)`` the preset as TOML.
"""

from __future__ import annotations

import copy
import shlex
from dataclasses import dataclass
from pathlib import Path

from dltui.core.config.spec import (
    ACTIVATIONS,
    Spec,
    _toml_value,
    data_fields,
    dumps_toml,
    load_preset,
    preset_dir,
    validate,
)
from dltui.core.data import dataset as data_mod
from dltui.core.errors import DataError, SpecError
from dltui.core.runs.store.checkpoint import atomic_write

LADDERS = {
    ("optimizer", "lr"): (1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0),
    ("optimizer", "l1"): (0.0, 1e-5, 1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0),
    ("optimizer", "weight_decay"): (0.0, 1e-5, 1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0),
    ("data", "noise"): (0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 1.5, 2.0),
    ("data", "valid_ratio"): (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9),
    ("training", "batch_size"): (0, 1, 2, 4, 8, 10, 16, 20, 30, 32, 64, 128, 256, 512, 1024),
    ("training", "epochs"): (1, 5, 10, 20, 50, 100, 200, 300, 400, 500, 1000, 1500, 2000, 3000, 5000, 10000),
}
CHOICES = {
    ("optimizer", "name"): ("sgd", "adam", "adamw"),
    ("training", "backend"): ("numpy", "torch"),
    ("training", "device"): ("auto", "cpu", "cuda", "mps"),
}
INPUT_LABELS = {"x1": "x1", "x2": "x2", "x1^2": "x1²", "x2^2": "x2²", "x1*x2": "x1·x2",
                "sin(x1)": "sin x1", "sin(x2)": "sin x2"}
MAX_UNITS = 512


@dataclass(frozen=True)
class Row:
    kind: str  # ladder | choice | layers | activation | layer | inputs | kind | seed
    label: str
    section: str = ""  # the preset key, for ladder / choice rows
    key: str = ""
    layer: int = -1  # for layer rows


def _step(ladder, value, delta: int):
    """The next ladder value above (delta > 0) or below the current one (which need not be on it)."""
    if delta > 0:
        return next((v for v in ladder if v > value + 1e-12 * abs(value)), ladder[-1])
    return next((v for v in reversed(ladder) if v < value - 1e-12 * abs(value)), ladder[0])


def _cycle(choices, value, delta: int):
    i = choices.index(value) if value in choices else -1
    return choices[(i + delta) % len(choices)]


def flat(values: dict) -> dict[str, object]:
    return {f"{s}.{k}": v for s, table in values.items() for k, v in table.items()}


def shown(v) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, list):
        return "[" + ", ".join(shown(x) for x in v) + "]"
    return str(v)


def data_kinds(base_kind: str) -> list[str]:
    """The data sets to choose from: the 2-D Playground sets, the 1-D curves, the rest; csv only if the
    run's preset reads one (it needs a file)."""
    gens = data_mod.GENERATORS
    two_d = [k for k, g in gens.items() if "inputs" in g.fields]
    curves = [k for k, g in gens.items() if k not in two_d and g.task == "regression" and "x_min" in g.fields]
    rest = [k for k in gens if k not in two_d and k not in curves]
    return two_d + curves + rest + (["csv"] if base_kind == "csv" else [])


class PresetEdit:
    """A preset being edited. ``rows`` and ``cursor`` are what the screen draws."""

    def __init__(self, spec: Spec):
        self.base = spec
        self.values = copy.deepcopy(spec.values)
        self.cursor = 0
        self.input_cursor = 0
        self.error = ""
        self._base_data = copy.deepcopy(spec.values["data"])
        self._spec = spec

    # ------------------------------------------------------------ rows
    @property
    def hidden(self) -> list[int]:
        return self.values["model"]["hidden"]

    @property
    def activations(self) -> list[str]:
        act = self.values["model"]["activation"]
        return list(act) if isinstance(act, list) else [act] * len(self.hidden)

    @property
    def has_inputs(self) -> bool:
        return "inputs" in self.values["data"]

    def rows(self) -> list[Row]:
        rows = [Row("layers", "hidden layers"), Row("activation", "activation")]
        rows += [Row("layer", f"layer {i + 1}", layer=i) for i in range(len(self.hidden))]
        if self.has_inputs:
            rows.append(Row("inputs", "inputs"))
        rows.append(Row("kind", "data set"))
        if "noise" in self.values["data"]:
            rows.append(Row("ladder", "noise", "data", "noise"))
        rows += [Row("ladder", "validation ratio", "data", "valid_ratio"), Row("seed", "data seed"),
                 Row("ladder", "batch size", "training", "batch_size"),
                 Row("ladder", "learning rate", "optimizer", "lr"), Row("choice", "optimizer", "optimizer", "name"),
                 Row("ladder", "L1", "optimizer", "l1"),
                 Row("ladder", "L2 (weight decay)", "optimizer", "weight_decay"),
                 Row("ladder", "epochs", "training", "epochs"), Row("choice", "backend", "training", "backend"),
                 Row("choice", "device", "training", "device")]
        return rows

    @property
    def row(self) -> Row:
        rows = self.rows()
        self.cursor = max(0, min(self.cursor, len(rows) - 1))
        return rows[self.cursor]

    def move(self, delta: int) -> None:
        self.cursor = max(0, min(self.cursor + delta, len(self.rows()) - 1))

    def value_text(self, row: Row) -> str:
        v, d = self.values, self.values["data"]
        if row.kind == "layers":
            return f"{len(self.hidden)}  {shown(self.hidden)}" if self.hidden else "0  (a linear model)"
        if row.kind == "activation":
            acts = set(self.activations)
            return acts.pop() if len(acts) == 1 else ("mixed" if acts else "-")
        if row.kind == "layer":
            return f"{self.hidden[row.layer]:>3} units  {self.activations[row.layer]}"
        if row.kind == "inputs":
            return " ".join(f"[{INPUT_LABELS[n]}]" if n in d["inputs"] else f" {INPUT_LABELS[n]} "
                            for n in data_mod.PLAYGROUND_INPUTS)
        if row.kind == "kind":
            g = data_mod.GENERATORS.get(d["kind"])
            return f"{d['kind']} ({g.task if g else 'your CSV file'})"
        if row.kind == "seed":
            return str(d["seed"])
        return shown(v[row.section][row.key])

    def hint(self) -> str:
        """What the keys do on the current row."""
        k = self.row.kind
        if k == "layers":
            return "←→ remove / add a layer"
        if k == "layer":
            return "←→ or -/+ units · space next activation · a add a layer · x remove this one"
        if k == "inputs":
            return "←→ pick an input · space turn it on / off"
        if k == "seed":
            return "space or → regenerate the data (a new data seed) · ← the previous seed"
        if k == "ladder":
            return "←→ smaller / larger · type a number to enter it"
        return "←→ the previous / next choice"

    # ------------------------------------------------------------ edits (each validated, undone if invalid)
    def _edit(self, fn) -> bool:
        before, row = copy.deepcopy(self.values), self.row
        try:
            return self._apply(fn, before)
        finally:  # the cursor stays on its row when rows come or go (a layer, the inputs row)
            rows = self.rows()
            if row in rows:
                self.cursor = rows.index(row)
            else:
                self.move(0)

    def _apply(self, fn, before: dict) -> bool:
        try:
            fn(self.values)
            self._spec = self.check()
            self.values = copy.deepcopy(self._spec.values)
        except (SpecError, DataError) as e:
            self.values, self.error = before, str(e)
            return False
        self.error = ""
        return True

    def check(self) -> Spec:
        """The edited values as a Spec, validated as the CLI validates ``--set`` keys; the data is built
        when it changed (a split without both classes, no inputs: the CLI's messages)."""
        changed = {k for k, (old, new) in self._diff(self.base.values).items()}
        spec = Spec(validate(copy.deepcopy(self.values), self.base.source, changed), self.base.name,
                    self.base.source)
        if any(k.startswith(("data.", "loss.", "training.seed")) for k in changed):
            data_mod.load_dataset(spec)
        return spec

    def change(self, delta: int) -> bool:
        row = self.row
        if row.kind == "layers":
            return self.add_layer(len(self.hidden)) if delta > 0 else self.remove_layer(len(self.hidden) - 1)
        if row.kind == "inputs":
            self.input_cursor = (self.input_cursor + delta) % len(data_mod.PLAYGROUND_INPUTS)
            return True
        if row.kind == "seed":
            return self._edit(lambda v: v["data"].__setitem__("seed", max(0, v["data"]["seed"] + delta)))
        if row.kind == "kind":
            kinds = data_kinds(self._base_data["kind"])
            return self.set_kind(_cycle(kinds, self.values["data"]["kind"], delta))
        if row.kind == "activation":
            new = _cycle(ACTIVATIONS, self.activations[0] if self.hidden else "relu", delta)
            return self._edit(lambda v: v["model"].__setitem__("activation", new))
        if row.kind == "layer":
            units = max(1, min(MAX_UNITS, self.hidden[row.layer] + delta))
            return self._edit(lambda v: v["model"]["hidden"].__setitem__(row.layer, units))
        cur = self.values[row.section][row.key]
        new = (_step(LADDERS[(row.section, row.key)], cur, delta) if row.kind == "ladder"
               else _cycle(CHOICES[(row.section, row.key)], cur, delta))
        return self._edit(lambda v: v[row.section].__setitem__(row.key, new))

    def toggle(self) -> bool:
        """space: the row's own action (a layer's activation, an input on/off, new data), else →."""
        row = self.row
        if row.kind == "layer":
            acts = self.activations
            acts[row.layer] = _cycle(ACTIVATIONS, acts[row.layer], 1)
            return self._edit(lambda v: v["model"].__setitem__("activation", acts))
        if row.kind == "inputs":
            name = list(data_mod.PLAYGROUND_INPUTS)[self.input_cursor]
            cur = self.values["data"]["inputs"]
            new = [n for n in data_mod.PLAYGROUND_INPUTS if (n in cur) != (n == name)]
            return self._edit(lambda v: v["data"].__setitem__("inputs", new))
        return self.change(1)

    def add_layer(self, at: int | None = None) -> bool:
        """A hidden layer after the current one (or at ``at``): a copy of its neighbour's size and activation."""
        row = self.row
        at = (row.layer + 1 if row.kind == "layer" else len(self.hidden)) if at is None else at
        acts, hidden = self.activations, list(self.hidden)
        src = min(max(at - 1, 0), len(hidden) - 1)
        size, act = (hidden[src], acts[src]) if hidden else (4, "relu")
        hidden.insert(at, size)
        acts.insert(at, act)
        return self._edit(lambda v: v["model"].update(hidden=hidden, activation=_one_or_list(acts)))

    def remove_layer(self, at: int | None = None) -> bool:
        row = self.row
        at = (row.layer if row.kind == "layer" else len(self.hidden) - 1) if at is None else at
        if not self.hidden or at < 0:
            self.error = "no hidden layer to remove: this is a linear model"
            return False
        hidden, acts = list(self.hidden), self.activations
        del hidden[at], acts[at]
        return self._edit(lambda v: v["model"].update(hidden=hidden, activation=_one_or_list(acts) if acts else "relu"))

    def set_kind(self, kind: str) -> bool:
        """Another data set: its own parameters (the shared ones kept), the loss that fits its task."""
        def apply(v):
            old = v["data"]
            if kind == self._base_data["kind"]:
                new = copy.deepcopy(self._base_data)
            else:
                fields = data_fields(kind, self.base.source)
                new = {"kind": kind, **{k: old[k] for k in fields if k in old and k not in ("kind", "inputs")}}
                if "inputs" in fields:
                    new["inputs"] = list(old.get("inputs") or self._base_data.get("inputs") or ["x1", "x2"])
            new["valid_ratio"], new["seed"] = old["valid_ratio"], old["seed"]
            v["data"] = new
            gen = data_mod.GENERATORS.get(kind)
            task = gen.task if gen else self.base.task
            v["loss"]["name"] = "cross_entropy" if task == "classification" else "mse"
        self.input_cursor = 0
        return self._edit(apply)

    def set_text(self, text: str) -> bool:
        """A typed value for the current row (a number: TOML syntax, as after --set key=)."""
        from dltui.core.config.spec import parse_override

        row = self.row
        _, value = parse_override(f"v={text}")
        if row.kind == "layer":
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                self.error = f"layer {row.layer + 1}: '{text}' is not allowed: expected a whole number >= 1"
                return False
            return self._edit(lambda v: v["model"]["hidden"].__setitem__(row.layer, value))
        if row.kind == "seed":
            return self._edit(lambda v: v["data"].__setitem__("seed", value))
        if row.kind in ("ladder", "choice"):
            return self._edit(lambda v: v[row.section].__setitem__(row.key, value))
        self.error = f"{row.label}: use the arrow keys here"
        return False

    # ------------------------------------------------------------ results
    def spec(self) -> Spec:
        return self._spec

    def _diff(self, base_values: dict) -> dict[str, tuple]:
        a, b = flat(base_values), flat(self.values)
        return {k: (a.get(k), b.get(k)) for k in list(a) + [k for k in b if k not in a] if a.get(k) != b.get(k)}

    def changes(self) -> list[str]:
        """What differs from the run's preset, one phrase a key: 'model.hidden [16, 16] → [16, 16, 8]'."""
        out = []
        for k, (old, new) in self._diff(self.base.values).items():
            if k == "data.inputs" and isinstance(old, list) and isinstance(new, list):
                parts = [f"+{n}" for n in new if n not in old] + [f"-{n}" for n in old if n not in new]
                out.append(f"inputs {' '.join(parts)}")
            elif new is None:
                out.append(f"{k} dropped")
            elif old is None and k.startswith("data."):
                continue  # a new data set's own parameters, at their defaults
            else:
                out.append(f"{k.split('.', 1)[1] if k.startswith(('model.', 'optimizer.', 'training.')) else k} "
                           f"{shown(old) if old is not None else '-'} → {shown(new)}")
        return out

    def preset_ref(self) -> str:
        src = Path(self.base.source)
        try:
            shipped = src.resolve().parent == preset_dir().resolve()
        except OSError:
            shipped = False
        return self.base.name if shipped else str(self.base.source)

    def command(self) -> str | None:
        """`dltui train PRESET --set ...` that gives these values, or None when --set cannot express them
        (a data set switched: keys of the old one must go; the written TOML file works then)."""
        try:
            start = load_preset(self.preset_ref())
        except (SpecError, DataError, OSError):
            return None
        diff = {k: new for k, (old, new) in self._diff(start.values).items() if not k.startswith("about.")}
        if any(v is None for v in diff.values()):
            return None
        try:
            if start.with_overrides(diff).values != {**self.values, "about": start.values["about"]}:
                return None
        except (SpecError, DataError):
            return None
        sets = " ".join(f"--set {shlex.quote(k + '=' + _arg(v))}" for k, v in diff.items())
        return f"dltui train {shlex.quote(self.preset_ref())}" + (f" {sets}" if sets else "")

    def write(self, folder: str | Path = ".") -> Path:
        """The edited preset as TOML in ``folder``: NAME-edit.toml (-2, -3, ... never overwriting)."""
        folder = Path(folder)
        path, n = folder / f"{self.base.name}-edit.toml", 1
        while path.exists():
            n += 1
            path = folder / f"{self.base.name}-edit-{n}.toml"
        atomic_write(path, dumps_toml(self.spec().values))
        return path


def _one_or_list(acts: list[str]):
    return acts[0] if acts and len(set(acts)) == 1 else list(acts)


def _arg(v) -> str:
    """A value as --set reads it back: bare words for plain names, TOML otherwise."""
    if isinstance(v, str) and v.replace("_", "").replace("-", "").isalnum():
        return v
    return _toml_value(v).replace(", ", ",")

"""The first screen: every preset by topic, a filter, the highlighted preset's details, Enter starts it.

Presets come from the package, from ``*.toml`` in the current folder and from ``--preset PATH``.
Presets that train on a CSV get an input for the file's path; a missing or broken file gives a
message here instead of a dashboard.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

OWN_TOPIC = "yours"
OWN_TITLE = "Your presets (this folder, --preset)"


def preset_entries(extra: list[str] | tuple = (), scan_dir: str | Path | None = ".") -> list[dict]:
    """Shipped presets plus the user's files, each {name, path, topic, order, title}."""
    from dltui.core.config.spec import SpecError, load_preset
    from dltui.tui.commands.list_cmd import preset_index

    out = preset_index()
    paths: list[Path] = [Path(p) for p in extra]
    if scan_dir is not None:
        paths += [p for p in sorted(Path(scan_dir).glob("*.toml")) if looks_like_preset(p)]
    seen = set()
    for p in paths:
        key = str(p.resolve()) if p.exists() else str(p)
        if key in seen:
            continue
        seen.add(key)
        try:
            a = load_preset(p).values["about"]
            title = a["title"]
        except SpecError as e:
            title = f"cannot be loaded: {e}"
        except OSError as e:
            title = f"cannot be read: {e}"
        from dltui.core.sanitize import safe_line  # a user's file: its name and title are data

        out.append({"name": safe_line(p.stem), "path": str(p), "topic": OWN_TOPIC, "order": 0,
                    "title": safe_line(title)})
    return out


def looks_like_preset(path: Path) -> bool:
    """A TOML file in the folder counts as a preset if it has a [model] or [data] table."""
    from dltui.core.config.tomlread import tomllib

    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(raw.get("model"), dict) or isinstance(raw.get("data"), dict)


def grouped(entries: list[dict], text: str = "") -> list[tuple[str, list[dict]]]:
    """Entries matching every word of ``text`` (in name, title or topic), by topic in the list order."""
    from dltui.tui.commands.list_cmd import TOPIC_TITLES

    words = text.lower().split()
    titles = {**TOPIC_TITLES, OWN_TOPIC: OWN_TITLE}
    keep = [e for e in entries
            if all(w in f"{e['name']} {e['title']} {e['topic']} {titles.get(e['topic'], '')}".lower()
                   for w in words)]
    other = sorted({e["topic"] for e in keep} - set(TOPIC_TITLES) - {OWN_TOPIC})
    topics = list(TOPIC_TITLES) + other + [OWN_TOPIC]
    groups = []
    for t in topics:
        g = sorted((e for e in keep if e["topic"] == t), key=lambda e: (e["order"], e["name"]))
        if g:
            groups.append((titles.get(t, t), g))
    return groups


def describe(spec) -> Text:
    """The details panel: note, network, data, optimizer, training, what it needs."""
    v = spec.values
    a, d, m, o, t = v["about"], v["data"], v["model"], v["optimizer"], v["training"]
    out = Text()
    from dltui.core.sanitize import safe_line

    out.append(f"{safe_line(a['title'])}\n", "bold")
    from dltui.core.config.spec import preset_dir

    shipped = Path(spec.source).parent == preset_dir()
    out.append(safe_line(f"{spec.name}" + ("" if shipped else f" · {spec.source}")) + "\n\n", "dim")
    note = safe_line(" ".join(a.get("note", "").split()))
    if note:
        out.append(note + "\n\n")
    acts = spec.activations
    hidden = " → ".join(f"{n} {act}" for n, act in zip(m["hidden"], acts)) or "no hidden layer"
    out_layer = "softmax classes" if spec.task == "classification" else "1 output"
    rows = [("network", f"inputs → {hidden} → {out_layer} (init {m.get('init', 'default')})"),
            ("loss", f"{v['loss']['name']} ({spec.task})")]
    split = ("" if d.get("split", "random") == "random" else f" ({d['split']} split)") + (
        f", {d['test_ratio']:.0%} for test" if d.get("test_ratio") else "")
    if d["kind"] == "csv":
        feats = d.get("features", "all")
        top = f", strongest {d['top_k']} by correlation" if d.get("top_k") else ""
        rows.append(("data", f"CSV, target '{d.get('target')}', features {feats}{top}, "
                             f"{d['valid_ratio']:.0%} for validation{split}"))
    else:
        skip = {"kind", "valid_ratio", "path", "needs", "seed", "split", "test_ratio", "split_seed"}
        params = ", ".join(f"{k} {val}" for k, val in d.items()
                           if k not in skip and val not in (None, "", []))
        rows.append(("data", f"generated '{d['kind']}' ({params}), {d['valid_ratio']:.0%} for validation{split}"))
    opt = f"{o['name']}, lr {o['lr']:g}"
    if o.get("momentum"):
        opt += f", momentum {o['momentum']:g}"
    if o.get("weight_decay"):
        opt += f", weight decay {o['weight_decay']:g}"
    rows.append(("optimizer", opt))
    pat = f", early stop after {t['patience']} epochs without progress" if t.get("patience") else ""
    batch = t["batch_size"] or "all"
    apart = "".join(f", {name} seed {v}" for name, v in (("split", d.get("split_seed", -1)),
                                                         ("init", t.get("init_seed", -1))) if v != -1)
    rows.append(("training", f"{t['epochs']} epochs, batch size {batch}{pat}, seed {t['seed']}{apart}"))
    if d["kind"] == "csv":
        rows.append(("needs", d.get("needs") or "a CSV file with a header row (give its path below)"))
    for k, val in rows:
        out.append(f"{k:<10}", "bold")
        out.append(f" {val}\n")
    return out


class PickerScreen(Screen):
    BINDINGS = [
        Binding("slash", "filter", "filter", key_display="/",
                tooltip="filter by typing (enter starts the first match, escape clears)"),
        Binding("d", "data", "data path", tooltip="type the CSV path for presets that need --data"),
        Binding("enter", "start", "start", show=True, priority=False, tooltip="open it in the dashboard"),
        Binding("C", "compare", "compare runs", tooltip="compare the highlighted preset's runs (in runs/)"),
    ]
    HELP_KEYS = [("↑ ↓", "choose a preset"), "start", "filter",
                 ("a-z", "typing a name on the list filters it too"), "data", "compare"]

    def __init__(self, extra: list[str] | tuple | None = None, scan_dir: str | Path | None | bool = True,
                 data_path: str | None = None):
        super().__init__()
        self._extra, self._scan, self._data_path = extra, scan_dir, data_path
        self.entries: list[dict] = []
        self._specs: dict[str, object] = {}
        self.current: dict | None = None

    def compose(self) -> ComposeResult:
        yield Static(Text.assemble(("dltui", "bold"), " · pick a preset · enter starts it · / filters"),
                     id="picker-title")
        with Horizontal(id="picker-body"):
            with Vertical(id="picker-left"):
                yield Input(placeholder="/ filter", id="filter", select_on_focus=False)
                yield OptionList(id="presets")
            with Vertical(id="picker-right"):
                with VerticalScroll(id="details-scroll"):
                    yield Static("", id="details")
                with Vertical(id="data-box"):
                    yield Static("CSV file (--data):", id="data-label")
                    yield Input(self._data_path or "", placeholder="path/to/file.csv", id="data-path")
                    yield Static("", id="data-msg")
        yield Footer()

    def on_mount(self) -> None:
        app = self.app
        extra = self._extra if self._extra is not None else getattr(app, "extra_presets", ())
        scan = self._scan if self._scan is not True else getattr(app, "scan_dir", ".")
        if self._data_path is None and getattr(app, "data_path", None):
            self.query_one("#data-path", Input).value = app.data_path
        self.entries = preset_entries(extra, scan)
        self._fill("")
        self.query_one("#presets", OptionList).focus()

    def on_screen_resume(self) -> None:
        """Back from a dashboard (p): a fresh filter, so the next name typed is not appended to the last."""
        f = self.query_one("#filter", Input)
        if f.value:
            f.value = ""
            self.query_one("#presets", OptionList).focus()

    # ------------------------------------------------------------ the list
    def _fill(self, text: str) -> None:
        ol = self.query_one("#presets", OptionList)
        ol.clear_options()
        first = None
        for title, group in grouped(self.entries, text):
            ol.add_option(Option(Text(title, style="bold"), disabled=True))
            for e in group:
                idx = self.entries.index(e)
                first = idx if first is None else first
                ol.add_option(Option(Text.assemble(f"  {e['name']}"), id=str(idx)))
        if first is None:
            ol.add_option(Option(Text(f"no preset matches '{text}'", style="italic"), disabled=True))
            self._show(None)
        else:
            ol.highlighted = ol.get_option_index(str(first))

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id is not None:
            self._show(self.entries[int(event.option.id)])

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is not None:
            self._show(self.entries[int(event.option.id)])
            self.action_start()

    def spec_of(self, entry: dict):
        from dltui.core.config.spec import load_preset

        if entry["path"] not in self._specs:
            self._specs[entry["path"]] = load_preset(entry["path"])
        return self._specs[entry["path"]]

    def _show(self, entry: dict | None) -> None:
        from dltui.core.config.spec import SpecError

        self.current = entry
        details = self.query_one("#details", Static)
        box = self.query_one("#data-box")
        self.query_one("#data-msg", Static).update("")
        if entry is None:
            details.update("")
            box.display = False
            return
        try:
            spec = self.spec_of(entry)
        except (SpecError, OSError) as e:
            details.update(Text.assemble((f"{entry['name']}\n\n", "bold"), ("error: ", "bold"), str(e)))
            box.display = False
            return
        details.update(describe(spec))
        box.display = spec.values["data"]["kind"] == "csv"

    # ------------------------------------------------------------ keys
    def action_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    def action_data(self) -> None:
        if self.query_one("#data-box").display:
            self.query_one("#data-path", Input).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter":
            self._fill(event.value)
        elif event.input.id == "data-path":
            self.query_one("#data-msg", Static).update("")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter":
            # as in fzf: type a few letters, enter starts the highlighted preset
            self.query_one("#presets", OptionList).focus()
            if self.current is not None:
                self.action_start()
        else:
            self.action_start()

    def on_key(self, event) -> None:
        f = self.query_one("#filter", Input)
        if self.focused is self.query_one("#presets") and event.key == "escape" and f.value:
            f.value = ""  # escape clears the filter from the list too
            event.stop()
        elif self.focused is f and event.key in ("down", "escape"):
            if event.key == "escape":
                f.value = ""
            self.query_one("#presets", OptionList).focus()
            event.stop()
        elif (self.focused is self.query_one("#presets") and event.is_printable and event.character
              and (event.character.isalnum() or event.character in "-_.")
              and (f.value or event.character not in "qdC")):
            # typing a name on the list filters it (q quits, d types the data path, C compares: the footer,
            # but not within a name); keys typed fast all reach the list before the filter has the focus:
            # hyphens, q and d too (kinks-3-sigmoids, circles-squares)
            f.value += event.character
            f.cursor_position = len(f.value)
            f.focus()
            event.stop()

    def action_compare(self) -> None:
        from dltui.tui.screens.compare_key import compare_from_picker

        if self.current is not None:
            compare_from_picker(self, Path(self.current["path"]).stem)

    def action_start(self) -> None:
        """Build the run for the highlighted preset and open the dashboard, or say what is wrong."""
        from dltui.core.runs import LiveRun
        from dltui.tui.common import user_errors

        e = self.current
        if e is None:
            return
        msg = self.query_one("#data-msg", Static)
        try:
            spec = self.spec_of(e)
            if spec.values["data"]["kind"] == "csv":
                path = self.query_one("#data-path", Input).value.strip()
                if not path:
                    msg.update(Text.assemble(("needs a CSV: ", "bold"),
                                             "type its path here and press enter."))
                    self.query_one("#data-path", Input).focus()
                    return
                if not Path(path).expanduser().is_file():
                    msg.update(Text.assemble(("error: ", "bold"), f"{path}: no such file."))
                    self.query_one("#data-path", Input).focus()
                    return
                spec = spec.with_overrides({"data.path": str(Path(path).expanduser())})
            run = LiveRun(spec, start=False)
        except user_errors() as err:
            target = msg if self.query_one("#data-box").display else self.query_one("#details", Static)
            target.update(Text.assemble(("error: ", "bold"), str(err)))
            return
        self.app.open_dashboard(spec, run)

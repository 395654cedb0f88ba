"""The documentation stays true: docs/keys.md is the app's bindings (generated), the README stays a short
page for users that still holds its two commands, and every local link in the docs points at a file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
INSTALL_RUN = "python3 -m venv .venv && . .venv/bin/activate && pip install -e . && dltui"
INSTALL_TEST = ('python3 -m venv .venv && . .venv/bin/activate && pip install torch==2.13.0 && '
                'pip install -e ".[dev,torch]" && python -m pytest -q')


def test_docs_keys_md_is_generated_from_the_bindings():
    pytest.importorskip("textual")
    from dltui.tui.keys_doc import render

    assert (ROOT / "docs" / "keys.md").read_text(encoding="utf-8") == render(), (
        "docs/keys.md is out of date with the bindings: run `python -m dltui.tui.keys_doc` from the repository root")


def test_a_new_binding_changes_the_generated_keys(monkeypatch):
    pytest.importorskip("textual")
    from dltui.tui.keys_doc import main, render
    from dltui.tui.screens.dashboard import DashboardScreen
    from textual.binding import Binding

    before = render()
    monkeypatch.setattr(DashboardScreen, "BINDINGS", [*DashboardScreen.BINDINGS,
                                                      Binding("Z", "zoom", "zoom", tooltip="zoom | the loss plot")])
    monkeypatch.setattr(DashboardScreen, "HELP_KEYS", [*DashboardScreen.HELP_KEYS, "zoom"])
    after = render()
    assert after != before and "| `Z` | zoom \\| the loss plot |" in after
    assert main(["--check", "--out", str(ROOT / "docs" / "keys.md")]) == 1


def test_keys_doc_writes_and_checks_a_file(tmp_path, capsys):
    pytest.importorskip("textual")
    from dltui.tui.keys_doc import main

    out = tmp_path / "sub" / "keys.md"
    assert main(["--check", "--out", str(out)]) == 1
    assert main(["--out", str(out)]) == 0 and main(["--check", "--out", str(out)]) == 0
    assert "## dashboard" in out.read_text(encoding="utf-8") and "up to date" in capsys.readouterr().out


def _readme() -> str:
    return (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_readme_is_a_short_page_with_both_commands():
    text = _readme()
    assert len(text.splitlines()) <= 160
    assert f"```bash\n{INSTALL_RUN}\n```" in text and f"```bash\n{INSTALL_TEST}\n```" in text
    for command in ("dltui piecewise-sigmoid", "train", "watch", "check", "sweep", "compare", "top", "predict",
                    "export"):
        assert re.search(rf"^{command if ' ' in command else 'dltui ' + command} ", text, re.M), command
    assert "dltui.monitor(" in text and "load_preset(" in text


def test_ci_runs_the_readmes_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    for part in ("python3 -m venv .venv", '"torch==2.13.0"', "-e \".[dev,torch]\"", "python -m pytest -q"):
        assert part in ci


def _docs() -> list[Path]:
    return [ROOT / "README.md", ROOT / "CONTRIBUTING.md", ROOT / "benchmarks" / "README.md",
            *sorted((ROOT / "docs").glob("*.md"))]


# docs/hw1.md is written on another branch (the HW1 presets' own page); until it lands, a link to it is allowed
NOT_HERE_YET = {"docs/hw1.md"}


@pytest.mark.parametrize("doc", _docs(), ids=lambda p: str(p.relative_to(ROOT)))
def test_local_links_point_at_files_and_headings(doc):
    text = doc.read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+://", target):
            continue
        path, _, anchor = target.partition("#")
        file = (doc.parent / path).resolve() if path else doc
        rel = file.relative_to(ROOT).as_posix() if file.is_relative_to(ROOT) else str(file)
        if rel in NOT_HERE_YET and not file.exists():
            continue
        assert file.exists(), f"{doc.name}: link to {target}: no such file"
        if anchor:
            heads = re.findall(r"^#+ (.+)$", file.read_text(encoding="utf-8"), re.M)
            slugs = {re.sub(r"[^\w\- ]", "", h.lower()).strip().replace(" ", "-") for h in heads}
            assert anchor in slugs, f"{doc.name}: link to {target}: no heading {anchor!r} in {rel}"


def test_every_command_the_docs_show_exists():
    from dltui.tui.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    commands = set(sub.choices)
    for doc in _docs():
        for block in re.findall(r"```(?:bash)?\n(.*?)```", doc.read_text(encoding="utf-8"), re.S):
            for word in re.findall(r"^\$? ?dltui ([a-z][\w-]*)", block, re.M):
                if word not in commands:  # `dltui PRESET` opens the app on a preset
                    assert (ROOT / "presets" / f"{word}.toml").exists(), f"{doc.name}: `dltui {word}` is no command"


def test_every_benchmark_the_readme_runs_exists():
    text = (ROOT / "benchmarks" / "README.md").read_text(encoding="utf-8")
    scripts = set(re.findall(r"benchmarks/([\w.]+\.(?:py|sh))", text))
    assert {"bench_numpy.py", "bench_torch.py", "bench_tmux.py", "bench_monitor.py"} <= scripts
    for s in scripts:
        assert (ROOT / "benchmarks" / s).exists(), s


def test_the_preset_schema_names_every_key():
    from dltui.core import load_preset

    text = (ROOT / "docs" / "presets.md").read_text(encoding="utf-8")
    for preset in ("piecewise-sigmoid", "csv-regression", "spiral"):
        for section, values in load_preset(preset).values.items():
            for key in values:
                if section == "data" and key not in ("kind", "path", "target") and f"`{key}`" in text:
                    continue
                assert f"`{section}.{key}`" in text or f"`{key}`" in text, f"docs/presets.md: {section}.{key}"

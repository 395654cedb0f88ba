"""The documentation stays true: docs/keys.md is the app's bindings (generated), the README stays a short
page for users that still holds its two commands, and every local link in the docs points at a file."""

from __future__ import annotations

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

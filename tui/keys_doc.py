"""docs/keys.md: the key reference, generated from the app's bindings as the in-app `?` help is.

    python -m dltui.tui.keys_doc               # (re)write docs/keys.md, from the repository root
    python -m dltui.tui.keys_doc --check       # exit 1 when docs/keys.md is out of date
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dltui.tui.app import DltuiApp
from dltui.tui.screens.help import key_sections

HEADER = """\
# dltui keys

Every key of the app, by screen: the same list as the in-app help (`?`), generated from the
bindings by `python -m dltui.tui.keys_doc` (run it from the repository root after changing a
binding; a test fails while this file is out of date). The footer shows the main ones.
"""


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|")


def _keys(keys: str) -> str:
    """A key column's text as code spans, one per key or key group (``a x, delete``: `a x`, `delete`)."""
    return ", ".join(f"`{k.strip()}`" for k in keys.split(", ") if k.strip()).replace("|", "\\|")


def render() -> str:
    """docs/keys.md's text."""
    out = [HEADER]
    for where, keys in key_sections(DltuiApp):
        out += [f"\n## {_cell(where)}\n", "\n| keys | what they do |\n|---|---|\n"]
        out += [f"| {_keys(k)} | {_cell(what)} |\n" for k, what in keys]
    return "".join(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m dltui.tui.keys_doc", description=__doc__.splitlines()[0])
    p.add_argument("--out", default="docs/keys.md", help="the file to write (default: docs/keys.md)")
    p.add_argument("--check", action="store_true", help="only compare: exit 1 when the file differs")
    args = p.parse_args(argv)
    out, text = Path(args.out), render()
    if args.check:
        same = out.is_file() and out.read_text(encoding="utf-8") == text
        print(f"{out}: {'up to date' if same else 'out of date: run python -m dltui.tui.keys_doc'}")
        return 0 if same else 1
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""One sanitiser for every untrusted string that reaches a terminal.

CSV headers, file names, paths, preset names and fields read from run files are data, not
terminal commands: an ``ESC ] 0;... BEL`` in a CSV header would retitle the terminal, ``ESC [2J``
clear it, OSC 52 write the clipboard. ``safe`` turns every control character (C0 but tab and
newline, DEL, C1) and every bidirectional override into a visible escape such as ``\\x1b`` or
``\\u202e``; ``safe_line`` escapes tab, newline and carriage return too (for one-line places:
a status line, a name inside a sentence). Printable text, including non-ASCII, is kept.
"""

from __future__ import annotations

import re

_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_UNSAFE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}]")
_UNSAFE_LINE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}]")
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape(m: re.Match) -> str:
    c = m.group(0)
    if c in _NAMED:
        return _NAMED[c]
    n = ord(c)
    return f"\\x{n:02x}" if n < 0x100 else f"\\u{n:04x}"


def safe(text: object) -> str:
    """``text`` with control characters made visible; newlines and tabs stay."""
    s = text if isinstance(text, str) else str(text)
    s = _surrogates(s)
    return _UNSAFE.sub(_escape, s)


def safe_line(text: object) -> str:
    """``text`` for one line: control characters, newlines and tabs all made visible."""
    s = text if isinstance(text, str) else str(text)
    s = _surrogates(s)
    return _UNSAFE_LINE.sub(_escape, s)


def _surrogates(s: str) -> str:
    """Lone surrogates (from undecodable file names) cannot be encoded: show them as \\udcXX."""
    try:
        s.encode("utf-8")
        return s
    except UnicodeEncodeError:
        return s.encode("utf-8", "backslashreplace").decode("utf-8")


def has_unsafe(text: str) -> bool:
    """True if ``text`` holds a byte a terminal would act on (ESC, BEL, CSI, ...)."""
    return bool(_UNSAFE.search(text))

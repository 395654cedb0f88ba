"""One number formatter for every table and line: a number in at most ``width`` characters, as many
significant digits as fit, never cut (``4.39e-`` cannot happen: exponents are kept whole)."""

from __future__ import annotations

import math


def num(x, width: int = 7) -> str:
    """``x`` in at most ``width`` characters (>= 5): '0.0141', '2.5e-05', '1.2e+07', '–' for None,
    'nan', 'inf'. Plain notation while it keeps 2 significant digits, otherwise scientific."""
    if x is None:
        return "–"
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0:
        return "0"
    width = max(width, 5)
    ax = abs(x)
    if 1e-3 <= ax < 10 ** (width - (x < 0)):
        for digits in range(width, 0, -1):
            s = f"{x:.{digits}g}"
            if "e" not in s and len(s) <= width:
                return s
    for digits in range(width, 0, -1):
        s = _sci(x, digits)
        if len(s) <= width:
            return s
    return _sci(x, 1)


def _sci(x: float, digits: int) -> str:
    """'1.2e-05' style with ``digits`` significant digits, the exponent without padding zeros beyond 2."""
    mant, exp = f"{x:.{max(digits - 1, 0)}e}".split("e")
    if "." in mant:
        mant = mant.rstrip("0").rstrip(".")
    return f"{mant}e{int(exp):+03d}" if abs(int(exp)) < 100 else f"{mant}e{int(exp):+d}"


def short(x, width: int = 7) -> str:
    """Like ``num`` but compact for a status line: '3e-03' loses its padding: '0.003', '3e-4'."""
    s = num(x, width)
    if "e" in s:
        mant, exp = s.split("e")
        return f"{mant}e{int(exp)}"
    return s


def compact(x: float | None, sig: int = 2) -> str:
    """A compact number for tables: 0.81, -0.021, 12, 340, 1.2e-3, 4.5e4, nan; never more than
    ``sig`` + 6 characters and never cut (the exponent is always whole)."""
    if x is None:
        return "–"
    if not math.isfinite(x):
        return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")
    if x == 0:
        return "0"
    a = abs(x)
    if 1e-2 <= a < 10**sig:
        s = f"{x:.{sig}g}"
        return s if "e" not in s else f"{x:.0f}"
    if 10**sig <= a < 1e4:
        return f"{x:.0f}"
    mant, exp = f"{x:.{max(sig - 1, 0)}e}".split("e")
    return f"{mant}e{int(exp)}"

"""One field of the preset schema (``spec.SCHEMA``, and the generators' parameters in ``data``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Field:
    kind: str  # int | float | str | bool | list[int] | list[str] | list[float] | str|list[str]
    default: Any = None
    choices: tuple | None = None
    min: float | None = None
    max: float | None = None
    required: bool = False
    help: str = ""

"""How setting values written as text are read: sizes, counts, durations, booleans."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_SIZE = re.compile(r"^\s*(\d+)\s*([kmg]?)i?b?\s*$", re.IGNORECASE)
_SIZE_FACTORS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def parse_bytes(text: str) -> int:
    """`"512m"` -> 536870912. Binary units (k, m, g), as the docker CLI reads them."""
    match = _SIZE.match(text)
    if not match:
        raise ValueError(f"not a size: {text!r} (use a whole number with k, m or g, e.g. 512m)")
    return int(match.group(1)) * _SIZE_FACTORS[match.group(2).lower()]


def parse_positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(f"must be at least 1, got {value}")
    return value


def parse_positive_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"must be a positive number, got {text!r}")
    return value


def parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"not a boolean: {text!r} (use true or false)")


@dataclass(frozen=True)
class Option:
    """One setting: where it comes from and how its text is read.

    Its key in the configuration file is the flag without its dashes
    (`--open-files` -> `open_files`).
    """

    dest: str
    flag: str
    env: str
    parse: Callable[[str], Any]
    help: str

    @property
    def key(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")

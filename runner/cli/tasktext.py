"""Text that came from a task, made safe to print: what a task writes (its messages, its
outputs, values quoted in a report) reaches a terminal or a CI log only through here, so no
control character, escape sequence or invisible formatting character of it takes effect.

`printable` is meant to be the project's one function for this: where the package has
its own (`runner.core.text.printable`), this module's becomes an import of it.
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any

# Shown although str.isprintable() says no: spaces of every width, private-use
# characters, tabs, and the zero-width joiners that emoji and several scripts need.
_ALSO_SHOWN_CATEGORIES = frozenset({"Zs", "Co"})
_ALSO_SHOWN = frozenset({"\t", "\u200c", "\u200d"})


def _shown(char: str) -> bool:
    return (
        char.isprintable()
        or char in _ALSO_SHOWN
        or unicodedata.category(char) in _ALSO_SHOWN_CATEGORIES
    )


def printable(text: str) -> str:
    """`text` on one line, every character a terminal could act on (or not show) escaped
    as Python writes it: `\\x1b`, `\\x0a`, `\\u202e`, `\\udfff`, `\\U000e0001`."""
    if text.isprintable():
        return text
    return "".join(char if _shown(char) else _escape(char) for char in text)


def printable_json(value: Any) -> str:
    """`value` as one line of JSON, non-ASCII text kept readable, the characters
    `printable` escapes written as JSON escapes (so it is still the same JSON value)."""
    text = json.dumps(value, ensure_ascii=False)
    return "".join(char if _shown(char) else _json_escape(char) for char in text)


def _escape(char: str) -> str:
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _json_escape(char: str) -> str:
    code = ord(char)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000  # a UTF-16 surrogate pair, as JSON writes characters past U+FFFF
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"

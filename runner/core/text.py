"""Task text is untrusted: checking it before it is posted, escaping it before it is shown.

Every string that comes from a task container (messages, output values and their
keys, stderr) may hold anything JSON can spell: lone UTF-16 surrogates ("\\udfff"),
which are not Unicode text and cannot be encoded as UTF-8, and control characters
(ESC sequences, C1 controls, carriage returns) that drive a terminal.

- `text_problem` says what makes a string unfit to post (the protocol refuses it).
- `printable` is the one function that makes any text safe to print or log: every
  command that prints task text goes through it (runner/cli/output.py `say`, and
  the log's text formatter, runner/ops/logs.py); `printable_json` is the same for a
  JSON value printed as JSON (exec's outputs).
- `clip` cuts a text to a length for a message, `short` a value's repr: a message
  never echoes a whole value.
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")

# Printable in a terminal although str.isprintable() says no: spaces of every width,
# private-use characters, and the joiners that emoji sequences and several scripts need.
_ALSO_PRINTABLE_CATEGORIES = frozenset({"Zs", "Co"})
_ALSO_PRINTABLE = frozenset({"\t", "\u200c", "\u200d"})


def text_problem(text: str) -> str | None:
    """Why `text` is not valid Unicode text, or None: a lone surrogate, the only thing a
    Python string decoded from JSON can hold that UTF-8 cannot encode."""
    found = _LONE_SURROGATE.search(text)
    if found is None:
        return None
    return (
        f"not valid Unicode text: a lone UTF-16 surrogate {escape(found.group())} "
        f"at character {found.start()}"
    )


def printable(text: str, *, multiline: bool = False) -> str:
    """`text` with every character a terminal could act on, or could not show, escaped as
    Python does (`\\x1b`, `\\x9b`, `\\r`→`\\x0d`, `\\udfff`, `\\u202e`, `\\U000e0001`).

    Escaped: control characters (C0, DEL, C1), format characters such as bidirectional
    overrides (but not the zero-width joiners), lone surrogates, unassigned code points
    and noncharacters, line and paragraph separators. Kept: everything printable, spaces,
    tabs, private-use characters, and newlines when `multiline`. The result can always be
    encoded as UTF-8, and `printable(printable(t)) == printable(t)`.
    """
    if text.isprintable():
        return text
    return "".join(ch if _shown(ch, multiline) else escape(ch) for ch in text)


def _shown(ch: str, multiline: bool) -> bool:
    if ch.isprintable() or ch in _ALSO_PRINTABLE:
        return True
    if ch == "\n":
        return multiline
    return unicodedata.category(ch) in _ALSO_PRINTABLE_CATEGORIES


def escape(ch: str) -> str:
    """One character as a backslash escape: `\\xNN`, `\\uNNNN` or `\\UNNNNNNNN`."""
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def printable_json(value: Any) -> str:
    """`value` as one line of JSON, non-ASCII text kept readable, and every character
    `printable` escapes written as a JSON escape: still the same JSON value."""
    text = json.dumps(value, ensure_ascii=False)
    return "".join(ch if _shown(ch, False) else _json_escape(ch) for ch in text)


def _json_escape(ch: str) -> str:
    code = ord(ch)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000  # a UTF-16 surrogate pair, as JSON writes characters past U+FFFF
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def clip(text: str, limit: int) -> str:
    """`text`, or its first `limit` - 3 characters and "..." when it is over `limit`."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def short(value: Any) -> str:
    """`repr(value)` clipped to 80 characters."""
    return clip(repr(value), 80)

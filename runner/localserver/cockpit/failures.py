"""Failures grouped by message: pure, so it is tested without SQL.

A failure's group is its error message with what changes from one occurrence of the
same bug to the next folded away, so that one bug is one group:

- quoted values ('wide', "x", `y`, «z») become '…' (with their own quotes);
- ids (UUIDs; runs of 8 hexadecimal digits or more with a digit in them; 0x numbers)
  become <id>;
- times (ISO 8601, with or without their date) become <time>;
- numbers (signs, decimals and exponents too, and digits inside words: `w12`, `task42`)
  become <n>;
- runs of white space become one space; only the first FOLDED_CHARS characters count.

So `Incorrect value 'x7' for nbr_in, should be integer` and `Incorrect value '12' for
nbr_in, should be integer` are one group, `Incorrect value '…' for nbr_in, should be
integer`. The group's key is a short hash of that text, for URLs and the index.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

FOLDED_CHARS = 500  # of the message, before folding
NO_MESSAGE = "(no message)"

# Each a single pass of a regular expression with no nested repetition: linear in the text.
_QUOTED = re.compile(
    r"""(?<![\w'"`])'[^'\n]{0,200}'(?![\w'])|"[^"\n]{0,200}"|`[^`\n]{0,200}`"""
    "|«[^»\n]{0,200}»|\u201c[^\u201d\n]{0,200}\u201d|\u2018[^\u2019\n]{0,200}\u2019"
)
_UUID = re.compile(r"\b[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}\b")
# Hexadecimal with a digit and a letter in it (a decimal number is a number).
_HEX = re.compile(
    r"\b0x[0-9a-fA-F]+\b|\b(?=[0-9a-fA-F]*[0-9])(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}\b"
)
_CLOCK = r"\d\d:\d\d(?::\d\d(?:[.,]\d+)?)?"
_TIME = re.compile(
    rf"\b\d{{4}}-\d\d-\d\d(?:[T ]{_CLOCK})?(?:Z|[+-]\d\d:?\d\d)?\b|\b{_CLOCK}(?:Z\b)?"
)
_NUMBER = re.compile(r"[-+]?(?<![\d.])\d+(?:[.,]\d+)*(?:[eE][-+]?\d+)?")
_SPACES = re.compile(r"\s+")
_QUOTES = {"'": "'…'", '"': '"…"', "`": "`…`", "«": "«…»", "\u201c": "\u201c…\u201d"}
_QUOTES["\u2018"] = "\u2018…\u2019"


def fold(message: str | None) -> str:
    """The message with its quoted values, ids, times and numbers folded away."""
    text = (message or "").strip()[:FOLDED_CHARS]
    if not text:
        return NO_MESSAGE
    text = _QUOTED.sub(lambda found: _QUOTES[found.group(0)[0]], text)
    text = _UUID.sub("<id>", text)
    text = _HEX.sub("<id>", text)
    text = _TIME.sub("<time>", text)
    text = _NUMBER.sub("<n>", text)
    return _SPACES.sub(" ", text)


def key_of(folded: str) -> str:
    """The group's key: 16 hexadecimal digits of the folded text's SHA-256."""
    return hashlib.sha256(folded.encode("utf-8", "surrogatepass")).hexdigest()[:16]


@dataclass
class Group:
    """One group: how many failures, when first and last seen, and on which tasks."""

    key: str
    message: str  # the folded message
    count: int = 0
    first: str | None = None
    last: str | None = None
    tasks: dict[str, int] = field(default_factory=dict)
    example: str | None = None  # the newest failure's message as it was

    def add(self, task: str, count: int, first: str, last: str) -> None:
        self.count += count
        self.tasks[task] = self.tasks.get(task, 0) + count
        self.first = first if self.first is None else min(self.first, first)
        self.last = last if self.last is None else max(self.last, last)

    def shown(self) -> dict[str, Any]:
        tasks = sorted(self.tasks.items(), key=lambda item: (-item[1], item[0]))
        return {
            "key": self.key,
            "message": self.message,
            "example": self.example,
            "count": self.count,
            "firstSeen": self.first,
            "lastSeen": self.last,
            "tasks": [{"task": task, "count": count} for task, count in tasks],
        }


def grouped(rows: Iterable[Mapping[str, Any]]) -> list[Group]:
    """Groups from rows of (key, task, n, first, last), most failures first (then the most
    recent); their folded messages are the caller's to fill."""
    groups: dict[str, Group] = {}
    for row in rows:
        group = groups.setdefault(row["key"], Group(row["key"], ""))
        group.add(row["task"], int(row["n"]), row["first"], row["last"])
    newest_first = sorted(groups.values(), key=lambda g: g.last or "", reverse=True)
    return sorted(newest_first, key=lambda g: g.count, reverse=True)

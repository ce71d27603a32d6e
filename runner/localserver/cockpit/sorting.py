"""The task list's orders and the cursors that continue a page after its last row: pure,
so they are tested without SQL.

- `submitted`: the order of submission (the instances' ordinal);
- `ended`: when the server received the terminal status;
- `duration`: the runner's duration when it sent its log, else the server's (as the
  list shows it);
- `state`: Queued, InProgress, Completed, Error, Cancelled.

Either way (`desc` or `asc`), ties by submission in the same direction. The instances
that have not ended come after those that have, both ways, for `ended` and `duration`
(as a search engine puts missing values last): their key is a sentinel that sorts last.
Each order is served by an index on exactly its key expression (cockpit/tables.py), so
the first page of a sorted list of any size is read without sorting it.

A cursor is the ordinal alone for `submitted` (as before there were other orders), else
`<key>,<ordinal>`: the last row's key and ordinal, which the next page starts after.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from runner.localserver.errors import HttpError, quoted

SortKey = Literal["submitted", "ended", "duration", "state"]
SORT_KEYS: tuple[SortKey, ...] = ("submitted", "ended", "duration", "state")

# The shown state's rank (views.shown_state): Taken is InProgress; Queued and cancelled
# is Cancelled. The same expression is indexed (tables.py): keep them one.
STATE_RANK = """(CASE WHEN i.state = 'Queued' AND i.cancelled = 0 THEN 0
    WHEN i.state IN ('Taken', 'InProgress') THEN 1 WHEN i.state = 'Completed' THEN 2
    WHEN i.state = 'Error' THEN 3 ELSE 4 END)"""
NOT_ENDED_LAST = {"desc": ("''", "-1"), "asc": ("'~'", str(2**63 - 1))}

# The key of each order, by direction (`t` is instance_times, `i` instances).
_KEYS: dict[tuple[SortKey, bool], str] = {
    ("submitted", True): "i.ordinal",
    ("submitted", False): "i.ordinal",
    ("ended", True): f"coalesce(t.ended_at, {NOT_ENDED_LAST['desc'][0]})",
    ("ended", False): f"coalesce(t.ended_at, {NOT_ENDED_LAST['asc'][0]})",
    ("duration", True): f"coalesce(t.duration_ms, {NOT_ENDED_LAST['desc'][1]})",
    ("duration", False): f"coalesce(t.duration_ms, {NOT_ENDED_LAST['asc'][1]})",
    ("state", True): STATE_RANK,
    ("state", False): STATE_RANK,
}
_ORDER_WORDS = {"desc": True, "asc": False, "newest": True, "oldest": False}
_WHOLE = re.compile(r"[0-9]{1,18}", re.ASCII)  # an ordinal: below SQLite's largest integer
_INTEGER = re.compile(r"-?[0-9]{1,19}", re.ASCII)
_LARGEST = 2**63 - 1  # SQLite's


@dataclass(frozen=True)
class Sort:
    key: SortKey = "submitted"
    descending: bool = True

    @property
    def expression(self) -> str:
        return _KEYS[(self.key, self.descending)]

    @property
    def ordinal(self) -> str:
        """The tie-break, from the table whose index serves the order."""
        return "t.ordinal" if self.key in ("ended", "duration") else "i.ordinal"

    def order_by(self) -> str:
        way = "DESC" if self.descending else "ASC"
        if self.key == "submitted":
            return f"i.ordinal {way}"
        return f"{self.expression} {way}, {self.ordinal} {way}"

    def after(self, cursor: Cursor) -> tuple[str, dict[str, Any]]:
        """The condition for the rows after `cursor`, and its values."""
        than = "<" if self.descending else ">"
        if self.key == "submitted":
            return f"i.ordinal {than} :cursor", {"cursor": cursor.ordinal}
        condition = f"({self.expression}, {self.ordinal}) {than} (:cursor_key, :cursor)"
        return condition, {"cursor_key": cursor.key, "cursor": cursor.ordinal}

    def place(self, key: Any, ordinal: int) -> dict[str, Any]:
        """What a task line carries of its place in this order: `key` (its key and
        ordinal, for the page to compare rows) and `cursor` (the next page after it)."""
        cursor: int | str = ordinal if self.key == "submitted" else f"{key},{ordinal}"
        return {"key": [key, ordinal], "cursor": cursor}

    def cursor(self, text: str) -> Cursor:
        """The cursor of a page of this order, as `cursor` sent it; 400 if it is not one."""
        key_text, comma, ordinal_text = text.rpartition(",")
        if _WHOLE.fullmatch(ordinal_text):
            ordinal = int(ordinal_text)
            if self.key == "submitted" and not comma:
                return Cursor(None, ordinal)
            if self.key == "ended" and comma:
                return Cursor(key_text, ordinal)
            numeric = self.key in ("duration", "state") and _INTEGER.fullmatch(key_text)
            if comma and numeric and abs(int(key_text)) <= _LARGEST:
                return Cursor(int(key_text), ordinal)
        raise HttpError(
            400,
            f"query parameter cursor={quoted(text)} is not a cursor of a list sorted by {self.key}",
        )


@dataclass(frozen=True)
class Cursor:
    key: str | int | None
    ordinal: int


def sort_of(key: str | None, order: str | None) -> Sort:
    """The sort the query names (`sort`, `order`); HttpError 400 naming a wrong one."""
    key = key or "submitted"
    order = order or "desc"
    if key not in SORT_KEYS:
        raise HttpError(
            400, f"query parameter sort={quoted(key)} is not one of {', '.join(SORT_KEYS)}"
        )
    if order not in _ORDER_WORDS:
        raise HttpError(
            400, f"query parameter order={quoted(order)} is not desc or asc (or newest, oldest)"
        )
    chosen: SortKey = next(k for k in SORT_KEYS if k == key)
    return Sort(chosen, _ORDER_WORDS[order])

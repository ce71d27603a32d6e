"""The task list's queries, built from its filters: pure, so they are tested without SQL.

A list is a page of task instances that pass the filters (state, namespace, task,
search), newest or oldest first, after a cursor (the last ordinal of the page
before), and how many pass in all. Each filter is one condition on the instances
table, served by an index (cockpit/tables.py), so a filtered page of a large
database is read without a scan.

Search (`q`) matches an instance whose id starts with the text, or, with 3
characters or more, whose task or inputs, or any of whose statuses' messages and
outputs, hold the text (ASCII letters in either case), through the trigram indexes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

# The states a list can be filtered by: those the page shows, and Cancelled (any
# instance cancelled, whatever became of it).
STATES = ("Queued", "InProgress", "Completed", "Error", "Cancelled")
_STATE_WHERE = {
    "Queued": "i.state = 'Queued' AND i.cancelled = 0",
    "InProgress": "i.state IN ('Taken', 'InProgress')",
    "Completed": "i.state = 'Completed'",
    "Error": "i.state = 'Error'",
    "Cancelled": "i.cancelled = 1",
}
MIN_TEXT_SEARCH = 3  # shorter text matches instance ids only (the index needs 3)
MAX_SEARCH_CHARS = 200
_LAST_CHARACTER = "\U0010ffff"  # after every character: an id prefix's upper bound

COLUMNS = """i.ordinal, i.id, i.namespace, i.name, i.created_at, i.state, i.cancelled,
    i.taken_at"""

Order = Literal["newest", "oldest"]


@dataclass(frozen=True)
class Filters:
    state: str | None = None
    namespace: str | None = None
    name: str | None = None
    text: str | None = None

    def where(self) -> tuple[str, dict[str, Any]]:
        """One SQL condition on instances `i` (`1` when nothing is filtered), and its values."""
        conditions: list[str] = []
        values: dict[str, Any] = {}
        if self.state is not None:
            conditions.append(_STATE_WHERE[self.state])
        if self.namespace is not None:
            conditions.append("i.namespace = :namespace")
            values["namespace"] = self.namespace
        if self.name is not None:
            conditions.append("i.name = :name")
            values["name"] = self.name
        if self.text:
            condition, found = _search(self.text)
            conditions.append(condition)
            values.update(found)
        return " AND ".join(f"({c})" for c in conditions) or "1", values


def _search(text: str) -> tuple[str, dict[str, Any]]:
    values: dict[str, Any] = {"id_low": text, "id_high": text + _LAST_CHARACTER}
    if len(text) < MIN_TEXT_SEARCH:
        return "i.id >= :id_low AND i.id < :id_high", values
    # LIKE without ESCAPE, which the trigram index serves (a `%` or `_` in the text
    # matches more there); instr() then keeps the exact matches. One list of matching
    # ordinals, tested row by row (`+`: not looked up by ordinal), so a page of a
    # common word stops after its rows, and a rare word is one index lookup.
    values["like"] = f"%{text}%"
    values["lower"] = text.translate(_ASCII_LOWER)
    condition = f"""+i.ordinal IN (SELECT rowid FROM instance_text WHERE {_MATCH}
        UNION ALL SELECT ordinal FROM instances WHERE id >= :id_low AND id < :id_high)"""  # noqa: S608 -- constants only; values are bound
    return condition, values


# SQLite's LIKE and lower() fold ASCII letters only; so does the search.
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_MATCH = "body LIKE :like AND instr(lower(body), :lower) > 0"


@dataclass(frozen=True)
class Page:
    filters: Filters
    limit: int
    order: Order = "newest"
    cursor: int | None = None  # the last ordinal of the page before

    def rows(self) -> tuple[str, dict[str, Any]]:
        """The page's instances, one more than `limit` (then there is a next page)."""
        where, values = self.filters.where()
        if self.cursor is not None:
            where += " AND i.ordinal " + ("<" if self.order == "newest" else ">") + " :cursor"
            values["cursor"] = self.cursor
        direction = "DESC" if self.order == "newest" else "ASC"
        values["limit"] = self.limit + 1
        query = f"""SELECT {COLUMNS} FROM instances i WHERE {where}
            ORDER BY i.ordinal {direction} LIMIT :limit"""  # noqa: S608 -- constants only; values are bound
        return query, values

    def total(self) -> tuple[str, dict[str, Any]]:
        where, values = self.filters.where()
        query = f"SELECT count(*) AS n FROM instances i WHERE {where}"  # noqa: S608 -- constants only; values are bound
        return query, values


def changed(filters: Filters, limit: int) -> tuple[str, dict[str, Any]]:
    """Instances newer than `:since`, with a status after `:after` or a change (a
    cancellation, a log) after `:change`, newest first, each with `matches`: whether it
    passes the filters. The caller adds the three marks to the values."""
    where, values = filters.where()
    values["limit"] = limit
    query = f"""SELECT {COLUMNS}, ({where}) AS matches FROM instances i
        WHERE i.ordinal > :since
           OR i.id IN (SELECT instance_id FROM statuses WHERE seq > :after)
           OR i.id IN (SELECT instance_id FROM instance_changes WHERE seq > :change)
        ORDER BY i.ordinal DESC LIMIT :limit"""  # noqa: S608 -- constants only; values are bound
    return query, values

"""The task list's queries, built from its filters: pure, so they are tested without SQL.

A list is a page of task instances that pass the filters (state, namespace, task,
search, when they were submitted or ended, a failure group), in one of the orders of
sorting.py, after a cursor (where the page before ended), and how many pass in all.
Each filter is one condition on the instances table, served by an index
(cockpit/tables.py), so a filtered page of a large database is read without a scan.

Search (`q`) matches an instance whose id starts with the text, or, with 3
characters or more, whose task or inputs, or any of whose statuses' messages and
outputs, hold the text (ASCII letters in either case), through the trigram indexes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from runner.localserver.cockpit.sorting import Cursor, Sort

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
_ENDED = "coalesce(ended_at, '')"
# The instances and their times (ended, duration: tables.py), for the orders that need them.
FROM = "instance_times t JOIN instances i ON i.ordinal = t.ordinal"


@dataclass(frozen=True)
class Between:
    """A time range, as stored times (`records.iso`): from (inclusive) to (exclusive);
    either end may be open."""

    start: str | None = None
    end: str | None = None

    def where(self, column: str, name: str) -> tuple[list[str], dict[str, Any]]:
        conditions, values = [], {}
        if self.start is not None:
            conditions.append(f"{column} >= :{name}_from")
            values[f"{name}_from"] = self.start
        if self.end is not None:
            conditions.append(f"{column} < :{name}_to")
            values[f"{name}_to"] = self.end
        return conditions, values


@dataclass(frozen=True)
class Filters:
    state: str | None = None
    namespace: str | None = None
    name: str | None = None
    text: str | None = None
    submitted: Between = field(default_factory=Between)
    ended: Between = field(default_factory=Between)
    failure: str | None = None  # a failure group's key (failures.py)
    up_to: int | None = None  # the last ordinal selected: what came later is not

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
        submitted, found = self.submitted.where("i.created_at", "submitted")
        conditions += submitted
        values.update(found)
        if self.ended != Between():
            # On the key of the `ended` order's index: those not ended have '' there.
            ended, found = self.ended.where(_ENDED, "ended")
            within = " AND ".join([f"{_ENDED} > ''", *ended])
            conditions.append(f"+i.ordinal IN (SELECT ordinal FROM instance_times WHERE {within})")  # noqa: S608 -- constants only; values are bound
            values.update(found)
        if self.up_to is not None:
            conditions.append("i.ordinal <= :up_to")
            values["up_to"] = self.up_to
        if self.failure is not None:
            conditions.append(
                "+i.ordinal IN (SELECT ordinal FROM failure_keys WHERE key = :failure)"
            )
            values["failure"] = self.failure
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
    sort: Sort = field(default_factory=Sort)
    cursor: Cursor | None = None  # where the page before ended

    def rows(self) -> tuple[str, dict[str, Any]]:
        """The page's instances, one more than `limit` (then there is a next page), each
        with its `sort_key`."""
        where, values = self.filters.where()
        if self.cursor is not None:
            after, found = self.sort.after(self.cursor)
            where += f" AND {after}"
            values.update(found)
        values["limit"] = self.limit + 1
        query = f"""SELECT {COLUMNS}, {self.sort.expression} AS sort_key FROM {FROM}
            WHERE {where} ORDER BY {self.sort.order_by()} LIMIT :limit"""  # noqa: S608 -- constants only; values are bound
        return query, values

    def total(self) -> tuple[str, dict[str, Any]]:
        where, values = self.filters.where()
        query = f"SELECT count(*) AS n FROM instances i WHERE {where}"  # noqa: S608 -- constants only; values are bound
        return query, values


def changed(filters: Filters, limit: int, sort: Sort) -> tuple[str, dict[str, Any]]:
    """Instances newer than `:since`, with a status after `:after` or a change (a
    cancellation, a log) after `:change`, newest first, each with `matches`: whether it
    passes the filters, and its `sort_key`. The caller adds the three marks to the values."""
    where, values = filters.where()
    values["limit"] = limit
    # One list of the changed ordinals, each part found by an index (an OR of the three
    # would read every instance: 0.1 s at 100,000, each second of each long poll).
    query = f"""SELECT {COLUMNS}, {sort.expression} AS sort_key, ({where}) AS matches
        FROM {FROM} WHERE i.ordinal IN (
            SELECT ordinal FROM instances WHERE ordinal > :since
            UNION SELECT ordinal FROM instances WHERE id IN (
                SELECT instance_id FROM statuses WHERE seq > :after)
            UNION SELECT ordinal FROM instances WHERE id IN (
                SELECT instance_id FROM instance_changes WHERE seq > :change))
        ORDER BY i.ordinal DESC LIMIT :limit"""  # noqa: S608 -- constants only; values are bound
    return query, values

"""The cockpit's reads of the local server's records: task lists, what changed, the tiles.

Read-only queries on the store's database; the queries come from listing.py, the
shapes from views.py. A long poll for changes waits on the store's own wake-up
for new statuses, and looks for new instances and other changes (a cancellation,
a task log) at least every second.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, NamedTuple

from runner.localserver.cockpit.listing import COLUMNS, Filters, Page, changed
from runner.localserver.cockpit.sorting import Sort
from runner.localserver.cockpit.views import run_record, task_summary, window_start
from runner.localserver.jsontext import stored
from runner.localserver.records import iso, status_record
from runner.localserver.store import Store

_RECHECK_S = 1.0
_ONE = f"SELECT {COLUMNS} FROM instances i WHERE i.id = ?"  # noqa: S608 -- constants only; values are bound
_MARKS = """SELECT (SELECT coalesce(max(seq), 0) FROM statuses) AS seq,
    (SELECT coalesce(max(ordinal), 0) FROM instances) AS ordinal,
    (SELECT coalesce(max(seq), 0) FROM instance_changes) AS change"""
_LAST = """SELECT * FROM statuses WHERE seq IN (
    SELECT max(seq) FROM statuses WHERE instance_id IN ({ids}) GROUP BY instance_id)"""
_PROGRESS = """SELECT instance_id, progress FROM statuses WHERE seq IN (
    SELECT max(seq) FROM statuses WHERE instance_id IN ({ids}) AND progress IS NOT NULL
    GROUP BY instance_id)"""
_RUNS = """SELECT instance_id, runner_id, container_id, started_at, ended_at
    FROM task_logs WHERE instance_id IN ({ids})"""
# Counted on the state index alone; the queued that were cancelled (a few) taken off after.
_WAITING = """SELECT state, count(*) AS n FROM instances
    WHERE state IN ('Queued', 'Taken', 'InProgress') GROUP BY state"""
_CANCELLED_QUEUED = """SELECT count(*) AS n FROM instances INDEXED BY instances_cancelled
    WHERE cancelled = 1 AND state = 'Queued'"""
_ENDED_COUNTS = """SELECT status, count(*) AS n FROM statuses
    WHERE received_at >= ? AND status IN ('Completed', 'Error') GROUP BY status"""


class Marks(NamedTuple):
    """How far the records go: the last status seq, instance ordinal and change seq."""

    seq: int
    ordinal: int
    change: int


class Changes(NamedTuple):
    """What changed after some marks: the changed instances that pass the filters, the
    ids of those that do not (any longer), and whether there were more than asked for."""

    tasks: list[dict[str, Any]]
    gone: list[str]
    marks: Marks
    more: bool


class Board:
    def __init__(self, store: Store) -> None:
        self._store = store

    def marks(self) -> Marks:
        with self._store.read() as db:
            row = db.execute(_MARKS).fetchone()
        return Marks(int(row["seq"]), int(row["ordinal"]), int(row["change"]))

    def page(self, page: Page) -> tuple[list[dict[str, Any]], int, int | str | None]:
        """A page of the list, how many instances pass its filters, and the cursor of the
        next page (None when this is the last)."""
        with self._store.read() as db:
            query, values = page.rows()
            rows = db.execute(query, values).fetchall()
            query, values = page.total()
            total = int(db.execute(query, values).fetchone()["n"])
        found, cursor = self._page_of(rows, page)
        return found, total, cursor

    def rows(self, page: Page) -> tuple[list[dict[str, Any]], int | str | None]:
        """A page of the list without its total, and the cursor of the next page."""
        with self._store.read() as db:
            query, values = page.rows()
            rows = db.execute(query, values).fetchall()
        return self._page_of(rows, page)

    def _page_of(
        self, rows: list[Any], page: Page
    ) -> tuple[list[dict[str, Any]], int | str | None]:
        found = self.placed(rows[: page.limit], page.sort)
        return found, found[-1]["cursor"] if len(rows) > page.limit else None

    def placed(self, rows: list[Any], sort: Sort) -> list[dict[str, Any]]:
        """The task lines of rows that carry their `sort_key`, each with its place in `sort`."""
        lines = self._summaries(rows)
        return [
            {**line, **sort.place(row["sort_key"], row["ordinal"])}
            for line, row in zip(lines, rows, strict=True)
        ]

    def total(self, filters: Filters) -> int:
        query, values = Page(filters, 1).total()
        with self._store.read() as db:
            return int(db.execute(query, values).fetchone()["n"])

    def changed(
        self, marks: Marks, filters: Filters, limit: int, sort: Sort | None = None
    ) -> Changes:
        """What changed after `marks`, each line placed in `sort`; the marks in the answer
        are the caller's to fill."""
        sort = sort or Sort()
        query, values = changed(filters, limit, sort)
        values.update(after=marks.seq, since=marks.ordinal, change=marks.change)
        with self._store.read() as db:
            rows = db.execute(query, values).fetchall()
        found = self.placed([row for row in rows if row["matches"]], sort)
        gone = [str(row["id"]) for row in rows if not row["matches"]]
        return Changes(found, gone, marks, len(rows) >= limit)

    def wait_for_changes(
        self,
        marks: Marks,
        filters: Filters,
        limit: int,
        wait_s: float,
        sort: Sort | None = None,
        before_each: Callable[[], object] | None = None,
    ) -> Changes:
        """What changed after `marks`, waiting up to `wait_s` for something to change;
        `before_each` runs before each look (what the filters read is brought up to date)."""
        deadline = time.monotonic() + wait_s
        while True:
            now = self.marks()  # read first: a change after it is sent again, never lost
            if before_each is not None:
                before_each()
            found = self.changed(marks, filters, limit, sort)
            remaining = deadline - time.monotonic()
            if found.tasks or found.gone or remaining <= 0:
                return found._replace(marks=now)
            self._store.statuses_since(now.seq, limit=1, wait_s=min(remaining, _RECHECK_S))

    def tiles(self, minutes: int | None) -> dict[str, Any]:
        """The instances queued and in progress now; with `minutes`, those that ended in
        the chart's window of about that many minutes too (as the chart counts them)."""
        with self._store.read() as db:
            states = {"Queued": 0, "InProgress": 0}
            for r in db.execute(_WAITING):  # Taken is shown as InProgress
                states["Queued" if r["state"] == "Queued" else "InProgress"] += int(r["n"])
            if states["Queued"]:  # a cancelled one is shown as Cancelled
                states["Queued"] -= int(db.execute(_CANCELLED_QUEUED).fetchone()["n"])
            tiles: dict[str, Any] = {"states": states}
            if minutes is not None:
                cutoff = iso(window_start(datetime.now(UTC), minutes))
                ended = {r["status"]: int(r["n"]) for r in db.execute(_ENDED_COUNTS, (cutoff,))}
                tiles.update(
                    minutes=minutes,
                    completed=ended.get("Completed", 0),
                    errors=ended.get("Error", 0),
                )
        return tiles

    def summary(self, instance_id: str) -> dict[str, Any] | None:
        with self._store.read() as db:
            rows = db.execute(_ONE, (instance_id,)).fetchall()
        found = self._summaries(rows)
        return found[0] if found else None

    def _summaries(self, rows: list[Any]) -> list[dict[str, Any]]:
        if not rows:
            return []
        ids = [row["id"] for row in rows]
        marks = ", ".join(["?"] * len(ids))
        with self._store.read() as db:
            last = {
                r["instance_id"]: status_record(r) for r in db.execute(_LAST.format(ids=marks), ids)
            }
            progress = {
                r["instance_id"]: stored(r["progress"])
                for r in db.execute(_PROGRESS.format(ids=marks), ids)
            }
            runs = {
                r["instance_id"]: run_record(r) for r in db.execute(_RUNS.format(ids=marks), ids)
            }
        return [
            task_summary(row, last.get(row["id"]), progress.get(row["id"]), runs.get(row["id"]))
            for row in rows
        ]

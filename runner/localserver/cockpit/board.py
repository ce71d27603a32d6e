"""The cockpit's reads of the local server's records: task lists, what changed, the chart.

Read-only queries on the store's database; the shapes come from views.py. A
long poll for changes waits on the store's own wake-up for new statuses, and
looks for new instances at least every second.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from runner.core.catalog import normalize_values
from runner.localserver.cockpit.views import chart, shown_state, task_summary
from runner.localserver.jsontext import stored
from runner.localserver.records import iso, status_record
from runner.localserver.store import Store

_RECHECK_S = 1.0
_RECENT = """SELECT ordinal, id, namespace, name, created_at, state, cancelled, taken_at
    FROM instances ORDER BY ordinal DESC LIMIT ?"""
_CHANGED = """SELECT ordinal, id, namespace, name, created_at, state, cancelled, taken_at
    FROM instances
    WHERE ordinal > :since OR id IN (SELECT instance_id FROM statuses WHERE seq > :after)
    ORDER BY ordinal DESC LIMIT :limit"""
_ONE = """SELECT ordinal, id, namespace, name, created_at, state, cancelled, taken_at
    FROM instances WHERE id = ?"""
_MARKS = """SELECT (SELECT coalesce(max(seq), 0) FROM statuses) AS seq,
    (SELECT coalesce(max(ordinal), 0) FROM instances) AS ordinal"""
_LAST = """SELECT * FROM statuses WHERE seq IN (
    SELECT max(seq) FROM statuses WHERE instance_id IN ({ids}) GROUP BY instance_id)"""
_PROGRESS = """SELECT instance_id, progress FROM statuses WHERE seq IN (
    SELECT max(seq) FROM statuses WHERE instance_id IN ({ids}) AND progress IS NOT NULL
    GROUP BY instance_id)"""
_WAITING = """SELECT state, count(*) AS n FROM instances
    WHERE state IN ('Queued', 'Taken', 'InProgress') GROUP BY state"""
_ENDED = """SELECT s.namespace, s.name, s.status, s.received_at, i.taken_at
    FROM statuses s JOIN instances i ON i.id = s.instance_id
    WHERE s.received_at >= ? AND s.status IN ('Completed', 'Error') ORDER BY s.seq"""


class Marks(NamedTuple):
    """How far the records go: the last status seq and the last instance ordinal."""

    seq: int
    ordinal: int


class Board:
    def __init__(self, store: Store) -> None:
        self._store = store

    def marks(self) -> Marks:
        with self._store.read() as db:
            row = db.execute(_MARKS).fetchone()
        return Marks(int(row["seq"]), int(row["ordinal"]))

    def recent(self, limit: int) -> list[dict[str, Any]]:
        """The newest `limit` task instances, newest first."""
        return self._summaries(_RECENT, (limit,))

    def changed(self, after: int, since: int, limit: int) -> list[dict[str, Any]]:
        """Instances newer than ordinal `since`, or with a status after seq `after`."""
        return self._summaries(_CHANGED, {"after": after, "since": since, "limit": limit})

    def wait_for_changes(
        self, after: int, since: int, limit: int, wait_s: float
    ) -> tuple[list[dict[str, Any]], Marks]:
        """What changed after those marks, waiting up to `wait_s` for something to change."""
        deadline = time.monotonic() + wait_s
        while True:
            marks = self.marks()  # read first: a change after it is sent again, never lost
            found = self.changed(after, since, limit)
            remaining = deadline - time.monotonic()
            if found or remaining <= 0:
                return found, marks
            self._store.statuses_since(marks.seq, limit=1, wait_s=min(remaining, _RECHECK_S))

    def summary(self, instance_id: str) -> dict[str, Any] | None:
        found = self._summaries(_ONE, (instance_id,))
        return found[0] if found else None

    def instance(self, instance_id: str) -> dict[str, Any] | None:
        """The instance view of the store, its summary, and the inputs the task receives."""
        view = self._store.instance_view(instance_id)
        summary = self.summary(instance_id)
        if view is None or summary is None:
            return None
        definition = self._store.definition(summary["namespace"], summary["name"]) or {}
        view["summary"] = summary
        view["inputs"] = normalize_values(
            view["instance"].get("inputData"), definition.get("inputs")
        )
        return view

    def chart(self, minutes: int) -> dict[str, Any]:
        now = datetime.now(UTC)
        cutoff = iso(now - timedelta(minutes=minutes))
        with self._store.read() as db:
            rows = db.execute(_ENDED, (cutoff,)).fetchall()
            states = {"Queued": 0, "InProgress": 0}
            for r in db.execute(_WAITING):  # Taken is shown as InProgress
                states[shown_state(r["state"])] += int(r["n"])
        ended = (
            {
                "namespace": r["namespace"],
                "name": r["name"],
                "status": r["status"],
                "receivedAt": r["received_at"],
                "takenAt": r["taken_at"],
            }
            for r in rows
        )
        return {**chart(ended, now, minutes), "states": states}

    def _summaries(self, query: str, parameters: Any) -> list[dict[str, Any]]:
        with self._store.read() as db:
            rows = db.execute(query, parameters).fetchall()
            if not rows:
                return []
            ids = [row["id"] for row in rows]
            marks = ", ".join(["?"] * len(ids))
            last = {
                r["instance_id"]: status_record(r) for r in db.execute(_LAST.format(ids=marks), ids)
            }
            progress = {
                r["instance_id"]: stored(r["progress"])
                for r in db.execute(_PROGRESS.format(ids=marks), ids)
            }
        return [task_summary(row, last.get(row["id"]), progress.get(row["id"])) for row in rows]

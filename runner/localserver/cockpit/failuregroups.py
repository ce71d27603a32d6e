"""The failure groups' reads: each failed instance's group (failures.py) kept in
`failure_keys`, and the groups of the failures that pass the list's filters.

The groups are computed in Python (folding is no SQL), so `failure_keys` is brought up
to date by whoever reads it: the Error statuses received since the last one folded, in
batches of BATCH, each its own short transaction. Nothing on the statuses' write path
learns of it; the first read of a large database folds its whole history once (9,820
failures in 0.27 s on the loaded development machine), later reads only what is new.
"""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

from runner.localserver.cockpit.failures import fold, grouped, key_of
from runner.localserver.cockpit.listing import Filters
from runner.localserver.store import Store

BATCH = 1000
MAX_GROUPS = 50  # groups answered, most failures first

_FOLDED_UP_TO = "SELECT coalesce(max(seq), 0) AS seq FROM failure_keys"
_NEW = """SELECT s.seq, s.message, s.received_at, i.ordinal, i.namespace, i.name
    FROM statuses s JOIN instances i ON i.id = s.instance_id
    WHERE s.seq > ? AND s.status = 'Error' ORDER BY s.seq LIMIT ?"""
_LAST_SEQ = "SELECT coalesce(max(seq), 0) AS seq FROM statuses"
_KEEP = """INSERT OR IGNORE INTO failure_keys (ordinal, seq, key, folded, task, failed_at)
    VALUES (?, ?, ?, ?, ?, ?)"""
# Every failure's (no filter): the index alone. Else each failure's instance is read too.
_ALL_GROUPS = """SELECT key, task, count(*) AS n, min(failed_at) AS first,
        max(failed_at) AS last, max(seq) AS newest
    FROM failure_keys INDEXED BY failure_keys_groups GROUP BY key, task"""
_GROUPS = """SELECT k.key, k.task, count(*) AS n, min(k.failed_at) AS first,
        max(k.failed_at) AS last, max(k.seq) AS newest
    FROM failure_keys k INDEXED BY failure_keys_groups JOIN instances i ON i.ordinal = k.ordinal
    WHERE {where} GROUP BY k.key, k.task"""
_FOLDED = "SELECT folded FROM failure_keys WHERE key = ? LIMIT 1"
_MESSAGE = "SELECT message FROM statuses WHERE seq = ?"


class FailureGroups:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()  # one folder at a time; the others wait for it
        self._seen = 0  # the last status seq looked at (not only Error statuses)

    def groups(self, filters: Filters) -> dict[str, Any]:
        """The groups of the failures that pass `filters` (their state and failure group
        aside): `groups` (at most MAX_GROUPS, most failures first), `count` (of groups)
        and `failures` (in all)."""
        self.keep_up()
        where, values = dataclasses.replace(filters, state=None, failure=None).where()
        query = _ALL_GROUPS if where == "1" else _GROUPS.format(where=where)
        with self._store.read() as db:
            rows = db.execute(query, values).fetchall()
        groups = grouped(rows)
        newest: dict[str, int] = {}  # each group's newest failure, over its tasks
        for row in rows:
            newest[row["key"]] = max(newest.get(row["key"], 0), int(row["newest"]))
        shown = groups[:MAX_GROUPS]
        with self._store.read() as db:
            for group in shown:
                group.message = db.execute(_FOLDED, (group.key,)).fetchone()["folded"]
                found = db.execute(_MESSAGE, (newest[group.key],)).fetchone()
                group.example = None if found is None else found["message"]
        return {
            "groups": [g.shown() for g in shown],
            "count": len(groups),
            "failures": sum(g.count for g in groups),
        }

    def keep_up(self) -> None:
        """Folds the Error statuses received since the last time, BATCH at a time."""
        with self._lock:
            with self._store.read() as db:
                folded = int(db.execute(_FOLDED_UP_TO).fetchone()["seq"])
                last = int(db.execute(_LAST_SEQ).fetchone()["seq"])
            after = max(folded, self._seen if self._seen <= last else 0)
            while after < last:
                with self._store.write() as db:
                    rows = db.execute(_NEW, (after, BATCH)).fetchall()
                    db.executemany(_KEEP, [_keyed(row) for row in rows])
                after = int(rows[-1]["seq"]) if len(rows) == BATCH else last
            self._seen = last


def _keyed(row: Any) -> tuple[int, int, str, str, str, str]:
    folded = fold(row["message"])
    task = f"{row['namespace']}/{row['name']}"
    return int(row["ordinal"]), int(row["seq"]), key_of(folded), folded, task, row["received_at"]

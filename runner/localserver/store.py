"""The local server's state in one SQLite file: catalog, task instances, statuses.

Every write runs in a `BEGIN IMMEDIATE` transaction, so several server
processes sharing the file still hand each queued instance to one poller; an
in-process lock serialises the threads sharing the one connection.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

from runner.localserver.records import (
    dumps_or_none,
    next_state,
    next_version,
    status_record,
    task_instance,
    utc_now,
)

logger = logging.getLogger(__name__)

# Statuses written by another process sharing the file notify no one here, so
# long-poll waiters look again this often.
_RECHECK_S = 0.5

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS catalog (
        namespace TEXT NOT NULL,
        name TEXT NOT NULL,
        definition TEXT NOT NULL,
        PRIMARY KEY (namespace, name))""",
    # AUTOINCREMENT: the queue order and status seq must never reuse a number.
    """CREATE TABLE IF NOT EXISTS instances (
        ordinal INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        namespace TEXT NOT NULL,
        name TEXT NOT NULL,
        input_data TEXT NOT NULL,
        timeout_ms INTEGER,
        workflow_instance_id TEXT NOT NULL,
        created_at TEXT NOT NULL,
        state TEXT NOT NULL,
        cancelled INTEGER NOT NULL DEFAULT 0,
        handed_out TEXT,
        taken_at TEXT)""",
    "CREATE INDEX IF NOT EXISTS instances_queue ON instances (namespace, state, ordinal)",
    """CREATE TABLE IF NOT EXISTS statuses (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        instance_id TEXT NOT NULL,
        namespace TEXT NOT NULL,
        name TEXT NOT NULL,
        status TEXT NOT NULL,
        message TEXT,
        progress TEXT,
        output_values TEXT,
        error_level TEXT,
        received_at TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS statuses_instance ON statuses (instance_id, seq)",
)

_NEXT_QUEUED = """SELECT * FROM instances
    WHERE namespace = :namespace AND state = 'Queued' AND cancelled = 0
      AND (:name IS NULL OR name = :name)
    ORDER BY ordinal LIMIT 1"""


class Store:
    """Thread-safe access to the SQLite file; restarting on the same file loses nothing."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.RLock()
        self._new_status = threading.Condition()
        self._status_count = 0
        self._closed = False
        # isolation_level=None: transactions are begun explicitly, IMMEDIATE.
        self._db = sqlite3.connect(
            str(path), timeout=30, isolation_level=None, check_same_thread=False
        )
        try:
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            with self._write() as db:
                for statement in _SCHEMA:
                    db.execute(statement)
        except sqlite3.Error:
            self._db.close()
            raise
        logger.debug("store opened at %s", path)

    def close(self) -> None:
        with self._new_status:
            self._closed = True
            self._new_status.notify_all()
        with self._lock:
            self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            committed = False
            try:
                yield self._db
                committed = True
            finally:
                self._db.execute("COMMIT" if committed else "ROLLBACK")

    # -- catalog --------------------------------------------------------------

    def publish_catalog(
        self,
        namespace: str,
        definitions: Sequence[Mapping[str, Any]],
        *,
        remove_previous: bool = False,
    ) -> list[dict[str, Any]]:
        """Store each definition, versioned by content; return them as stored."""
        stored: list[dict[str, Any]] = []
        with self._write() as db:
            rows = db.execute(
                "SELECT name, definition FROM catalog WHERE namespace = ?", (namespace,)
            )
            current = {r["name"]: json.loads(r["definition"]) for r in rows}
            for definition in definitions:
                new = {**definition, "namespace": namespace}
                new["versionNumber"] = next_version(current.get(new["name"]), new)
                db.execute(
                    "INSERT OR REPLACE INTO catalog VALUES (?, ?, ?)",
                    (namespace, new["name"], json.dumps(new)),
                )
                stored.append(new)
            if remove_previous:
                for name in set(current) - {d["name"] for d in stored}:
                    db.execute(
                        "DELETE FROM catalog WHERE namespace = ? AND name = ?", (namespace, name)
                    )
        return stored

    def catalog(self, namespace: str) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT definition FROM catalog WHERE namespace = ? ORDER BY name", (namespace,)
            )
            return [json.loads(r["definition"]) for r in rows]

    def definition(self, namespace: str, name: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT definition FROM catalog WHERE namespace = ? AND name = ?", (namespace, name)
            ).fetchone()
        return None if row is None else dict(json.loads(row["definition"]))

    # -- task instances -------------------------------------------------------

    def submit(
        self,
        namespace: str,
        name: str,
        input_data: Mapping[str, Any] | None = None,
        timeout_ms: int | None = None,
    ) -> dict[str, Any]:
        """Queue a new instance; return its TaskInstance JSON (status Queued)."""
        instance_id = str(uuid.uuid4())
        with self._write() as db:
            db.execute(
                "INSERT INTO instances (id, namespace, name, input_data, timeout_ms,"
                " workflow_instance_id, created_at, state) VALUES (?, ?, ?, ?, ?, ?, ?, 'Queued')",
                (
                    instance_id,
                    namespace,
                    name,
                    json.dumps(dict(input_data or {})),
                    timeout_ms,
                    str(uuid.uuid4()),
                    utc_now(),
                ),
            )
            row = db.execute("SELECT * FROM instances WHERE id = ?", (instance_id,)).fetchone()
            return task_instance(row, self.definition(namespace, name), "Queued")

    def poll(self, namespace: str, name: str | None = None) -> dict[str, Any] | None:
        """Take the oldest queued instance, or None; each instance is taken once."""
        with self._write() as db:
            row = db.execute(_NEXT_QUEUED, {"namespace": namespace, "name": name}).fetchone()
            if row is None:
                return None
            # Frozen as handed out, so a later catalog change does not rewrite history.
            instance = task_instance(row, self.definition(namespace, row["name"]), "Taken")
            db.execute(
                "UPDATE instances SET state = 'Taken', handed_out = ?, taken_at = ? "
                "WHERE ordinal = ?",
                (json.dumps(instance), utc_now(), row["ordinal"]),
            )
        return instance

    def instance_view(self, instance_id: str) -> dict[str, Any] | None:
        """The instance, its state, whether it was cancelled and its statuses, or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT * FROM instances WHERE id = ?", (instance_id,)
            ).fetchone()
            if row is None:
                return None
            statuses = self._db.execute(
                "SELECT * FROM statuses WHERE instance_id = ? ORDER BY seq", (instance_id,)
            )
            records = [status_record(s) for s in statuses]
            if row["handed_out"] is not None:
                instance = json.loads(row["handed_out"])
            else:
                instance = task_instance(
                    row, self.definition(row["namespace"], row["name"]), "Queued"
                )
        instance["status"] = row["state"]
        return {
            "instance": instance,
            "state": row["state"],
            "cancelled": bool(row["cancelled"]),
            "takenAt": row["taken_at"],
            "statuses": records,
        }

    def cancel(self, instance_id: str) -> bool:
        """Flag the instance cancelled (a queued one is then never handed out); False if unknown."""
        with self._write() as db:
            cursor = db.execute("UPDATE instances SET cancelled = 1 WHERE id = ?", (instance_id,))
            return cursor.rowcount > 0

    def is_cancelled(self, instance_id: str, namespace: str | None = None) -> bool | None:
        """None when no such instance (in that namespace, if given)."""
        with self._lock:
            row = self._db.execute(
                "SELECT namespace, cancelled FROM instances WHERE id = ?", (instance_id,)
            ).fetchone()
        if row is None or (namespace is not None and row["namespace"] != namespace):
            return None
        return bool(row["cancelled"])

    # -- statuses -------------------------------------------------------------

    def record_status(self, status: Mapping[str, Any]) -> int | None:
        """Append a status and move the instance's state; its seq, or None if unknown."""
        instance_id = str(status["taskInstanceId"])
        with self._write() as db:
            row = db.execute(
                "SELECT namespace, name, state FROM instances WHERE id = ?", (instance_id,)
            ).fetchone()
            if row is None:
                return None
            cursor = db.execute(
                "INSERT INTO statuses (instance_id, namespace, name, status, message, progress,"
                " output_values, error_level, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    instance_id,
                    row["namespace"],
                    row["name"],
                    status["status"],
                    status.get("message"),
                    dumps_or_none(status.get("progressPercentage")),
                    dumps_or_none(status.get("outputValues")),
                    status.get("errorLevel"),
                    utc_now(),
                ),
            )
            state = next_state(row["state"], status["status"])
            if state != row["state"]:
                db.execute("UPDATE instances SET state = ? WHERE id = ?", (state, instance_id))
        with self._new_status:
            self._status_count += 1
            self._new_status.notify_all()
        return cursor.lastrowid

    def statuses_since(
        self, after: int, *, limit: int = 500, wait_s: float = 0.0
    ) -> list[dict[str, Any]]:
        """Statuses with seq > after, oldest first; waits up to wait_s for one to arrive."""
        deadline = time.monotonic() + max(0.0, wait_s)
        while True:
            with self._new_status:
                seen = self._status_count
            records = self._statuses_after(after, limit)
            remaining = deadline - time.monotonic()
            if records or remaining <= 0:
                return records
            with self._new_status:
                if self._closed:
                    return []
                if self._status_count == seen:
                    self._new_status.wait(min(remaining, _RECHECK_S))

    def _statuses_after(self, after: int, limit: int) -> list[dict[str, Any]]:
        with self._lock:
            if self._closed:  # a long poll woken by close() answers empty, not with an error
                return []
            rows = self._db.execute(
                "SELECT * FROM statuses WHERE seq > ? ORDER BY seq LIMIT ?", (after, limit)
            )
            return [status_record(r) for r in rows]

"""The local server's state in one SQLite file: catalog, task instances, statuses.

A hand-out is one `UPDATE ... RETURNING` statement that claims the oldest
queued row, so several threads or server processes sharing the file hand each
instance out once. Every write runs in a `BEGIN IMMEDIATE` transaction; an
in-process lock serialises the threads sharing the one connection.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from runner.core.model import TERMINAL_STATUSES
from runner.localserver.database import Database, StoreClosed
from runner.localserver.errors import quoted
from runner.localserver.jsontext import stored
from runner.localserver.records import (
    dumps,
    dumps_or_none,
    next_version,
    record_bytes,
    status_record,
    task_instance,
    utc_now,
)
from runner.localserver.rules import StatusConflict, next_state, repeat_of
from runner.localserver.sql import (
    CLAIM_OLDEST,
    INSERT_INSTANCE,
    INSERT_STATUS,
    SCHEMA,
    TERMINAL_OF,
)

logger = logging.getLogger(__name__)

# Statuses written by another process sharing the file notify no one here, so
# long-poll waiters look again this often.
_RECHECK_S = 0.5

# A page of statuses stops growing past this many bytes (it holds at least one).
PAGE_BYTES = 1024 * 1024


class Store:
    """Thread-safe access to the SQLite file; restarting on the same file loses nothing."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._database = Database(path, SCHEMA)
        self.read = self._database.read  # read-only queries, here and in the cockpit
        self._write = self._database.write
        # Writes from outside: the cockpit's own tables (task logs), runner.localserver.retention.
        self.write = self._write
        self._new_status = threading.Condition()
        self._status_count = 0
        logger.debug("store opened at %s", path)

    def close(self) -> None:
        with self._new_status:
            self._database.close()
            self._new_status.notify_all()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- catalog --------------------------------------------------------------

    def publish_catalog(
        self,
        namespace: str,
        definitions: Sequence[Mapping[str, Any]],
        *,
        remove_previous: bool = False,
    ) -> list[dict[str, Any]]:
        """Store each definition, versioned by content; return them as stored."""
        stored_now: list[dict[str, Any]] = []
        with self._write() as db:
            rows = db.execute(
                "SELECT name, definition FROM catalog WHERE namespace = ?", (namespace,)
            )
            current = {r["name"]: stored(r["definition"]) for r in rows}
            for definition in definitions:
                new = {**definition, "namespace": namespace}
                new["versionNumber"] = next_version(current.get(new["name"]), new)
                db.execute(
                    "INSERT OR REPLACE INTO catalog VALUES (?, ?, ?)",
                    (namespace, new["name"], dumps(new)),
                )
                stored_now.append(new)
            if remove_previous:
                for name in set(current) - {d["name"] for d in stored_now}:
                    db.execute(
                        "DELETE FROM catalog WHERE namespace = ? AND name = ?", (namespace, name)
                    )
        return stored_now

    def catalog(self, namespace: str | None = None) -> list[dict[str, Any]]:
        """The definitions published in `namespace` by name, or in all by namespace and name."""
        with self.read() as db:
            if namespace is None:
                rows = db.execute("SELECT definition FROM catalog ORDER BY namespace, name")
            else:
                rows = db.execute(
                    "SELECT definition FROM catalog WHERE namespace = ? ORDER BY name", (namespace,)
                )
            return [d for r in rows if isinstance(d := stored(r["definition"]), dict)]

    def definition(self, namespace: str, name: str) -> dict[str, Any] | None:
        with self.read() as db:
            row = db.execute(
                "SELECT definition FROM catalog WHERE namespace = ? AND name = ?", (namespace, name)
            ).fetchone()
        found = None if row is None else stored(row["definition"])
        return dict(found) if isinstance(found, dict) else None

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
                INSERT_INSTANCE,
                (
                    instance_id,
                    namespace,
                    name,
                    dumps(dict(input_data or {})),
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
            claim = {"namespace": namespace, "name": name, "now": utc_now()}
            row = db.execute(CLAIM_OLDEST, claim).fetchone()
            if row is None:
                return None
            # Frozen as handed out, so a later catalog change does not rewrite history.
            instance = task_instance(row, self.definition(namespace, row["name"]), "Taken")
            db.execute(
                "UPDATE instances SET handed_out = ? WHERE ordinal = ?",
                (dumps(instance), row["ordinal"]),
            )
        return instance

    def instance_view(self, instance_id: str) -> dict[str, Any] | None:
        """The instance, its state, whether it was cancelled and its statuses, or None."""
        with self.read() as db:
            row = db.execute("SELECT * FROM instances WHERE id = ?", (instance_id,)).fetchone()
            if row is None:
                return None
            statuses = db.execute(
                "SELECT * FROM statuses WHERE instance_id = ? ORDER BY seq", (instance_id,)
            )
            records = [status_record(s) for s in statuses]
            instance = stored(row["handed_out"]) if row["handed_out"] is not None else None
            if not isinstance(instance, dict):
                definition = self.definition(row["namespace"], row["name"])
                instance = task_instance(row, definition, "Queued")
        instance["status"] = row["state"]
        return {
            "instance": instance,
            "state": row["state"],
            "cancelled": bool(row["cancelled"]),
            "takenAt": row["taken_at"],
            "statuses": records,
        }

    def cancel(self, instance_id: str) -> bool:
        """Flag the instance cancelled (a queued one is then never handed out); False if unknown.
        Raises StatusConflict for an instance that already ended: it stays as it ended."""
        with self._write() as db:
            row = db.execute("SELECT state FROM instances WHERE id = ?", (instance_id,)).fetchone()
            if row is not None and row["state"] in TERMINAL_STATUSES:
                raise StatusConflict(
                    f"task instance {quoted(instance_id)} already ended ({row['state']}); "
                    "only a queued or running instance can be cancelled"
                )
            cursor = db.execute("UPDATE instances SET cancelled = 1 WHERE id = ?", (instance_id,))
            return cursor.rowcount > 0

    def is_cancelled(self, instance_id: str, namespace: str | None = None) -> bool | None:
        """None when no such instance (in that namespace, if given)."""
        with self.read() as db:
            row = db.execute(
                "SELECT namespace, cancelled FROM instances WHERE id = ?", (instance_id,)
            ).fetchone()
        if row is None or (namespace is not None and row["namespace"] != namespace):
            return None
        return bool(row["cancelled"])

    # -- statuses -------------------------------------------------------------

    def record_status(self, status: Mapping[str, Any]) -> int | None:
        """Append a status and move the instance's state; its seq, or None if unknown.

        Raises StatusConflict (rules.py) for a status the instance's state refuses;
        a repeat of the terminal status is not stored again: its first seq is returned.
        """
        instance_id = str(status["taskInstanceId"])
        with self._write() as db:
            row = db.execute(
                "SELECT namespace, name, state FROM instances WHERE id = ?", (instance_id,)
            ).fetchone()
            if row is None:
                return None
            ended = row["state"] in TERMINAL_STATUSES  # repeat_of reads `terminal` only then
            found = db.execute(TERMINAL_OF, (instance_id,)).fetchone() if ended else None
            terminal = None if found is None else status_record(found)
            repeated = repeat_of(instance_id, row["state"], terminal, status)
            if repeated is not None:
                return repeated
            cursor = db.execute(
                INSERT_STATUS,
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
        """Statuses with seq > after, oldest first; waits up to wait_s for one to arrive.

        A page holds at most `limit` statuses and stops growing past PAGE_BYTES.
        """
        deadline = time.monotonic() + max(0.0, wait_s)
        while True:
            with self._new_status:
                seen = self._status_count
            records = self._statuses_after(after, limit)
            remaining = deadline - time.monotonic()
            if records or remaining <= 0:
                return records
            with self._new_status:
                if self._database.closed:
                    return []
                if self._status_count == seen:
                    self._new_status.wait(min(remaining, _RECHECK_S))

    def _statuses_after(self, after: int, limit: int) -> list[dict[str, Any]]:
        try:
            with self.read() as db:
                rows = db.execute(
                    "SELECT * FROM statuses WHERE seq > ? ORDER BY seq LIMIT ?", (after, limit)
                )
                records: list[dict[str, Any]] = []
                size = 0
                for row in rows:
                    size += record_bytes(row)
                    if records and size > PAGE_BYTES:
                        break
                    records.append(status_record(row))
                return records
        except StoreClosed:  # a long poll woken by close() answers empty, not with an error
            return []

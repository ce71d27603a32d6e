"""Task instances: queued by a submit, claimed once by a poll, cancelled, viewed.

A hand-out is one `UPDATE ... RETURNING` statement that claims the oldest queued row, so
several threads or server processes sharing the file hand each instance out once.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from runner.core.model import TERMINAL_STATUSES
from runner.localserver.errors import quoted
from runner.localserver.jsontext import stored
from runner.localserver.logtokens import LOG_TOKEN, new_log_token
from runner.localserver.records import dumps, status_record, task_instance, utc_now
from runner.localserver.rules import StatusConflict
from runner.localserver.sql import CLAIM_OLDEST, INSERT_INSTANCE
from runner.localserver.tables import Tables
from runner.localserver.usage import usage_of


class InstanceTable(Tables):
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

    def submit_many(
        self, submissions: Sequence[tuple[str, str, Mapping[str, Any], int | None]]
    ) -> list[str]:
        """Queue every submission in one transaction, all or none, in their order; their ids."""
        created_at = utc_now()
        rows = [
            (str(uuid.uuid4()), namespace, name, dumps(dict(inputs)), timeout_ms, str(uuid.uuid4()))
            for namespace, name, inputs, timeout_ms in submissions
        ]
        with self._write() as db:
            db.executemany(INSERT_INSTANCE, [(*row, created_at) for row in rows])
        return [row[0] for row in rows]

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
            token = new_log_token(db, row["id"])
        return {**instance, LOG_TOKEN: token}  # the hand-out's alone: neither kept nor shown

    def instance_view(self, instance_id: str) -> dict[str, Any] | None:
        """The instance, its state, whether it was cancelled, its statuses and what it used
        (`usage`, as its runner measured it, or None), or None."""
        with self.read() as db:
            row = db.execute("SELECT * FROM instances WHERE id = ?", (instance_id,)).fetchone()
            if row is None:
                return None
            statuses = db.execute(
                "SELECT * FROM statuses WHERE instance_id = ? ORDER BY seq", (instance_id,)
            )
            records = [status_record(s) for s in statuses]
            usage = usage_of(db, instance_id)
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
            "usage": usage,
        }

    def ids_starting(self, prefix: str, limit: int) -> list[str]:
        """Up to `limit` ids that start with `prefix`, in order (a range of the id index)."""
        with self.read() as db:
            rows = db.execute(
                "SELECT id FROM instances WHERE id >= ? AND id < ? ORDER BY id LIMIT ?",
                (prefix, prefix + "\U0010ffff", limit),
            )
            return [row["id"] for row in rows]

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

"""Statuses: appended as runners post them, each moving its instance's state, and read
back in order by long polls (`statuses_since`)."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

from runner.core.model import TERMINAL_STATUSES
from runner.localserver.database import Database, StoreClosed
from runner.localserver.records import dumps_or_none, record_bytes, status_record, utc_now
from runner.localserver.rules import next_state, repeat_of
from runner.localserver.sql import INSERT_STATUS, TERMINAL_OF
from runner.localserver.tables import Tables

# Statuses written by another process sharing the file notify no one here, so
# long-poll waiters look again this often.
_RECHECK_S = 0.5

# A page of statuses stops growing past this many bytes (it holds at least one).
PAGE_BYTES = 1024 * 1024


class StatusFeed(Tables):
    _database: Database
    _new_status: threading.Condition
    _status_count: int

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

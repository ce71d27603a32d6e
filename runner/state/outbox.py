"""The status outbox: every status is written here before it is sent, and removed once the
platform has accepted it, so a status survives a platform outage and a runner crash
(SIGKILL) and is delivered by the next start."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

from runner.core.model import TaskStatus
from runner.state.database import Database, translated
from runner.state.journal import instance_key

log = logging.getLogger(__name__)


class Outbox:
    def __init__(self, database: Database, *, max_statuses: int) -> None:
        self._database = database
        self.max_statuses = max_statuses
        self._dropped = 0
        with database.mutex, translated("count the undelivered statuses"):
            self._pending: int = database.db.execute("SELECT count(*) FROM outbox").fetchone()[0]

    @property
    def path(self) -> Path:
        return self._database.path

    def put(self, status: TaskStatus) -> bool:
        """Keep `status` until delivered; False if it was dropped because the outbox is full.

        A terminal status is always kept, and finishes its instance in the journal in
        the same transaction.
        """
        with self._database.mutex:
            if not status.terminal and self._pending >= self.max_statuses:
                self._drop(status)
                return False
            key = instance_key(status.task_instance_id)
            with translated("keep a status"), self._database.transaction() as db:
                db.execute(
                    "INSERT INTO outbox (instance, terminal, body, queued_at) VALUES (?, ?, ?, ?)",
                    (key, int(status.terminal), json.dumps(status.to_wire()), time.time()),
                )
                if status.terminal:
                    db.execute(
                        "UPDATE journal SET finished_at = ? WHERE instance = ?", (time.time(), key)
                    )
            self._pending += 1
            return True

    def _drop(self, status: TaskStatus) -> None:
        self._dropped += 1
        if self._dropped == 1 or self._dropped % 1000 == 0:
            log.error(
                "status outbox full (%d undelivered): dropping progress statuses "
                "(%d so far, latest for task instance %s); terminal ones are kept",
                self.max_statuses,
                self._dropped,
                status.task_instance_id,
            )

    def head(self) -> tuple[int, TaskStatus] | None:
        """The oldest undelivered status and its sequence number."""
        with self._database.mutex, translated("read the outbox"):
            row = self._database.db.execute(
                "SELECT seq, body FROM outbox ORDER BY seq LIMIT 1"
            ).fetchone()
        return None if row is None else (row[0], TaskStatus.from_wire(json.loads(row[1])))

    def delivered(self, seq: int) -> None:
        with self._database.mutex, translated("remove a delivered status"):
            if self._database.db.execute("DELETE FROM outbox WHERE seq = ?", (seq,)).rowcount:
                self._pending -= 1

    def pending(self) -> int:
        return self._pending

    def full(self) -> bool:
        return self._pending >= self.max_statuses

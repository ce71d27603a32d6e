"""The status outbox: every status is written here before it is sent, and removed once the
platform has accepted it, so a status survives a platform outage and a runner crash
(SIGKILL) and is delivered by the next start.

Each status belongs to the platform it is owed to (runner.state.database.platform_key
of the server URL). A runner sends only its own platform's; those owed to another stay
until a runner with the same id starts against that platform.
"""

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
        self._platform = database.platform
        with database.mutex, translated("count the undelivered statuses"):
            self._pending: int = database.db.execute(
                "SELECT count(*) FROM outbox WHERE platform = ?", (self._platform,)
            ).fetchone()[0]

    def owed_elsewhere(self) -> dict[str, int]:
        """The statuses owed to other platforms, by platform: kept, never sent from here."""
        with self._database.mutex, translated("count the statuses owed to other platforms"):
            rows = self._database.db.execute(
                "SELECT platform, count(*) FROM outbox WHERE platform != ? "
                "GROUP BY platform ORDER BY platform",
                (self._platform,),
            ).fetchall()
        return {str(platform): int(count) for platform, count in rows}

    @property
    def path(self) -> Path:
        return self._database.path

    def put(self, status: TaskStatus, platform: str | None = None) -> bool:
        """Keep `status` until delivered; False if it was dropped because the outbox is full.

        It is owed to this runner's platform, or to `platform` (an interrupted task of
        another platform: kept for it, not sent from here). A terminal status is always
        kept, and finishes its instance in the journal in the same transaction.
        """
        owed_to = platform or self._platform
        with self._database.mutex:
            if not status.terminal and self._pending >= self.max_statuses:
                self._drop(status)
                return False
            key = instance_key(status.task_instance_id)
            with translated("keep a status"), self._database.transaction() as db:
                db.execute(
                    "INSERT INTO outbox (instance, terminal, body, queued_at, platform) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (key, int(status.terminal), json.dumps(status.to_wire()), time.time(), owed_to),
                )
                if status.terminal:
                    db.execute(
                        "UPDATE journal SET finished_at = ? WHERE platform = ? AND instance = ?",
                        (time.time(), owed_to, key),
                    )
            if status.terminal:
                self._database.running.discard(key)
            self._pending += owed_to == self._platform
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
                "SELECT seq, body FROM outbox WHERE platform = ? ORDER BY seq LIMIT 1",
                (self._platform,),
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

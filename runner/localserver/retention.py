"""Retention of the local server's database: ended task instances (Completed or Error) beyond
the newest `keep`, or created over `max_age_days` ago, are deleted with their statuses.

A thread of its own does it, when the server starts and every EVERY_S after, in batches of
BATCH instances, each its own short transaction, so that no request waits long behind it
and a request never pays for it. Queued and running instances are never deleted. The
status feed's sequence numbers are never reused (AUTOINCREMENT), so a client following
the feed is not confused by deleted statuses.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from runner.config.local import DEFAULT_KEEP_ENDED
from runner.localserver.database import StoreError
from runner.localserver.records import iso
from runner.localserver.store import Store

logger = logging.getLogger(__name__)

EVERY_S = 60.0
BATCH = 500

# The ordinal of the newest ended instance not kept: it and the older ended ones go.
_LAST_DROPPED = """SELECT ordinal FROM instances WHERE state IN ('Completed', 'Error')
    ORDER BY ordinal DESC LIMIT 1 OFFSET ?"""
_DOOMED = """SELECT ordinal, id FROM instances WHERE state IN ('Completed', 'Error')
    AND (ordinal <= ? OR created_at < ?) ORDER BY ordinal LIMIT ?"""


@dataclass(frozen=True)
class Retention:
    """What is kept: the newest `keep` ended instances, none created over `max_age_days`
    ago (None: no age limit)."""

    keep: int = DEFAULT_KEEP_ENDED
    max_age_days: float | None = None

    def describe(self) -> str:
        age = f", none older than {self.max_age_days:g} days" if self.max_age_days else ""
        return f"the newest {self.keep} ended task instances{age}"


def apply(store: Store, retention: Retention, now: datetime | None = None) -> int:
    """Delete what `retention` does not keep; the number of instances deleted."""
    moment = now or datetime.now(UTC)
    cutoff = iso(moment - timedelta(days=retention.max_age_days)) if retention.max_age_days else ""
    with store.read() as db:
        row = db.execute(_LAST_DROPPED, (retention.keep,)).fetchone()
    last_dropped = -1 if row is None else int(row["ordinal"])
    deleted = 0
    while True:
        with store.write() as db:
            doomed = db.execute(_DOOMED, (last_dropped, cutoff, BATCH)).fetchall()
            ids = [(r["id"],) for r in doomed]
            db.executemany("DELETE FROM statuses WHERE instance_id = ?", ids)
            db.executemany("DELETE FROM instances WHERE id = ?", ids)
        deleted += len(ids)
        if len(ids) < BATCH:
            return deleted


class Keeper:
    """The thread that applies the retention: `start()`, `stop()`."""

    def __init__(self, store: Store, retention: Retention, every_s: float = EVERY_S) -> None:
        self._store = store
        self._retention = retention
        self._every_s = every_s
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="local-retention", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(10.0)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                deleted = apply(self._store, self._retention)
            except StoreError as exc:  # closed under it at shutdown, or a full disk: next turn
                if self._stopping.is_set():
                    return
                logger.error("cannot delete ended task instances: %s", exc)
            else:
                if deleted:
                    logger.info(
                        "deleted %d ended task instance(s) and their statuses (keeping %s)",
                        deleted,
                        self._retention.describe(),
                    )
            self._stopping.wait(self._every_s)

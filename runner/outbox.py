"""The runner's state on disk: the status outbox and the journal of taken tasks.

Every status is written here before it is sent and removed once the platform
has accepted it, so a status survives a platform outage and a runner crash
(SIGKILL) and is delivered by the next start. The journal records each task
instance as it is taken off the queue and when its terminal status was
decided; at start-up, instances taken but never finished are the ones a crash
interrupted.

SQLite in WAL mode with synchronous=NORMAL: a committed write survives the
process being killed; a power loss may lose the last few. One runner id owns
a state directory at a time (an exclusive lock file).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from runner.errors import ConfigError, StateError
from runner.model import TaskInstance, TaskStatus

log = logging.getLogger(__name__)

_KEEP_FINISHED_S = 7 * 24 * 3600.0  # how long finished tasks stay in the journal
_PRUNE_EVERY = 1000  # tasks taken between two prunings of the journal

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    instance TEXT NOT NULL,
    terminal INTEGER NOT NULL,
    body TEXT NOT NULL,
    queued_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS journal (
    instance TEXT PRIMARY KEY,
    namespace TEXT NOT NULL,
    name TEXT NOT NULL,
    taken_at REAL NOT NULL,
    finished_at REAL
);
"""


@dataclass(frozen=True)
class Taken:
    """A journal entry: a task instance taken off the queue."""

    instance_id: str | int
    namespace: str
    name: str
    taken_at: float

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}#{self.instance_id}"


def _key(instance_id: str | int) -> str:
    return json.dumps(instance_id)


class Outbox:
    def __init__(self, state_dir: Path, runner_id: str, *, max_statuses: int) -> None:
        self.max_statuses = max_statuses
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", runner_id)
        try:
            state_dir.mkdir(parents=True, exist_ok=True)
            self._lock_file = _lock(state_dir / f"{name}.lock", runner_id)
            self.path = state_dir / f"{name}.db"
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.executescript("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
            self._db.executescript(_SCHEMA)
            self._prune()
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(f"cannot open the runner's state in {state_dir}: {exc}") from None
        self._mutex = threading.Lock()
        self._dropped = 0
        self._taken = 0
        self._pending: int = self._db.execute("SELECT count(*) FROM outbox").fetchone()[0]

    def close(self) -> None:
        with self._mutex:
            self._db.close()
        self._lock_file.close()

    # The journal.

    def taken(self, instance: TaskInstance) -> None:
        with self._mutex, _translated("journal a task instance"):
            self._db.execute(
                "INSERT OR IGNORE INTO journal (instance, namespace, name, taken_at) "
                "VALUES (?, ?, ?, ?)",
                (_key(instance.id), instance.namespace, instance.name, time.time()),
            )
            self._taken += 1
            if self._taken % _PRUNE_EVERY == 0:
                self._prune()

    def _prune(self) -> None:
        """Forget tasks finished long ago, so a long-lived journal stays small."""
        self._db.execute(
            "DELETE FROM journal WHERE finished_at < ?", (time.time() - _KEEP_FINISHED_S,)
        )

    def unfinished(self) -> list[Taken]:
        """Instances taken whose terminal status was never decided, oldest first."""
        with self._mutex, _translated("read the journal"):
            rows = self._db.execute(
                "SELECT instance, namespace, name, taken_at FROM journal "
                "WHERE finished_at IS NULL ORDER BY taken_at"
            ).fetchall()
        return [Taken(json.loads(row[0]), row[1], row[2], row[3]) for row in rows]

    # The outbox.

    def put(self, status: TaskStatus) -> bool:
        """Keep `status` until delivered; False if it was dropped because the outbox is full.

        A terminal status is always kept, and finishes its instance in the journal.
        """
        with self._mutex:
            if not status.terminal and self._pending >= self.max_statuses:
                self._dropped += 1
                if self._dropped == 1 or self._dropped % 1000 == 0:
                    log.error(
                        "status outbox full (%d undelivered): dropping progress statuses "
                        "(%d so far, latest for task instance %s); terminal ones are kept",
                        self.max_statuses,
                        self._dropped,
                        status.task_instance_id,
                    )
                return False
            key = _key(status.task_instance_id)
            with _translated("keep a status"), self._transaction():
                self._db.execute(
                    "INSERT INTO outbox (instance, terminal, body, queued_at) VALUES (?, ?, ?, ?)",
                    (key, int(status.terminal), json.dumps(status.to_wire()), time.time()),
                )
                if status.terminal:
                    self._db.execute(
                        "UPDATE journal SET finished_at = ? WHERE instance = ?", (time.time(), key)
                    )
            self._pending += 1
            return True

    def head(self) -> tuple[int, TaskStatus] | None:
        """The oldest undelivered status and its sequence number."""
        with self._mutex, _translated("read the outbox"):
            row = self._db.execute("SELECT seq, body FROM outbox ORDER BY seq LIMIT 1").fetchone()
        return None if row is None else (row[0], TaskStatus.from_wire(json.loads(row[1])))

    def delivered(self, seq: int) -> None:
        with self._mutex, _translated("remove a delivered status"):
            if self._db.execute("DELETE FROM outbox WHERE seq = ?", (seq,)).rowcount:
                self._pending -= 1

    def pending(self) -> int:
        return self._pending

    def full(self) -> bool:
        return self._pending >= self.max_statuses

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")


@contextlib.contextmanager
def _translated(what: str) -> Iterator[None]:
    try:
        yield
    except sqlite3.Error as exc:
        raise StateError(f"cannot {what} in the runner's state: {exc}") from exc


def _lock(path: Path, runner_id: str) -> IO[str]:
    handle = path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise ConfigError(
            f"runner id {runner_id} is already running with state in {path.parent} "
            f"(lock held by {holder}); give each runner its own XC_RUNNER_ID"
        ) from None
    handle.truncate(0)
    handle.write(f"pid {os.getpid()}\n")
    handle.flush()
    return handle

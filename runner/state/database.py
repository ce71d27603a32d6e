"""The runner's state file: one SQLite database per runner id, and its exclusive lock.

SQLite in WAL mode with synchronous=NORMAL: a committed write survives the
process being killed; a power loss may lose the last few. One runner id owns
a state directory at a time (an exclusive lock file beside the database).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from runner.core.errors import ConfigError, StateError

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
    finished_at REAL,
    container TEXT
);
"""


class Database:
    """The connection, shared by the outbox and the journal under one mutex."""

    def __init__(self, state_dir: Path, runner_id: str) -> None:
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", runner_id)
        try:
            state_dir.mkdir(parents=True, exist_ok=True)
            self._lock_file = _lock(state_dir / f"{name}.lock", runner_id)
            self.path = state_dir / f"{name}.db"
            self.db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self.db.executescript("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
            self.db.executescript(_SCHEMA)
            _add_container_column(self.db)
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(f"cannot open the runner's state in {state_dir}: {exc}") from None
        self.mutex = threading.Lock()

    def close(self) -> None:
        with self.mutex:
            self.db.close()
        self._lock_file.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; the caller holds the mutex."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")


def _add_container_column(db: sqlite3.Connection) -> None:
    """A state file written before the journal named each task's container gets the column."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(journal)")}
    if "container" not in columns:
        db.execute("ALTER TABLE journal ADD COLUMN container TEXT")


@contextlib.contextmanager
def translated(what: str) -> Iterator[None]:
    """SQLite's errors become StateError naming what could not be done."""
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

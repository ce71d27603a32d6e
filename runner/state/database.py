"""The runner's state file: one SQLite database per runner id, and its exclusive lock.

SQLite in WAL mode with synchronous=NORMAL: a committed write survives the
process being killed; a power loss may lose the last few. A write waits on no
disk: only a checkpoint (the write-ahead log copied into the database file) does,
and checkpoints are made off the tasks' path, by the state's background thread on a
connection of its own (`checkpoint`), when no task is running or enough ran since the
last (`checkpoint_due`); SQLite makes one itself, on the writer's path, only if that
thread falls far behind. One runner id owns a state directory at a time (an exclusive
lock file beside the database).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

from runner.core.errors import ConfigError, StateError
from runner.files import not_regular

# Version 2: each owed status and each journaled task names the platform it belongs to.
SCHEMA_VERSION = 2
_OUTBOX = """CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    instance TEXT NOT NULL,
    terminal INTEGER NOT NULL,
    body TEXT NOT NULL,
    queued_at REAL NOT NULL,
    platform TEXT)"""
_JOURNAL = """CREATE TABLE IF NOT EXISTS journal (
    platform TEXT NOT NULL,
    instance TEXT NOT NULL,
    namespace TEXT NOT NULL,
    name TEXT NOT NULL,
    taken_at REAL NOT NULL,
    finished_at REAL,
    container TEXT,
    PRIMARY KEY (platform, instance))"""
_OUTBOX_INDEX = "CREATE INDEX IF NOT EXISTS outbox_platform ON outbox (platform, seq)"
# Pages of write-ahead log after which a writer checkpoints itself (SQLite's default is
# 1000: about every 80 tasks, a few ms to tens of ms on a task's path).
_WRITER_CHECKPOINT_PAGES = 20000
# Tasks taken after which the background checkpoints even while tasks run (about 600
# pages of log): a checkpoint's fsyncs slow the writes made meanwhile.
CHECKPOINT_AFTER_TASKS = 50


def platform_key(server_url: str) -> str:
    """The platform a server URL names, as the state file keys it: scheme and host in lower
    case, no default port, no user or password, no trailing slash, no query."""
    parts = urlsplit(server_url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    default = {"http": 80, "https": 443}.get(scheme)
    netloc = host if port in (None, default) else f"{host}:{port}"
    return f"{scheme}://{netloc}{parts.path.rstrip('/')}"


@dataclass(frozen=True)
class Opened:
    """What opening the state file found: rows written before statuses were keyed by
    platform, now the opening platform's."""

    adopted_statuses: int = 0
    adopted_tasks: int = 0


class Database:
    """The connection, shared by the outbox and the journal under one mutex; `platform` is
    the key (platform_key) of the platform this runner works for."""

    def __init__(self, state_dir: Path, runner_id: str, platform: str) -> None:
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", runner_id)
        self.platform = platform
        try:
            state_dir.mkdir(parents=True, exist_ok=True)
            self.path = state_dir / f"{name}.db"
            for path in (state_dir / f"{name}.lock", self.path):
                if (why := not_regular(path)) is not None:  # SQLite would wait on a FIFO
                    raise ConfigError(f"cannot open the runner's state: {path} is {why}")
            self._lock_file = _lock(state_dir / f"{name}.lock", runner_id)
            self.db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self.db.executescript(
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                f"PRAGMA wal_autocheckpoint={_WRITER_CHECKPOINT_PAGES};"
            )
            self.opened = _migrate(self.db, platform)
            self._checkpoints = sqlite3.connect(
                self.path, check_same_thread=False, isolation_level=None
            )
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(f"cannot open the runner's state in {state_dir}: {exc}") from None
        self.mutex = threading.Lock()
        self.running: set[str] = set()  # instances taken, their terminal status not kept yet
        self.taken = 0  # tasks taken since the last checkpoint

    def close(self) -> None:
        with self.mutex:
            self._checkpoints.close()
            self.db.close()
        self._lock_file.close()

    def checkpoint_due(self) -> bool:
        """Whether tasks were taken since the last checkpoint, and none runs now (or many
        were taken)."""
        with self.mutex:
            return self.taken > 0 and (not self.running or self.taken >= CHECKPOINT_AFTER_TASKS)

    def checkpoint(self) -> None:
        """Copy what the write-ahead log holds into the database file, without waiting for
        the writers (nor making them wait: not under the mutex)."""
        with self.mutex:
            taken, self.taken = self.taken, 0
        try:
            with translated("checkpoint the state file"):
                busy, pages, copied = self._checkpoints.execute(
                    "PRAGMA wal_checkpoint(PASSIVE)"
                ).fetchone()
                if not busy and pages == copied:
                    # The log is all copied: the next write starts it afresh, and first
                    # syncs its header to the disk. One write here does that, off the
                    # tasks' path.
                    version = self._checkpoints.execute("PRAGMA user_version").fetchone()[0]
                    self._checkpoints.execute(f"PRAGMA user_version = {int(version)}")
        except StateError:
            with self.mutex:
                self.taken += taken  # still due: tried again at the next look
            raise

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


def _migrate(db: sqlite3.Connection, platform: str) -> Opened:
    """Bring a state file to SCHEMA_VERSION, in one transaction; a new file is made so.

    Rows written before statuses were keyed by platform (version 0 and 1) have no
    platform: they become `platform`'s, the platform of the first start after the upgrade,
    as the earlier versions would have posted them there.
    """
    if db.execute("PRAGMA user_version").fetchone()[0] >= SCHEMA_VERSION:
        return Opened()
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute(_OUTBOX)
        if "platform" not in _columns(db, "outbox"):
            db.execute("ALTER TABLE outbox ADD COLUMN platform TEXT")
        statuses = db.execute(
            "UPDATE outbox SET platform = ? WHERE platform IS NULL", (platform,)
        ).rowcount
        tasks = _journal_with_platform(db, platform)
        db.execute(_OUTBOX_INDEX)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
    return Opened(statuses, tasks)


def _journal_with_platform(db: sqlite3.Connection, platform: str) -> int:
    """The journal keyed by (platform, instance); an earlier one's rows become `platform`'s.
    The number of rows adopted so."""
    columns = _columns(db, "journal")
    if not columns or "platform" in columns:
        db.execute(_JOURNAL)
        return 0
    if "container" not in columns:  # a journal older still: it did not name containers
        db.execute("ALTER TABLE journal ADD COLUMN container TEXT")
    db.execute("ALTER TABLE journal RENAME TO journal_unkeyed")
    db.execute(_JOURNAL)
    adopted = db.execute(
        "INSERT INTO journal (platform, instance, namespace, name, taken_at, finished_at, "
        "container) SELECT ?, instance, namespace, name, taken_at, finished_at, container "
        "FROM journal_unkeyed",
        (platform,),
    ).rowcount
    db.execute("DROP TABLE journal_unkeyed")
    return adopted


def _columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in db.execute(f"PRAGMA table_info({table})")}


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

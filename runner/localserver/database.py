"""The local server's SQLite connection: the only module of the server that imports sqlite3.

One connection shared by the server's threads under a lock; writes in `BEGIN
IMMEDIATE` transactions, so several processes sharing the file stay consistent.
SQLite's errors become StoreError here, once.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Protocol

from runner.files import not_regular


class StoreError(Exception):
    """The database failed (disk full, file unreadable, locked too long)."""


class StoreClosed(StoreError):
    """The store was used after close(): the server is stopping."""


# How the store's tables reach the connection: `with access() as db: db.execute(...)`.
Access = Callable[[], AbstractContextManager[sqlite3.Connection]]


class Row(Protocol):
    """A stored row: its columns by name."""

    def __getitem__(self, key: str, /) -> Any: ...


class Database:
    def __init__(self, path: Path, schema: Sequence[str]) -> None:
        if (why := not_regular(path)) is not None:  # SQLite would wait on a FIFO
            raise StoreError(why)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: transactions are begun explicitly, IMMEDIATE.
            self._db = sqlite3.connect(
                str(path), timeout=30, isolation_level=None, check_same_thread=False
            )
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(str(exc)) from exc
        self._lock = threading.RLock()
        self.closed = False
        try:
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")  # the first read of the file
            with self.write() as db:
                for statement in schema:
                    db.execute(statement)
        except (StoreError, sqlite3.Error) as exc:
            self._db.close()
            if isinstance(exc, StoreError):
                raise
            raise StoreError(str(exc)) from exc  # e.g. "file is not a database"

    def close(self) -> None:
        with self._lock:
            self.closed = True
            self._db.close()

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self.closed:
                raise StoreClosed("the local server's database is closed")
            try:
                yield self._db
            except sqlite3.Error as exc:
                raise StoreError(str(exc)) from exc

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        with self.read():
            self._db.execute("BEGIN IMMEDIATE")
            committed = False
            try:
                yield self._db
                committed = True
            finally:
                self._db.execute("COMMIT" if committed else "ROLLBACK")

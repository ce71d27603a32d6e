"""The local server's state in one SQLite file: catalog, task instances, statuses.

Each kind of record has a class of its own (catalogs.py, instances.py, statusfeed.py);
`Store` is all of them on one connection. Every write runs in a `BEGIN IMMEDIATE`
transaction; an in-process lock serialises the threads sharing the one connection.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from types import TracebackType

from runner.localserver.catalogs import CatalogTable
from runner.localserver.database import Database, StoreClosed
from runner.localserver.instances import InstanceTable
from runner.localserver.sql import SCHEMA
from runner.localserver.statusfeed import PAGE_BYTES, StatusFeed

__all__ = ["PAGE_BYTES", "Store", "StoreClosed"]

logger = logging.getLogger(__name__)


class Store(CatalogTable, InstanceTable, StatusFeed):
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

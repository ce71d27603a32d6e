"""What the store's tables share: its database and the lock it reads and writes under."""

from __future__ import annotations

from typing import Any

from runner.localserver.database import Access


class Tables:
    """The store's connection, for the classes that each keep one kind of record."""

    read: Access  # read-only queries, here and in the cockpit
    _write: Access

    def definition(self, namespace: str, name: str) -> dict[str, Any] | None:
        raise NotImplementedError

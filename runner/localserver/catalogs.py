"""The published catalogs: one row per task definition, versioned by content."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from runner.localserver.jsontext import stored
from runner.localserver.records import dumps, next_version
from runner.localserver.tables import Tables


class CatalogTable(Tables):
    def publish_catalog(
        self,
        namespace: str,
        definitions: Sequence[Mapping[str, Any]],
        *,
        remove_previous: bool = False,
    ) -> list[dict[str, Any]]:
        """Store each definition, versioned by content; return them as stored."""
        stored_now: list[dict[str, Any]] = []
        with self._write() as db:
            rows = db.execute(
                "SELECT name, definition FROM catalog WHERE namespace = ?", (namespace,)
            )
            current = {r["name"]: stored(r["definition"]) for r in rows}
            for definition in definitions:
                new = {**definition, "namespace": namespace}
                new["versionNumber"] = next_version(current.get(new["name"]), new)
                db.execute(
                    "INSERT OR REPLACE INTO catalog VALUES (?, ?, ?)",
                    (namespace, new["name"], dumps(new)),
                )
                stored_now.append(new)
            if remove_previous:
                for name in set(current) - {d["name"] for d in stored_now}:
                    db.execute(
                        "DELETE FROM catalog WHERE namespace = ? AND name = ?", (namespace, name)
                    )
        return stored_now

    def catalog(self, namespace: str | None = None) -> list[dict[str, Any]]:
        """The definitions published in `namespace` by name, or in all by namespace and name."""
        with self.read() as db:
            if namespace is None:
                rows = db.execute("SELECT definition FROM catalog ORDER BY namespace, name")
            else:
                rows = db.execute(
                    "SELECT definition FROM catalog WHERE namespace = ? ORDER BY name", (namespace,)
                )
            return [d for r in rows if isinstance(d := stored(r["definition"]), dict)]

    def definition(self, namespace: str, name: str) -> dict[str, Any] | None:
        with self.read() as db:
            row = db.execute(
                "SELECT definition FROM catalog WHERE namespace = ? AND name = ?", (namespace, name)
            ).fetchone()
        found = None if row is None else stored(row["definition"])
        return dict(found) if isinstance(found, dict) else None

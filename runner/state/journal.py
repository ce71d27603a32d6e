"""The journal of taken tasks: each task instance as it is taken off the queue, the
container it was handed to, and when its terminal status was decided. At start-up, the
instances taken but never finished are the ones a crash interrupted; their containers
are found here (a warm container carries no task labels)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from runner.core.model import TaskInstance, task_ref
from runner.state.database import Database, translated

_KEEP_FINISHED_S = 7 * 24 * 3600.0  # how long finished tasks stay in the journal
_PRUNE_EVERY = 1000  # tasks taken between two prunings of the journal


@dataclass(frozen=True)
class Taken:
    """A journal entry: a task instance taken off the queue."""

    instance_id: str | int
    namespace: str
    name: str
    taken_at: float
    container: str | None = None  # the container it was handed to, if it got one

    @property
    def ref(self) -> str:
        return task_ref(self.namespace, self.name, self.instance_id)


def instance_key(instance_id: str | int) -> str:
    """How an instance id is stored: its JSON, so that 7 and "7" stay apart."""
    return json.dumps(instance_id)


class Journal:
    def __init__(self, database: Database) -> None:
        self._database = database
        self._taken = 0
        with database.mutex, translated("prune the journal"):
            self._prune()

    def taken(self, instance: TaskInstance) -> None:
        with self._database.mutex, translated("journal a task instance"):
            self._database.db.execute(
                "INSERT OR IGNORE INTO journal (instance, namespace, name, taken_at) "
                "VALUES (?, ?, ?, ?)",
                (instance_key(instance.id), instance.namespace, instance.name, time.time()),
            )
            self._taken += 1
            if self._taken % _PRUNE_EVERY == 0:
                self._prune()

    def handed_out(self, instance: TaskInstance, container_id: str) -> None:
        """`instance` runs in `container_id` from now on."""
        with self._database.mutex, translated("journal a task's container"):
            self._database.db.execute(
                "UPDATE journal SET container = ? WHERE instance = ?",
                (container_id, instance_key(instance.id)),
            )

    def _prune(self) -> None:
        """Forget tasks finished long ago, so a long-lived journal stays small."""
        self._database.db.execute(
            "DELETE FROM journal WHERE finished_at < ?", (time.time() - _KEEP_FINISHED_S,)
        )

    def unfinished(self) -> list[Taken]:
        """Instances taken whose terminal status was never decided, oldest first."""
        with self._database.mutex, translated("read the journal"):
            rows = self._database.db.execute(
                "SELECT instance, namespace, name, taken_at, container FROM journal "
                "WHERE finished_at IS NULL ORDER BY taken_at"
            ).fetchall()
        return [Taken(json.loads(row[0]), row[1], row[2], row[3], row[4]) for row in rows]

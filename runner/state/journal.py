"""The journal of taken tasks: each task instance as it is taken off the queue, the
container it was handed to, and when its terminal status was decided. At start-up, the
instances taken but never finished are the ones a crash interrupted; their containers
are found here (a warm container carries no task labels).

Each entry belongs to the platform the task was taken from. Ended entries are kept
for a while only (`prune`, run off the tasks' path by runner.state.pruner): the newest
`keep`, none ended over a week ago; never one still running, nor one whose statuses are
still owed.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass

from runner.core.model import TaskInstance, task_ref
from runner.state.database import Database, translated

DEFAULT_JOURNAL_KEEP = 1000  # ended tasks kept in the journal
KEEP_ENDED_S = 7 * 24 * 3600.0  # and none that ended longer ago than this
_PRUNE_AFTER_MIN, _PRUNE_AFTER_MAX = 10, 500  # tasks taken between two prunings

# Ended entries beyond the newest :keep, or ended before :cutoff, and no status of theirs
# in the outbox.
_PRUNE = """DELETE FROM journal WHERE finished_at IS NOT NULL
    AND (finished_at < :cutoff OR rowid NOT IN (
        SELECT rowid FROM journal WHERE finished_at IS NOT NULL
        ORDER BY finished_at DESC, rowid DESC LIMIT :keep))
    AND (platform, instance) NOT IN (SELECT platform, instance FROM outbox)"""


@dataclass(frozen=True)
class Taken:
    """A journal entry: a task instance taken off the queue."""

    instance_id: str | int
    namespace: str
    name: str
    taken_at: float
    container: str | None = None  # the container it was handed to, if it got one
    platform: str = ""  # the platform it was taken from (runner.state.database.platform_key)

    @property
    def ref(self) -> str:
        return task_ref(self.namespace, self.name, self.instance_id)


def instance_key(instance_id: str | int) -> str:
    """How an instance id is stored: its JSON, so that 7 and "7" stay apart."""
    return json.dumps(instance_id)


class Journal:
    def __init__(self, database: Database, *, keep: int = DEFAULT_JOURNAL_KEEP) -> None:
        self._database = database
        self.keep = keep
        self._taken = 0  # since the last pruning
        self._prune_after = min(max(keep // 2, _PRUNE_AFTER_MIN), _PRUNE_AFTER_MAX)
        self.prune_due = threading.Event()  # set when enough tasks were taken to prune
        self.prune()

    def taken(self, instance: TaskInstance) -> None:
        database, key = self._database, instance_key(instance.id)
        with database.mutex, translated("journal a task instance"):
            database.db.execute(
                "INSERT OR IGNORE INTO journal (platform, instance, namespace, name, taken_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (database.platform, key, instance.namespace, instance.name, time.time()),
            )
            database.running.add(key)
            database.taken += 1
            self._taken += 1
        if self._taken >= self._prune_after:
            self.prune_due.set()

    def handed_out(self, instance: TaskInstance, container_id: str) -> None:
        """`instance` runs in `container_id` from now on."""
        with self._database.mutex, translated("journal a task's container"):
            self._database.db.execute(
                "UPDATE journal SET container = ? WHERE platform = ? AND instance = ?",
                (container_id, self._database.platform, instance_key(instance.id)),
            )

    def prune(self) -> int:
        """Forget ended tasks beyond the newest `keep` and those ended over KEEP_ENDED_S
        ago, but none whose statuses are still owed; the number forgotten."""
        self.prune_due.clear()
        with self._database.mutex, translated("prune the journal"):
            self._taken = 0
            cursor = self._database.db.execute(
                _PRUNE, {"cutoff": time.time() - KEEP_ENDED_S, "keep": self.keep}
            )
            return cursor.rowcount

    def unfinished(self) -> list[Taken]:
        """Instances taken whose terminal status was never decided, of every platform, oldest
        first."""
        with self._database.mutex, translated("read the journal"):
            rows = self._database.db.execute(
                "SELECT instance, namespace, name, taken_at, container, platform FROM journal "
                "WHERE finished_at IS NULL ORDER BY taken_at"
            ).fetchall()
        return [Taken(json.loads(row[0]), *row[1:]) for row in rows]

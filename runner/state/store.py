"""The runner's state on disk, in two parts over one SQLite file per runner id:

- `outbox`: every status, from before it is sent until the platform accepted it;
- `journal`: every task instance taken off the queue, and whether it finished.

Together they give at-least-once status delivery across outages and crashes,
and exactly one terminal status per task instance taken.
"""

from __future__ import annotations

from pathlib import Path

from runner.core.errors import ConfigError, StateError
from runner.state.database import Database
from runner.state.journal import Journal, Taken
from runner.state.outbox import Outbox

__all__ = ["Journal", "Outbox", "StateStore", "Taken"]


class StateStore:
    """Opens (and locks) a runner id's state in `state_dir`; `close()` releases it."""

    def __init__(self, state_dir: Path, runner_id: str, *, max_statuses: int) -> None:
        self._database = Database(state_dir, runner_id)
        try:
            self.journal = Journal(self._database)
            self.outbox = Outbox(self._database, max_statuses=max_statuses)
        except StateError as exc:
            self._database.close()
            raise ConfigError(f"cannot open the runner's state in {state_dir}: {exc}") from None

    @property
    def path(self) -> Path:
        return self._database.path

    def close(self) -> None:
        self._database.close()

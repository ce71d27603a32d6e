"""The runner's state on disk, in two parts over one SQLite file per runner id:

- `outbox`: every status, from before it is sent until the platform accepted it;
- `journal`: every task instance taken off the queue, and whether it finished.

Together they give at-least-once status delivery across outages and crashes,
and exactly one terminal status per task instance taken. Both belong to the
platform they were taken from and are owed to (`platform`, a server URL).
"""

from __future__ import annotations

import logging
from pathlib import Path

from runner.core.errors import ConfigError, StateError
from runner.state.database import Database, platform_key
from runner.state.journal import DEFAULT_JOURNAL_KEEP, Journal, Taken
from runner.state.outbox import Outbox
from runner.state.pruner import JournalPruner

__all__ = ["DEFAULT_JOURNAL_KEEP", "Journal", "Outbox", "StateStore", "Taken", "platform_key"]

log = logging.getLogger(__name__)


class StateStore:
    """Opens (and locks) a runner id's state in `state_dir`, for the platform at `server_url`;
    `start()` prunes the journal in the background from then on; `close()` releases it."""

    def __init__(
        self,
        state_dir: Path,
        runner_id: str,
        *,
        server_url: str,
        max_statuses: int,
        journal_keep: int = DEFAULT_JOURNAL_KEEP,
    ) -> None:
        self.platform = platform_key(server_url)
        self._database = Database(state_dir, runner_id, self.platform)
        try:
            self.journal = Journal(self._database, keep=journal_keep)
            self.outbox = Outbox(self._database, max_statuses=max_statuses)
            self._say_what_is_kept(runner_id)
        except StateError as exc:
            self._database.close()
            raise ConfigError(f"cannot open the runner's state in {state_dir}: {exc}") from None
        self._pruner = JournalPruner(self.journal, self._database)
        self._started = False

    @property
    def path(self) -> Path:
        return self._database.path

    def start(self) -> None:
        self._pruner.start()
        self._started = True

    def close(self) -> None:
        if self._started:
            self._pruner.stop()
        self._database.close()

    def _say_what_is_kept(self, runner_id: str) -> None:
        """One line each: rows adopted by this platform at an upgrade; statuses kept for
        others."""
        opened = self._database.opened
        if opened.adopted_statuses or opened.adopted_tasks:
            log.warning(
                "%s was written before the runner's state was kept per platform: its %d "
                "undelivered status(es) and %d journaled task(s) are taken to be %s's",
                self.path,
                opened.adopted_statuses,
                opened.adopted_tasks,
                self.platform,
            )
        elsewhere = self.outbox.owed_elsewhere()
        if elsewhere:
            log.warning(
                "keeping %s in %s; they are not sent to %s (this runner's platform): runner %s "
                "delivers them when started against their own",
                ", ".join(f"{count} status(es) owed to {url}" for url, count in elsewhere.items()),
                self.path,
                self.platform,
                runner_id,
            )

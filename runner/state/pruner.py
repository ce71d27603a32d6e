"""The journal's pruning and the state file's checkpoints, on a thread of their own, so that
no task waits for them.

It prunes when enough tasks were taken since the last pruning (the journal says so:
`Journal.prune_due`), at least every PRUNE_EVERY_S (ended entries also age out), and once
more when stopped; it looks every CHECKPOINT_EVERY_S whether the state file is due a
checkpoint (runner.state.database). A failure is logged, and tried again at the next turn.
"""

from __future__ import annotations

import logging
import threading
import time

from runner.core.condition import Condition, log_said
from runner.core.errors import StateError
from runner.state.database import Database
from runner.state.journal import Journal

log = logging.getLogger(__name__)

PRUNE_EVERY_S = 60.0
CHECKPOINT_EVERY_S = 1.0


class JournalPruner:
    def __init__(
        self, journal: Journal, database: Database, every_s: float = PRUNE_EVERY_S
    ) -> None:
        self._journal = journal
        self._database = database
        self._every_s = every_s
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="journal-pruner", daemon=True)
        self._checkpoints = Condition(
            "the state file cannot be checkpointed", "the state file is checkpointed again"
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread, and prune once more."""
        self._stopping.set()
        self._journal.prune_due.set()
        if self._thread.is_alive():
            self._thread.join(10.0)
        self._prune()

    def _run(self) -> None:
        pruned = time.monotonic()
        while not self._stopping.is_set():
            due = self._journal.prune_due.wait(CHECKPOINT_EVERY_S)
            if self._stopping.is_set():
                return
            if due or time.monotonic() - pruned >= self._every_s:
                self._prune()
                pruned = time.monotonic()
            if self._database.checkpoint_due():
                self._checkpoint()

    def _checkpoint(self) -> None:
        try:
            self._database.checkpoint()
        except StateError as exc:
            said = self._checkpoints.failed(str(exc), time.monotonic(), "tried again every second")
        else:
            said = self._checkpoints.ok(time.monotonic())
        log_said(log, said)

    def _prune(self) -> None:
        try:
            forgotten = self._journal.prune()
        except StateError as exc:
            log.error("%s", exc)
            return
        log.debug("journal: %d ended task(s) forgotten", forgotten)

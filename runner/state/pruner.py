"""The journal's pruning, on a thread of its own, so that no task waits for it.

It prunes when enough tasks were taken since the last pruning (the journal says so:
`Journal.prune_due`), at least every PRUNE_EVERY_S (ended entries also age out), and once
more when stopped. A failure is logged, and tried again at the next turn.
"""

from __future__ import annotations

import logging
import threading

from runner.core.errors import StateError
from runner.state.journal import Journal

log = logging.getLogger(__name__)

PRUNE_EVERY_S = 60.0


class JournalPruner:
    def __init__(self, journal: Journal, every_s: float = PRUNE_EVERY_S) -> None:
        self._journal = journal
        self._every_s = every_s
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="journal-pruner", daemon=True)

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
        while not self._stopping.is_set():
            self._journal.prune_due.wait(self._every_s)
            if not self._stopping.is_set():
                self._prune()

    def _prune(self) -> None:
        try:
            forgotten = self._journal.prune()
        except StateError as exc:
            log.error("%s", exc)
            return
        log.debug("journal: %d ended task(s) forgotten", forgotten)

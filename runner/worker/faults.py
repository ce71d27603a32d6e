"""The runner's own faults, shared by the threads that meet them: the task threads (their
launches), the warm pool (its creations) and the doctor (pings and probes) tell of them;
the poll loop, the probes and the metrics read them, from memory, without waiting.

The decisions (which faults hold, when to probe, what to log) are runner.core.faults';
this wraps them with a lock, the clock and the log.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from runner.core.condition import Say, log_said
from runner.core.errors import EngineError, ImageFault, SecretError
from runner.core.faults import ENGINE_ANSWER, ENGINE_CREATE, FaultBook, Scope, image_scope

log = logging.getLogger(__name__)


def scope_of(image: str, error: EngineError) -> Scope:
    """Whose fault a failed launch of `image` is: that image's (it is missing, its secrets
    cannot be read), or the engine's (anything else)."""
    if isinstance(error, ImageFault | SecretError):
        return image_scope(image)
    return ENGINE_CREATE


class RunnerFaults:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._book = FaultBook()
        self._changed = threading.Condition()
        self._any = False  # whether a fault holds: read without the lock on the hot path
        self._ended = 0  # faults ended so far: a waiting task tries again when it moves

    # What the task threads, the pool and the doctor tell.

    def mark(self) -> int:
        """To take before an attempt, and give back with its success (FaultBook.mark)."""
        return self._book.mark()

    def launched(self, image: str, *, created: bool, mark: int) -> None:
        """A container of `image`, by its name, was launched in an attempt begun at `mark`
        (`created`: just now, not taken from the warm pool, so the engine creates
        containers)."""
        if not self._any:
            return
        self._clear(image_scope(image), mark)
        if created:
            self._clear(ENGINE_CREATE, mark)

    def created(self, mark: int) -> None:
        """A container was created (from an image ID: that says nothing of any name)."""
        if self._any:
            self._clear(ENGINE_CREATE, mark)

    def launch_failed(self, image: str, error: EngineError) -> None:
        """A container of `image` could not be launched."""
        self.failed(scope_of(image, error), str(error))

    def answered(self, mark: int) -> None:
        """The engine answered a ping begun at `mark`."""
        if self._any:
            self._clear(ENGINE_ANSWER, mark)

    def failed(self, scope: Scope, detail: str) -> None:
        with self._changed:
            said = self._book.failed(scope, detail, self._clock())
            self._any = True
        _log(said)

    def _clear(self, scope: Scope, mark: int) -> None:
        with self._changed:
            said = self._book.cleared(scope, self._clock(), mark)
            self._any = bool(self._book.engine_problem() or self._book.image_problems())
            if said is not None:
                self._ended += 1
                self._changed.notify_all()
        _log(said)

    # What the doctor asks.

    def due(self) -> list[Scope]:
        """The faults to probe now."""
        with self._changed:
            return self._book.due(self._clock())

    def next_probe_in(self) -> float | None:
        with self._changed:
            return self._book.next_probe_in(self._clock())

    # What the loop, the tasks waiting to start, the probes and the metrics read.

    def engine_problem(self) -> str | None:
        """Why no task can run now (the engine's fault), or None."""
        if not self._any:
            return None
        with self._changed:
            return self._book.engine_problem()

    def image_problems(self) -> dict[str, str]:
        """Each image that cannot be launched now, and why."""
        if not self._any:
            return {}
        with self._changed:
            return self._book.image_problems()

    def holds(self, scope: Scope) -> bool:
        with self._changed:
            return self._book.holds(scope)

    def ended(self) -> int:
        """How many faults have ended so far (for `wait_ended`)."""
        return self._ended

    def wait_ended(self, since: int, timeout_s: float) -> bool:
        """Wait up to `timeout_s` for a fault to end after `ended()` was `since`; whether one
        did."""
        with self._changed:
            return self._changed.wait_for(lambda: self._ended != since, timeout_s)


def _log(said: Say | None) -> None:
    log_said(log, said)

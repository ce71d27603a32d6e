"""Status delivery: durable, in order, at least once, off the task threads.

Task threads hand statuses over without waiting for the platform: each is
written to the outbox on disk first. One sender thread posts them oldest
first (so in order per task instance too) and removes each once accepted,
retrying connection errors, timeouts, 5xx, 429 and refused keys with capped,
jittered exponential backoff for as long as the runner runs; what is left at
exit is delivered by the next start. Only a status the platform refuses for
good (another 4xx) is dropped, and logged.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Protocol

from runner.backoff import Backoff
from runner.errors import AuthError, PlatformError, StateError
from runner.model import TaskStatus
from runner.outbox import Outbox

log = logging.getLogger(__name__)

_IDLE_CHECK_S = 1.0


class StatusSink(Protocol):
    def submit(self, status: TaskStatus) -> None:
        """Deliver this status, in order after those submitted before it."""


class StatusSender:
    def __init__(
        self,
        post: Callable[[TaskStatus], None],
        outbox: Outbox,
        *,
        backoff: Backoff | None = None,
    ) -> None:
        self._post = post
        self._outbox = outbox
        self._backoff = backoff or Backoff(base_s=0.5, cap_s=30.0)
        self._cond = threading.Condition()
        self._closing = False
        self._abandon = threading.Event()
        self._failure: str | None = None  # why the oldest status is not delivered yet
        self._thread = threading.Thread(target=self._run, name="status-sender", daemon=True)
        self._thread.start()

    def submit(self, status: TaskStatus) -> None:
        try:
            self._outbox.put(status)
        except StateError as exc:  # e.g. a full disk: one direct attempt, else it is lost
            self._post_unkept(status, exc)
            return
        with self._cond:
            self._cond.notify()

    def _post_unkept(self, status: TaskStatus, problem: StateError) -> None:
        try:
            self._post(status)
        except PlatformError as exc:
            log.error(
                "status lost: %s, and posting it directly failed: %s; the status was %s",
                problem,
                exc,
                status.to_wire(),
            )
        else:
            log.error(
                "%s; posted status %s of %s directly",
                problem,
                status.status,
                status.task_instance_id,
            )

    def pending(self) -> int:
        return self._outbox.pending()

    def blocked(self) -> str | None:
        """Why no new task should be taken now: delivery failing or the outbox full."""
        if self._outbox.full():
            return f"the status outbox is full ({self.pending()} undelivered statuses)"
        failure = self._failure
        if failure is not None:
            return f"statuses cannot be delivered ({self.pending()} waiting): {failure}"
        return None

    def close(self, timeout_s: float) -> int:
        """Deliver what is waiting, for at most `timeout_s`; the number left for the next start."""
        with self._cond:
            if self._closing:
                return self.pending()
            self._closing = True
            self._cond.notify()
        self._thread.join(timeout_s)
        if self._thread.is_alive():
            self._abandon.set()
            self._thread.join(5.0)
        left = self.pending()
        if left:
            log.warning(
                "%d status(es) not delivered yet; they stay in %s for the next start",
                left,
                self._outbox.path,
            )
        return left

    def _run(self) -> None:
        while not self._abandon.is_set():
            try:
                item = self._outbox.head()
            except StateError as exc:
                log.error("%s; trying again in %.0f s", exc, _IDLE_CHECK_S)
                self._abandon.wait(_IDLE_CHECK_S)
                continue
            if item is None:
                with self._cond:
                    if self._closing:
                        return
                    self._cond.wait(_IDLE_CHECK_S)
                continue
            seq, status = item
            if not self._deliver(status):
                return
            try:
                self._outbox.delivered(seq)
            except StateError as exc:  # it will be sent again: at least once
                log.error("%s", exc)

    def _deliver(self, status: TaskStatus) -> bool:
        """Post until accepted or refused for good; False if abandoned at shutdown."""
        self._backoff.reset()
        while True:
            try:
                self._post(status)
                self._failure = None
                return True
            except PlatformError as exc:
                if not exc.transient and not isinstance(exc, AuthError):
                    self._failure = None
                    log.error(
                        "status dropped: %s (task instance %s, %s: %r)",
                        exc,
                        status.task_instance_id,
                        status.status,
                        status.message,
                    )
                    return True
                self._failure = str(exc)
                delay = self._backoff.next()
                log.warning("%s; retrying in %.1f s", exc, delay)
            except Exception:  # a bug must not stop delivery of the statuses behind this one
                log.exception(
                    "status dropped: %s for task instance %s",
                    status.status,
                    status.task_instance_id,
                )
                return True
            if self._abandon.wait(delay):
                return False

"""Status delivery: durable, in order, at least once, off the task threads.

Task threads hand statuses over without waiting for the platform: each is
written to the outbox on disk first. One sender thread posts them oldest
first (so in order per task instance too) and removes each once accepted,
retrying connection errors, timeouts, transient HTTP statuses and refused keys
on the STATUS_DELIVERY schedule for as long as the runner runs; what is left
at exit is delivered by the next start. Only a status the platform refuses for
good (another 4xx) is dropped, and logged.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from runner.core.backoff import STATUS_DELIVERY, Backoff, Stopped, retry
from runner.core.condition import Condition, log_said
from runner.core.errors import AuthError, PlatformError, StateError
from runner.core.heartbeat import Heartbeat, wait_beating
from runner.core.model import TaskStatus
from runner.core.observer import NullObserver, Observer
from runner.core.taskcontext import about_instance, forget

log = logging.getLogger(__name__)

_IDLE_CHECK_S = 1.0
_ABANDON_WAIT_S = 5.0


class StatusSink(Protocol):
    def submit(self, status: TaskStatus) -> None:
        """Deliver this status, in order after those submitted before it."""


class Outbox(Protocol):
    @property
    def path(self) -> Path: ...
    def put(self, status: TaskStatus) -> bool: ...
    def head(self) -> tuple[int, TaskStatus] | None: ...
    def delivered(self, seq: int) -> None: ...
    def pending(self) -> int: ...
    def full(self) -> bool: ...


def _retryable(exc: Exception) -> bool:
    """Worth posting again later: the platform may come back, or its key may be fixed."""
    return isinstance(exc, PlatformError) and (exc.transient or isinstance(exc, AuthError))


class StatusSender:
    """`start()` the sender thread; `stop()` delivers what is waiting, for a while."""

    def __init__(
        self,
        post: Callable[[TaskStatus], None],
        outbox: Outbox,
        *,
        backoff: Backoff | None = None,
        observer: Observer | None = None,
    ) -> None:
        self._post = post
        self._outbox = outbox
        self._backoff = backoff or STATUS_DELIVERY.backoff()
        self._observer = observer or NullObserver()
        self.heartbeat = Heartbeat()  # beats at every status and while waiting
        self._cond = threading.Condition()
        self._closing = False
        self._abandon = threading.Event()
        self._failure: str | None = None  # why the oldest status is not delivered yet
        self._failing = Condition(
            "statuses cannot be delivered", "statuses are delivered again", level="warning"
        )
        self._thread = threading.Thread(target=self._run, name="status-sender", daemon=True)

    def start(self) -> None:
        """Start posting: statuses an earlier run could not deliver go first."""
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
            self._observer.platform_error()
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

    def trouble(self, stuck_after_s: float) -> str | None:
        """Why the sender thread is not alive (not started, ended, stuck), or None."""
        if not self._thread.is_alive():
            return "the status sender is not running"
        return self.heartbeat.trouble("the status sender", stuck_after_s)

    def blocked(self) -> str | None:
        """Why no new task should be taken now: delivery failing or the outbox full."""
        if self._outbox.full():
            return f"the status outbox is full ({self.pending()} undelivered statuses)"
        failure = self._failure
        if failure is not None:
            return f"statuses cannot be delivered ({self.pending()} waiting): {failure}"
        return None

    def stop(self, timeout_s: float) -> int:
        """Deliver what is waiting, for at most `timeout_s`; the number left for the next start."""
        with self._cond:
            self._closing = True
            self._cond.notify()
        if self._thread.is_alive():
            self._thread.join(timeout_s)
        if self._thread.is_alive():
            self._abandon.set()
            self._thread.join(_ABANDON_WAIT_S)
        left = self.pending()
        if left:
            log.warning(
                "%d status(es) not delivered yet; they stay in %s for the next start",
                left,
                self._outbox.path,
            )
        return left

    def _run(self) -> None:
        try:
            self._send_all()
        finally:
            self.heartbeat.end()

    def _send_all(self) -> None:
        while not self._abandon.is_set():
            self.heartbeat.beat()
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
            with about_instance(status.task_instance_id):
                delivered = self._deliver(status)
            if not delivered:
                return
            if status.terminal:  # its last: no line will be about it any more
                forget(status.task_instance_id)
            try:
                self._outbox.delivered(seq)
            except StateError as exc:  # it will be sent again: at least once
                log.error("%s", exc)

    def _deliver(self, status: TaskStatus) -> bool:
        """Post until accepted or refused for good; False if abandoned at shutdown."""
        try:
            retry(
                lambda: self._post(status),
                retryable=_retryable,
                backoff=self._backoff,
                wait=lambda delay_s: wait_beating(self._abandon, delay_s, self.heartbeat),
                on_retry=self._retrying,
            )
        except Stopped:
            return False
        except PlatformError as exc:
            self._observer.platform_error()
            log.error(
                "status dropped: %s (task instance %s, %s: %r)",
                exc,
                status.task_instance_id,
                status.status,
                status.message,
            )
        except Exception:  # a bug must not stop delivery of the statuses behind this one
            log.exception(
                "status dropped: %s for task instance %s", status.status, status.task_instance_id
            )
        else:
            log_said(log, self._failing.ok(time.monotonic()))
        self._failure = None
        return True

    def _retrying(self, exc: Exception, delay: float) -> None:
        self._observer.platform_error()
        self._failure = str(exc)
        log.debug("%s; retrying in %.1f s", exc, delay)
        log_said(
            log,
            self._failing.failed(
                str(exc), time.monotonic(), "they wait in the outbox, in order, and polling pauses"
            ),
        )

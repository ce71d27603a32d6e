"""Status delivery: statuses are posted in order, off the task threads.

Task threads hand statuses over without waiting for the platform; one sender
thread posts them in the order they were handed over (so per task instance
too), retrying transient failures with capped, jittered exponential backoff.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

from runner.backoff import Backoff
from runner.errors import PlatformError
from runner.model import TaskStatus

log = logging.getLogger(__name__)


class StatusSink(Protocol):
    def submit(self, status: TaskStatus) -> None:
        """Deliver this status, in order after those submitted before it."""


class StatusSender:
    def __init__(
        self,
        post: Callable[[TaskStatus], None],
        *,
        give_up_after_s: float = 600.0,
        backoff: Backoff | None = None,
    ) -> None:
        self._post = post
        self._give_up_after_s = give_up_after_s
        self._backoff = backoff or Backoff(base_s=0.5, cap_s=30.0)
        self._queue: deque[TaskStatus] = deque()
        self._cond = threading.Condition()
        self._closing = False
        self._abandon = threading.Event()
        self._thread = threading.Thread(target=self._run, name="status-sender", daemon=True)
        self._thread.start()

    def submit(self, status: TaskStatus) -> None:
        with self._cond:
            self._queue.append(status)
            self._cond.notify()

    def pending(self) -> int:
        with self._cond:
            return len(self._queue)

    def close(self, timeout_s: float) -> int:
        """Deliver what is queued, for at most `timeout_s`; the number left undelivered."""
        with self._cond:
            self._closing = True
            self._cond.notify()
        self._thread.join(timeout_s)
        if self._thread.is_alive():
            self._abandon.set()
            self._thread.join(5.0)
        left = self.pending()
        if left:
            log.error("%d status(es) could not be delivered before exit", left)
        return left

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closing:
                    self._cond.wait()
                if not self._queue:
                    return
                status = self._queue[0]
            if not self._deliver(status):
                return
            with self._cond:
                self._queue.popleft()

    def _deliver(self, status: TaskStatus) -> bool:
        """Post until delivered, refused for good, or given up on; True if it left the queue."""
        started = time.monotonic()
        self._backoff.reset()
        while True:
            try:
                self._post(status)
                return True
            except PlatformError as exc:
                if not exc.transient:
                    log.error(
                        "status dropped: %s (task instance %s, %s: %r)",
                        exc,
                        status.task_instance_id,
                        status.status,
                        status.message,
                    )
                    return True
                if time.monotonic() - started > self._give_up_after_s:
                    log.error(
                        "status dropped after %.0f s of retries: %s", self._give_up_after_s, exc
                    )
                    return True
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

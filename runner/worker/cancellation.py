"""Cancellation: one thread asks the platform, now and then, whether running tasks were cancelled.

The executor watches each running instance and gets an event that is set
once the platform says it was cancelled. A platform without the check (404)
turns watching off for the rest of the run, once, with a log line.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from runner.core.errors import PlatformError
from runner.core.model import TaskInstance
from runner.core.observer import NullObserver, Observer
from runner.core.taskcontext import about_task

log = logging.getLogger(__name__)

# (namespace, instance id) -> cancelled?; None when the platform has no such check.
CancelCheck = Callable[[str, str | int], "bool | None"]


class CancelWatch:
    """`start()` the checking thread (none when `check` is None); `stop()` ends it."""

    def __init__(
        self, check: CancelCheck | None, interval_s: float, observer: Observer | None = None
    ) -> None:
        self._interval_s = interval_s
        self._observer = observer or NullObserver()
        self._failures = 0
        self._watched: dict[str, tuple[TaskInstance, threading.Event]] = {}
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None
        if check is not None:
            self._thread = threading.Thread(
                target=self._run, args=(check,), name="cancel-watch", daemon=True
            )

    def start(self) -> None:
        if self._thread is not None:
            self._thread.start()

    def watch(self, instance: TaskInstance) -> threading.Event:
        """An event set once `instance` is cancelled on the platform."""
        cancelled = threading.Event()
        with self._lock:
            self._watched[instance.ref] = (instance, cancelled)
        return cancelled

    def unwatch(self, instance: TaskInstance) -> None:
        with self._lock:
            self._watched.pop(instance.ref, None)

    def stop(self) -> None:
        self._closed.set()
        if self._thread is not None and self._thread.is_alive():
            self._thread.join(5.0)

    def _run(self, check: CancelCheck) -> None:
        while not self._closed.wait(self._interval_s):
            with self._lock:
                watched = list(self._watched.values())
            for instance, cancelled in watched:
                if self._closed.is_set():
                    return
                # Not remembered: the executor did, and the delivery of its end forgets it.
                with about_task(instance.namespace, instance.name, instance.id, remember=False):
                    if not self._check(check, instance, cancelled):
                        return

    def _check(
        self, check: CancelCheck, instance: TaskInstance, cancelled: threading.Event
    ) -> bool:
        """Ask whether `instance` was cancelled; False when the platform has no such check."""
        try:
            answer = check(instance.namespace, instance.id)
        except PlatformError as exc:
            self._observer.platform_error()
            self._failures += 1
            if self._failures == 1 or self._failures % 100 == 0:
                log.warning("cancellation check failed (%d so far): %s", self._failures, exc)
            return True
        if answer is None:
            log.info(
                "the platform has no cancellation check (404); "
                "cancellation is not watched (set XC_RUNNER_CANCEL_URL to change it)"
            )
            return False
        if answer and not cancelled.is_set():
            log.info("%s: cancelled on the platform", instance.ref)
            cancelled.set()
        return True

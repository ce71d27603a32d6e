"""Container removal on a thread of its own, so that no task waits for it; the container a
task is handed, whose removal goes there; and the containers the engine would not remove,
kept to be removed again.

A task's container is still removed in its `finally`: the removal is queued
there, and carried out here in the order queued. At close, what is queued is
removed before the runner goes on; a removal asked for after close happens at once.
A container the engine fails to remove is tried again each time the engine answers a
ping; the log says when removals start failing and when every such container is gone,
with the count in between, not each failed try (runner.core.condition).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Protocol

from runner.core.condition import Condition, log_said
from runner.engine.interface import Chunk, Container, ExitInfo

log = logging.getLogger(__name__)


class Removable(Protocol):
    id: str

    def remove(self) -> None:
        """Remove the container, running or not; never raises for one already gone."""


class Remover:
    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[Removable | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="container-remover", daemon=True)
        self._lock = threading.Lock()
        self._open = False

    def start(self) -> None:
        with self._lock:
            self._open = True
        self._thread.start()

    def remove(self, container: Removable) -> None:
        """Remove `container` soon (at once if the remover is not running)."""
        with self._lock:
            if self._open:
                self._queue.put(container)
                return
        _remove(container)

    def close(self, timeout_s: float) -> None:
        """Remove what is queued (for up to `timeout_s`, then here), and stop."""
        with self._lock:
            was_open, self._open = self._open, False
        if was_open:
            self._queue.put(None)
            self._thread.join(timeout_s)
        while True:  # left by a thread that did not finish in time
            try:
                container = self._queue.get_nowait()
            except queue.Empty:
                return
            if container is not None:
                _remove(container)

    def _run(self) -> None:
        while (container := self._queue.get()) is not None:
            _remove(container)


def _remove(container: Removable) -> None:
    try:
        container.remove()
    except Exception:  # a bug must not stop the removals queued behind this one
        log.exception("could not remove container %s", container.id[:12])


class HandedOut:
    """A container handed to a task; its removal is queued, off the task's path."""

    def __init__(self, container: Container, remover: Remover, *, warm: bool) -> None:
        self.id = container.id
        self.warm = warm
        self._container = container
        self._remover = remover
        self._removed = False

    def send(self, data: bytes) -> None:
        self._container.send(data)

    def read(self, timeout_s: float) -> list[Chunk] | None:
        return self._container.read(timeout_s)

    def stop(self, grace_s: float) -> None:
        self._container.stop(grace_s)

    def wait(self, timeout_s: float) -> ExitInfo:
        return self._container.wait(timeout_s)

    def remove(self) -> None:
        if not self._removed:
            self._removed = True
            self._remover.remove(self._container)


class Orphans:
    """Containers the engine could not remove yet; thread-safe. A removal's outcome is told
    here (`failed`, `removed`), and `pending()` is what to try again."""

    def __init__(
        self,
        failing: str = "the Docker engine cannot remove containers",
        ok: str = "every container the Docker engine could not remove is removed now",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ids: set[str] = set()
        self._lock = threading.Lock()
        self._clock = clock
        self._condition = Condition(failing, ok)

    def pending(self) -> list[str]:
        with self._lock:
            return sorted(self._ids)

    def failed(self, container_id: str, problem: str) -> None:
        with self._lock:
            self._ids.add(container_id)
            said = self._condition.failed(
                f"container {container_id[:12]}: {problem}",
                self._clock(),
                "each is tried again while the engine answers; failures are counted, "
                "not logged",
            )
        log_said(log, said)

    def removed(self, container_id: str) -> None:
        """`container_id` is gone (removed, or found gone)."""
        with self._lock:
            self._ids.discard(container_id)
            said = self._condition.ok(self._clock()) if not self._ids else None
        log_said(log, said)

"""The warm pool's creations, each on a thread of its own, so that several can be under way
at once (runner.core.warmpool.WarmPool.next_creation says how many); and the count of
tasks launching a container of their own, which holds the pool to one creation at a time.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import TypeVar

from runner.core.warmpool import MAX_PARALLEL_CREATIONS, Create

log = logging.getLogger(__name__)

T = TypeVar("T")


class Creations:
    """`start()` a creation; `cold()` around a task's own launch; `close()` at shutdown."""

    def __init__(self, create: Callable[[Create], None], on_done: Callable[[], None]) -> None:
        self._create = create
        self._on_done = on_done  # wakes the pool: the next creation may start
        self._executor = ThreadPoolExecutor(MAX_PARALLEL_CREATIONS, thread_name_prefix="warm")
        self._under_way: set[Future[None]] = set()
        self._lock = threading.Lock()
        self._launching = 0  # tasks launching a container of their own now

    def start(self, create: Create) -> None:
        future = self._executor.submit(self._run, create)
        with self._lock:
            self._under_way.add(future)
        future.add_done_callback(self._discard)

    def _run(self, create: Create) -> None:
        try:
            self._create(create)
        except Exception:  # a bug must not end the refills silently
            log.exception("warm pool: unexpected error creating a container; carrying on")
        finally:
            self._on_done()

    def _discard(self, future: Future[None]) -> None:
        with self._lock:
            self._under_way.discard(future)

    def cold(self, launch: Callable[[], T]) -> T:
        """`launch()`: a task launching a container of its own, the pool held to one
        creation at a time meanwhile."""
        with self._lock:
            self._launching += 1
        try:
            return launch()
        finally:
            with self._lock:
                self._launching -= 1
            self._on_done()

    @property
    def busy(self) -> bool:
        """Whether tasks need the engine now: some launch a container of their own."""
        return self._launching > 0

    def close(self, timeout_s: float) -> None:
        """Wait up to `timeout_s` for the creations under way; start no more."""
        with self._lock:
            under_way = set(self._under_way)
        wait(under_way, timeout=timeout_s)
        self._executor.shutdown(wait=False, cancel_futures=True)

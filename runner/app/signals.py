"""SIGTERM and SIGINT: the first drains, the second stops running tasks now."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Protocol


class Stoppable(Protocol):
    def request_stop(self) -> None:
        """Safe to call from a signal handler: only sets flags."""


class StopFlag(threading.Event):
    """Set by SIGTERM/SIGINT: what waits on it (a one-shot run's task, the local server)
    stops."""

    def request_stop(self) -> None:
        self.set()


@contextmanager
def stop_on_signals(worker: Stoppable) -> Iterator[None]:
    """While inside, SIGTERM/SIGINT ask `worker` to stop (on the main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        worker.request_stop()  # only sets flags: logging is not safe in a handler

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)

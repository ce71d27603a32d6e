"""Heartbeats: how a loop shows it is alive and not stuck, for a liveness probe.

A loop beats at least every BEAT_S while it runs, also while it waits (it waits in slices
of BEAT_S with `wait_beating`), so a beat older than one request's timeout means it is
stuck; a loop that returned or died says so with `end()`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

BEAT_S = 1.0


class Heartbeat:
    """When a loop last beat. Before its first beat the loop is starting, which is healthy."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._last: float | None = None
        self._ended = False

    def beat(self) -> None:
        self._last = self._clock()

    def end(self) -> None:
        self._ended = True

    def trouble(self, what: str, stuck_after_s: float) -> str | None:
        """Why `what` is not alive (ended, or no beat for over `stuck_after_s`), or None."""
        if self._ended:
            return f"{what} has stopped"
        if self._last is None:
            return None
        silent_s = self._clock() - self._last
        if silent_s > stuck_after_s:
            return f"{what} has shown no sign of life for {silent_s:.0f} s"
        return None


def wait_beating(event: threading.Event, delay_s: float, heartbeat: Heartbeat) -> bool:
    """`event.wait(delay_s)`, beating at least every BEAT_S meanwhile; whether it is set."""
    deadline = time.monotonic() + delay_s
    while True:
        heartbeat.beat()
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return event.is_set()
        if event.wait(min(remaining, BEAT_S)):
            return True

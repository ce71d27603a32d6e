"""Backoff and retry: one pure delay function, a stateful wrapper for loops, the runner's
retry schedules in one table, and the one retry helper."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


def backoff_delay(
    attempt: int,
    *,
    base_s: float,
    factor: float,
    cap_s: float,
    jitter: float,
    rand: Callable[[], float] = random.random,
) -> float:
    """Delay before try `attempt` (0-based): base * factor**attempt, capped, with jitter.

    `jitter` is the fraction of the delay that is randomised: 0.2 gives a delay
    drawn uniformly from [0.8 d, d], so that many runners started together do
    not poll or retry in lockstep, and the cap is never exceeded.
    """
    exponent = min(attempt, 64)  # factor**64 already exceeds any sane cap
    delay = min(cap_s, base_s * factor**exponent)
    return delay * (1.0 - jitter * rand())


class Backoff:
    """Geometric backoff that resets when things go well."""

    def __init__(
        self,
        *,
        base_s: float,
        cap_s: float,
        factor: float = 2.0,
        jitter: float = 0.2,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self._base_s = base_s
        self._cap_s = cap_s
        self._factor = factor
        self._jitter = jitter
        self._rand = rand
        self._attempt = 0

    def next(self) -> float:
        delay = backoff_delay(
            self._attempt,
            base_s=self._base_s,
            factor=self._factor,
            cap_s=self._cap_s,
            jitter=self._jitter,
            rand=self._rand,
        )
        self._attempt += 1
        return delay

    def reset(self) -> None:
        self._attempt = 0

    @property
    def attempts(self) -> int:
        """Delays given since the last reset."""
        return self._attempt


@dataclass(frozen=True)
class Schedule:
    """A geometric backoff schedule: from `base_s`, times `factor`, up to `cap_s`."""

    base_s: float
    cap_s: float
    factor: float = 2.0
    jitter: float = 0.2

    def backoff(self) -> Backoff:
        return Backoff(
            base_s=self.base_s, cap_s=self.cap_s, factor=self.factor, jitter=self.jitter
        )


# The runner's schedules, in one place.
# Polling or publishing while the platform fails: after an outage, work resumes within 10 s.
PLATFORM_FAILING = Schedule(base_s=0.5, cap_s=10.0)
# A status the platform does not accept yet: retried for as long as the runner runs.
STATUS_DELIVERY = Schedule(base_s=0.5, cap_s=30.0)
# A task's container the runner cannot launch (its own fault): tried again within the task's
# launch budget, soon at first, then at most every 5 s (sooner when the fault ends).
LAUNCH_RETRY = Schedule(base_s=0.5, cap_s=5.0)
# An empty queue: poll again soon while tasks flow; the cap is a setting.
IDLE_POLL_BASE_S = 0.05


class Stopped(Exception):
    """A retry was given up: its wait was interrupted."""


def retry(
    attempt: Callable[[], T],
    *,
    retryable: Callable[[Exception], bool],
    backoff: Backoff,
    wait: Callable[[float], bool],
    on_retry: Callable[[Exception, float], None],
) -> T:
    """`attempt()` until it returns. An exception that `retryable` accepts is reported to
    `on_retry` with the delay, which `wait(delay)` then waits out; `wait` returning True
    gives up (Stopped). Any other exception propagates."""
    backoff.reset()
    while True:
        try:
            return attempt()
        except Exception as exc:
            if not retryable(exc):
                raise
            delay = backoff.next()
            on_retry(exc, delay)
        if wait(delay):
            raise Stopped

"""Backoff delays: one pure function, and a small stateful wrapper for loops."""

from __future__ import annotations

import random
from collections.abc import Callable


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

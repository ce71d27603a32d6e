"""A condition that starts, lasts and ends (containers the engine will not remove, an engine
that does not answer, an image that is missing), and what is worth a log line about it.

A pure state machine, like runner.core.warmpool: the caller tells it each failure
(`failed`) and when the condition is over (`ok`), and logs what it returns. In an outage
that fails the same thing every second this gives one line when the condition starts, at
most one every `remind_every_s` while it lasts, counting the failures since the last line,
and one when it ends, with the whole count and how long it lasted, instead of one line
per failure. The caller decides what "over" means (for example: no container is left to
remove), and holds whatever lock its callers share.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

DEFAULT_REMIND_EVERY_S = 300.0


class Change(Enum):
    STARTED = "started"  # the first failure: log it, as the failure it is
    LASTING = "lasting"  # still failing, `remind_every_s` after the last line: log the count
    ENDED = "ended"  # over: log that it is, with the count and the duration


@dataclass(frozen=True)
class Report:
    """What to log: the change, the failures counted, how long the condition has lasted."""

    change: Change
    failures: int  # since the condition started
    unreported: int  # failures since the last report, this one included (0 for ENDED)
    lasted_s: float  # since the first failure
    detail: str  # the latest failure's detail

    def summary(self) -> str:
        """`"3 failures in 41 s"`, for the caller's line."""
        plural = "" if self.failures == 1 else "s"
        return f"{self.failures} failure{plural} in {self.lasted_s:.0f} s"


class Condition:
    """Not thread-safe: the caller serialises `failed` and `ok`."""

    def __init__(
        self,
        *,
        remind_every_s: float | None = DEFAULT_REMIND_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._remind_every_s = remind_every_s
        self._clock = clock
        self._started: float | None = None
        self._reported = 0.0  # when the last report was made
        self._failures = 0
        self._unreported = 0
        self._detail = ""

    @property
    def active(self) -> bool:
        """Whether the condition holds: it failed since it was last over."""
        return self._started is not None

    @property
    def failures(self) -> int:
        return self._failures

    def failed(self, detail: str = "") -> Report | None:
        """One more failure: a report when the condition starts, or when it has lasted
        `remind_every_s` since the last one; None otherwise (the failure is counted)."""
        now = self._clock()
        self._failures += 1
        self._unreported += 1
        self._detail = detail
        if self._started is None:
            self._started = now
            return self._report(Change.STARTED, now, now)
        remind = self._remind_every_s
        if remind is not None and now - self._reported >= remind:
            return self._report(Change.LASTING, now, self._started)
        return None

    def ok(self) -> Report | None:
        """The condition is over: a report if it held, None if it did not."""
        if self._started is None:
            return None
        report = Report(
            Change.ENDED, self._failures, 0, self._clock() - self._started, self._detail
        )
        self._started = None
        self._failures = self._unreported = 0
        self._detail = ""
        return report

    def _report(self, change: Change, now: float, started: float) -> Report:
        report = Report(change, self._failures, self._unreported, now - started, self._detail)
        self._reported = now
        self._unreported = 0
        return report

"""How something that fails for a while is logged: one line when it begins, a count now
and then while it lasts, one line when it ends; never a line per failure.

A `Condition` is told of each failure and each success, and returns the line to log, if
any (pure: the caller passes the time and does the logging). An outage of the engine, the
platform or a registry then costs a few lines, however long it lasts and however many
requests fail meanwhile.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

# While a condition lasts, a line with the count of failures at most this often.
SUMMARY_EVERY_S = 60.0
LEVELS = {"info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


@dataclass(frozen=True)
class Say:
    """A line to log: `level` is "info", "warning" or "error"."""

    level: str
    message: str


class Condition:
    """One thing that can fail and come right again (the engine, an image, the platform).

    `began` names it failing ("the Docker engine cannot create containers"), `ended` names
    it working again ("the Docker engine creates containers again"); `level` is the level
    of the line that says it began, and of the counts."""

    def __init__(
        self,
        began: str,
        ended: str,
        *,
        level: str = "warning",
        summary_every_s: float = SUMMARY_EVERY_S,
    ) -> None:
        self._began = began
        self._ended = ended
        self._level = level
        self._summary_every_s = summary_every_s
        self.since: float | None = None  # when it began; None while all is well
        self.detail = ""  # what the latest failure said
        self.failures = 0  # since it began
        self._said_at = 0.0
        self._unsaid = 0  # failures since the last line

    @property
    def failing(self) -> bool:
        return self.since is not None

    def failed(self, detail: str, now: float, then: str = "") -> Say | None:
        """A failure; `then` says what the runner does about it (in the first line only)."""
        self.detail = detail
        self.failures += 1
        if self.since is None:
            self.since, self._said_at, self._unsaid = now, now, 0
            return Say(self._level, f"{self._began}: {detail}" + (f"; {then}" if then else ""))
        self._unsaid += 1
        if now - self._said_at < self._summary_every_s:
            return None
        said = Say(
            self._level,
            f"{self._began}, still: {self._unsaid} more failure(s) in the last "
            f"{now - self._said_at:.0f} s ({self.failures} since {now - self.since:.0f} s "
            f"ago); the latest: {detail}",
        )
        self._said_at, self._unsaid = now, 0
        return said

    def ok(self, now: float) -> Say | None:
        """A success: the line that says the condition ended, if it was on."""
        if self.since is None:
            return None
        said = Say(
            "info",
            f"{self._ended} after {now - self.since:.1f} s ({self.failures} failure(s))",
        )
        self.since, self.detail, self.failures, self._unsaid = None, "", 0, 0
        return said


def log_said(logger: logging.Logger, said: Say | None) -> None:
    """Log what a condition says, if it says something."""
    if said is not None:
        logger.log(LEVELS.get(said.level, logging.WARNING), "%s", said.message)

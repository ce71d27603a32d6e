"""What an endpoint of the local server sees and answers, and the bound on long polls.

Shared by the platform API (api.py) and the cockpit's endpoints (cockpit/endpoints.py).
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NamedTuple

from runner.localserver import jsontext
from runner.localserver.errors import HttpError, quoted

Reply = tuple[int, Any]  # status and JSON body; None means no body (204)

MAX_WAIT_S = 30.0  # the longest a long poll waits, whatever it asks
MAX_SEQ = 2**63 - 1  # SQLite integers stop here


@dataclass(frozen=True)
class Request:
    args: tuple[str, ...]  # the path's variable segments, unquoted
    query: dict[str, str]
    body: bytes

    def json(self, noun: str) -> Any:
        """The body's JSON; `noun` starts the path that names a bad field (`status.message`)."""
        return jsontext.parse(self.body, noun)

    def number(self, name: str, default: float, *, integer: bool = False) -> float:
        text = self.query.get(name)
        if text is None or text == "":
            return default
        try:
            value = int(text) if integer else float(text)
        except ValueError:
            value = -1
        if value < 0 or not math.isfinite(value):
            kind = "whole number" if integer else "number"
            raise HttpError(400, f"query parameter {name}={quoted(text)} is not a {kind} >= 0")
        return value

    def seq(self, name: str) -> int:
        """A seq or ordinal from the query (`after`, `since`); 0 when absent, at most MAX_SEQ."""
        return min(int(self.number(name, 0, integer=True)), MAX_SEQ)

    def wait_s(self) -> float:
        """How long a long poll asks to wait (`waitSeconds`), at most MAX_WAIT_S."""
        return min(self.number("waitSeconds", 0.0), MAX_WAIT_S)


class Route(NamedTuple):
    method: str
    pattern: re.Pattern[str]
    handler: Callable[[Request], Reply]
    takes_body: bool = False


class LongPolls:
    """At most `limit` requests wait at once, so long polls never take every thread of the
    server: a long poll over that number answers at once with what there is."""

    def __init__(self, limit: int) -> None:
        self._slots = threading.BoundedSemaphore(limit)

    @contextmanager
    def slot(self, wait_s: float) -> Iterator[float]:
        """How long this request may wait: `wait_s` when a slot is free, else 0."""
        waiting = wait_s > 0 and self._slots.acquire(blocking=False)
        try:
            yield wait_s if waiting else 0.0
        finally:
            if waiting:
                self._slots.release()

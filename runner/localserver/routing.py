"""What an endpoint of the local server sees and answers, and the bound on long polls.

Shared by the platform API (api.py) and the cockpit's endpoints (cockpit/endpoints.py).
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from runner.localserver import jsontext
from runner.localserver.errors import HttpError, quoted

Reply = tuple[int, Any]  # status and JSON body (or a Stream); None means no body (204)

_WHOLE_NUMBER = re.compile(r"[0-9]{1,19}", re.ASCII)
_NUMBER = re.compile(r"[0-9]{1,19}(?:\.[0-9]{1,19})?", re.ASCII)

MAX_WAIT_S = 30.0  # the longest a long poll waits, whatever it asks
MAX_SEQ = 2**63 - 1  # SQLite integers stop here


def target_parts(target: str) -> tuple[str, str]:
    """The path and the query of a request target as sent. Only a target in absolute form
    (`http://host/path`) names a host: `//host/path` is a path (urlsplit would read a
    host there, and route `//evil.example/local/api/statuses` as `/local/api/statuses`)."""
    if target.startswith(("http://", "https://")):
        parts = urlsplit(target)
        return parts.path, parts.query
    path, _, query = target.partition("?")
    return path, query.partition("#")[0]


def target_path(target: str) -> str:
    return target_parts(target)[0]


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
        # Plain ASCII digits only: int() and float() also read 1_000, full-width
        # digits, spaces, signs, exponents, inf and nan.
        strict = _WHOLE_NUMBER if integer else _NUMBER
        value = (int(text) if integer else float(text)) if strict.fullmatch(text) else -1
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


@dataclass(frozen=True)
class Stream:
    """A body written as it is made (an export): its type, the name of the file a browser
    saves it as, and its chunks, which are closed when the answer ends or its client goes."""

    content_type: str
    filename: str
    chunks: Iterable[bytes]


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

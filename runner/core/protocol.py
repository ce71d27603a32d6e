"""Wire protocol 1 between the runner and a task container, as pure functions.

stdin:  one JSON object (the envelope) on one line, then end of file.
stdout: newline-delimited JSON messages; anything else is log output.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, overload

from runner.core.jsoncheck import first_problem, loads, pruned
from runner.core.text import short

PROTOCOL_VERSION = 1
MESSAGE_TYPES = frozenset({"notify", "result"})
# How deep a message line may nest objects and arrays, its own object being level 1. A
# status carries the result's outputs at the same depth as the line does, and platforms
# refuse deep JSON (the local server: over 64 levels); 32 leaves room to spare.
MAX_MESSAGE_DEPTH = 32
# What progressPercentage must be; the message schema's title says the same.
PROGRESS_IS = "a fraction between 0 and 1, as a number or a numeric string"
# A numeric string, as the message schema's pattern for progressPercentage has it. Each
# text has one way to match (`[0-9]+\.?[0-9]*` had many: a run of digits then a letter
# took time growing with the square of the run to refuse).
NUMERIC_STRING = re.compile(r"\s*[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?\s*")

# Checks a decoded message against the message schema; returns the problem or None.
MessageCheck = Callable[[Mapping[str, Any]], "str | None"]


def encode_envelope(
    namespace: str, task: str, instance_id: str | int, inputs: Mapping[str, Any]
) -> bytes:
    envelope = {
        "protocol": PROTOCOL_VERSION,
        "namespace": namespace,
        "task": task,
        "taskInstanceId": instance_id,
        "inputs": dict(inputs),
    }
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


class Stream(enum.IntEnum):
    STDIN = 0
    STDOUT = 1
    STDERR = 2


@dataclass(frozen=True)
class Overlong:
    """A line longer than the limit; its bytes were dropped."""

    limit: int


@dataclass
class LineSplitter:
    """Splits a byte stream into lines, never holding more than `max_line_bytes`."""

    max_line_bytes: int
    _buffer: bytearray = field(default_factory=bytearray)
    _discarding: bool = False

    def feed(self, data: bytes) -> list[bytes | Overlong]:
        """The lines `data` completes, split in C: a chunk of short lines costs a list."""
        head, *rest = data.split(b"\n")
        out: list[bytes | Overlong] = []
        self._add(head, out)
        if not rest:  # no line ends in `data`
            return out
        if not self._discarding:
            out.append(bytes(self._buffer))
        self._buffer.clear()
        self._discarding = False
        *complete, tail = rest
        limit = self.max_line_bytes
        out += [line if len(line) <= limit else Overlong(limit) for line in complete]
        self._add(tail, out)
        return out

    def _add(self, piece: bytes, out: list[bytes | Overlong]) -> None:
        """`piece` of the line being read; past the limit, the line is dropped (said once)."""
        if self._discarding or not piece:
            return
        self._buffer += piece
        if len(self._buffer) > self.max_line_bytes:
            self._buffer.clear()
            self._discarding = True
            out.append(Overlong(self.max_line_bytes))

    def flush(self) -> list[bytes | Overlong]:
        """The last line, when the stream ended without a newline."""
        if self._discarding or not self._buffer:
            self._buffer.clear()
            return []
        line = bytes(self._buffer)
        self._buffer.clear()
        return [line]


@dataclass(frozen=True)
class Notify:
    status: Literal["InProgress", "Error"]
    message: str
    progress: str | None = None
    error_level: str | None = None


@dataclass(frozen=True)
class Result:
    outputs: Mapping[str, Any]
    message: str = ""


@dataclass(frozen=True)
class LogLine:
    text: str


@dataclass(frozen=True)
class Invalid:
    problem: str


@dataclass(frozen=True)
class Progress:
    """A progress notify line, not yet checked: it may be skipped (a later one replaces it)
    before its turn to be read in full comes."""

    line: bytes


Parsed = Notify | Result | LogLine | Invalid

# The start of a line that is certainly a progress notify when its only "type" and "status"
# are these (and no \u escape could spell another): told from its bytes, unread.
_PROGRESS_START = re.compile(
    rb'[ \t\r\n]*\{[ \t\r\n]*"type"[ \t\r\n]*:[ \t\r\n]*"notify"[ \t\r\n]*,'
    rb'[ \t\r\n]*"status"[ \t\r\n]*:[ \t\r\n]*"InProgress"[ \t\r\n]*[,}]'
)


@overload
def parse_line(line: bytes, check: MessageCheck) -> Parsed: ...
@overload
def parse_line(line: bytes, check: MessageCheck, *, defer_progress: bool) -> Parsed | Progress: ...


def parse_line(
    line: bytes, check: MessageCheck, *, defer_progress: bool = False
) -> Parsed | Progress:
    """Interpret one stdout line: a protocol message, or log output.

    A line with type notify or result must be fit to post, or it is Invalid: every
    string and object key valid Unicode text, every number finite, at most
    MAX_MESSAGE_DEPTH levels deep, the message schema met, and a progress in [0, 1].
    With `defer_progress`, a progress notify is returned as Progress, unchecked: from its
    bytes alone when they say so for certain, else once its JSON is read.
    """
    if defer_progress and _certainly_progress(line):
        return Progress(line)
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return LogLine(line.decode("utf-8", errors="replace"))
    if not text.lstrip().startswith("{"):
        return LogLine(text)
    try:
        obj, read = _loads(text)
    except ValueError:
        return LogLine(text)
    kind = obj.get("type") if isinstance(obj, dict) else None
    if not isinstance(kind, str) or kind not in MESSAGE_TYPES:
        return LogLine(text)
    if defer_progress and kind == "notify" and obj.get("status") == "InProgress":
        return Progress(line)
    problem = first_problem(obj, "message", MAX_MESSAGE_DEPTH, text=read) or check(obj)
    return _message(obj, kind, problem)


def _certainly_progress(line: bytes) -> bool:
    return (
        _PROGRESS_START.match(line) is not None
        and line.count(b'"type"') == 1
        and line.count(b'"status"') == 1
        and b"\\u" not in line
    )


def _message(obj: Mapping[str, Any], kind: str, problem: str | None) -> Parsed:
    if problem is not None:
        return Invalid(f"invalid {kind} message: {problem}")
    if kind == "result":
        return Result(outputs=obj.get("outputs") or {}, message=obj.get("message") or "")
    return _notify(obj)


def _loads(text: str) -> tuple[Any, str]:
    """The line's JSON, and the text it was read from: if the line is too deep to read,
    it is read again with its depth cut past the limit (so that a message that deep is
    refused, saying where, and other lines are log output)."""
    try:
        return loads(text), text
    except RecursionError:
        pass
    cut = pruned(text, MAX_MESSAGE_DEPTH)
    try:
        return loads(cut), cut
    except RecursionError:  # only if the text is not JSON and fools the pruning
        raise ValueError("nested too deep to read") from None


def _notify(obj: Mapping[str, Any]) -> Parsed:
    progress, problem = progress_value(obj.get("progressPercentage"))
    if problem is not None:
        return Invalid(f"invalid notify message: message.progressPercentage: {problem}")
    return Notify(
        status=obj["status"],
        message=obj.get("message") or "",
        progress=progress,
        error_level=obj.get("errorLevel"),
    )


def progress_value(value: Any) -> tuple[str | None, str | None]:
    """(the progress to post, as a string, or None; the problem, or None)."""
    if value is None:
        return None, None
    number: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and NUMERIC_STRING.fullmatch(value):
        number = float(value)
    if number is None or not 0 <= number <= 1:  # the comparison is also false for NaN
        return None, f"{short(value)} is not {PROGRESS_IS}"
    return (value.strip() if isinstance(value, str) else str(float(number))), None

"""Wire protocol 1 between the runner and a task container, as pure functions.

stdin:  one JSON object (the envelope) on one line, then end of file.
stdout: newline-delimited JSON messages; anything else is log output.
"""

from __future__ import annotations

import enum
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

PROTOCOL_VERSION = 1
MESSAGE_TYPES = frozenset({"notify", "result"})

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
        out: list[bytes | Overlong] = []
        start = 0
        while start < len(data):
            newline = data.find(b"\n", start)
            end = len(data) if newline < 0 else newline
            if not self._discarding:
                self._buffer += data[start:end]
                if len(self._buffer) > self.max_line_bytes:
                    self._buffer.clear()
                    self._discarding = True
                    out.append(Overlong(self.max_line_bytes))
            if newline < 0:
                break
            if not self._discarding:
                out.append(bytes(self._buffer))
            self._buffer.clear()
            self._discarding = False
            start = newline + 1
        return out

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


Parsed = Notify | Result | LogLine | Invalid


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_line(line: bytes, check: MessageCheck) -> Parsed:
    """Interpret one stdout line: a protocol message, or log output."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return LogLine(line.decode("utf-8", errors="replace"))
    if not text.lstrip().startswith("{"):
        return LogLine(text)
    try:
        obj = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        return LogLine(text)
    if not isinstance(obj, dict) or obj.get("type") not in MESSAGE_TYPES:
        return LogLine(text)
    problem = check(obj)
    if problem is not None:
        return Invalid(f"invalid {obj['type']} message: {problem}")
    if obj["type"] == "result":
        return Result(outputs=obj.get("outputs") or {}, message=obj.get("message") or "")
    return _notify(obj)


def _notify(obj: Mapping[str, Any]) -> Parsed:
    progress = obj.get("progressPercentage")
    if isinstance(progress, bool):
        return Invalid("invalid notify message: progressPercentage must be a number")
    if isinstance(progress, int | float):
        if not math.isfinite(progress):
            return Invalid("invalid notify message: progressPercentage must be finite")
        progress = str(float(progress))
    elif isinstance(progress, str):
        progress = progress.strip()
    return Notify(
        status=obj["status"],
        message=obj.get("message") or "",
        progress=progress,
        error_level=obj.get("errorLevel"),
    )

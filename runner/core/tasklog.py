"""A task's log as the runner keeps it for the local server's cockpit: pure data.

What a task wrote that is not a protocol message (its stderr, and free-form stdout
lines) is kept as lines in arrival order, bounded by bytes: the newest lines stay,
the oldest go first, and how much went is counted. A very long line is cut. So a
task that writes without end costs at most `max_bytes` (plus one cut line).

`TaskLog` is what the runner sends once the task ended, with who ran it and the
runner's own times (its hand-out to the container and its end), which are right
even when the statuses reached the server late.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from runner.core.protocol import Stream
from runner.core.usage import Usage

StreamName = Literal["stdout", "stderr"]

LOG_TAIL_BYTES = 64 * 1024  # what the runner keeps of each task's log: its last 64 KiB
MAX_LINE_CHARS = 8 * 1024  # a longer line is cut, saying so


def wall_clock(monotonic: float | None = None) -> str:
    """Now, or the moment `monotonic` (a `time.monotonic()` reading) was, as ISO 8601 UTC
    with milliseconds and `Z` (as the local server writes times)."""
    moment = time.time() if monotonic is None else time.time() - (time.monotonic() - monotonic)
    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z"
    )


class LogTail:
    """The last `max_bytes` of a task's log lines (UTF-8 sizes), oldest dropped first."""

    def __init__(self, max_bytes: int = LOG_TAIL_BYTES) -> None:
        self.max_bytes = max_bytes
        self._lines: deque[tuple[StreamName, str, int]] = deque()
        self._bytes = 0
        self.dropped_lines = 0
        self.dropped_bytes = 0

    def add(self, stream: Stream, text: str) -> None:
        if len(text) > MAX_LINE_CHARS:
            text = f"{text[:MAX_LINE_CHARS]}... <{len(text) - MAX_LINE_CHARS} more characters>"
        size = len(text.encode("utf-8", errors="replace")) + 1
        name: StreamName = "stderr" if stream == Stream.STDERR else "stdout"
        self._lines.append((name, text, size))
        self._bytes += size
        while self._bytes > self.max_bytes and self._lines:
            _, _, gone = self._lines.popleft()
            self._bytes -= gone
            self.dropped_lines += 1
            self.dropped_bytes += gone

    def lines(self) -> list[tuple[StreamName, str]]:
        return [(stream, text) for stream, text, _ in self._lines]

    def __len__(self) -> int:
        return len(self._lines)


@dataclass(frozen=True)
class TaskLog:
    """One task's log and how it ran, as the runner saw it."""

    task_instance_id: str | int
    runner_id: str
    container_id: str | None
    started_at: str | None  # the runner's clock: the task handed to its container
    ended_at: str  # the runner's clock: its terminal status decided
    lines: tuple[tuple[StreamName, str], ...] = ()
    dropped_lines: int = 0
    dropped_bytes: int = 0
    usage: Usage | None = None  # what the task used, as the runner measured it

    def to_wire(self) -> dict[str, Any]:
        """The body of the local server's POST /local/api/task-logs."""
        usage = {"usage": self.usage.to_wire()} if self.usage is not None else {}
        return {
            "taskInstanceId": self.task_instance_id,
            "runnerId": self.runner_id,
            "containerId": self.container_id,
            "startedAt": self.started_at,
            "endedAt": self.ended_at,
            "lines": [[stream, text] for stream, text in self.lines],
            "droppedLines": self.dropped_lines,
            "droppedBytes": self.dropped_bytes,
            **usage,
        }

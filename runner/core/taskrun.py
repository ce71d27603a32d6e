"""What a task's output means, as a pure state machine.

The executor feeds it the container's stdout and stderr as they arrive and
acts on the events it returns: relay a status, finish with a terminal status,
log a line, kill the container. It holds at most one line, a short stderr tail
and a few counters, whatever the task writes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from runner.core.jsoncheck import first_problem
from runner.core.model import ErrorReason, TaskStatus
from runner.core.protocol import (
    MAX_MESSAGE_DEPTH,
    Invalid,
    LineSplitter,
    LogLine,
    MessageCheck,
    Notify,
    Overlong,
    Progress,
    Result,
    Stream,
    parse_line,
)
from runner.core.tasklog import LogTail

# Checks result outputs against the catalog: (values to post, problem or None).
OutputCheck = Callable[[Mapping[str, Any]], tuple[dict[str, Any], "str | None"]]

_LOGGED_CHARS = 1000


@dataclass(frozen=True)
class Relay:
    """A non-terminal status to post now."""

    status: TaskStatus


@dataclass(frozen=True)
class Finish:
    """The task's one terminal status; for an Error, why (runner.core.model.ErrorReason)."""

    status: TaskStatus
    reason: ErrorReason | None = None


@dataclass(frozen=True)
class Log:
    stream: Stream
    text: str


@dataclass(frozen=True)
class Kill:
    """Stop the container now."""

    reason: str


Event = Relay | Finish | Log | Kill


@dataclass(frozen=True)
class OutputLimits:
    """The caps on a task's output. The configurable three come from the task's policy
    (`TaskPolicy.output_limits()`, which holds their defaults); the rest are fixed."""

    max_line_bytes: int
    max_output_bytes: int
    max_result_bytes: int
    max_message_chars: int = 16 * 1024  # longer status messages are cut
    max_logged_lines: int = 200
    stderr_tail_bytes: int = 2048


class TaskRun:
    def __init__(
        self,
        instance_id: str | int,
        *,
        check_message: MessageCheck,
        check_outputs: OutputCheck,
        limits: OutputLimits,
        log: LogTail | None = None,
        progress_interval_s: float = 0.0,
    ) -> None:
        self._id = instance_id
        self._kept = log  # every log line, past the logging cap too (the cockpit's log)
        self._check_message = check_message
        self._check_outputs = check_outputs
        self._limits = limits
        self._lines = {
            Stream.STDOUT: LineSplitter(limits.max_line_bytes),
            Stream.STDERR: LineSplitter(limits.max_line_bytes),
        }
        self._tail = bytearray()
        self._output_bytes = 0
        self._logged = 0
        self._killed = False
        self.progress = ProgressThrottle(progress_interval_s)
        self._now = 0.0  # the time of the latest feed (a monotonic reading)
        self.terminal: TaskStatus | None = None
        self.reason: ErrorReason | None = None  # why the terminal status is an Error

    def feed(self, stream: Stream, data: bytes, now: float = 0.0) -> list[Event]:
        """What `data`, written on `stream` and read at `now`, means."""
        self._now = now
        if self._killed:
            return []
        self._output_bytes += len(data)
        if self._output_bytes > self._limits.max_output_bytes:
            return self._kill(
                f"output limit exceeded: the task wrote more than "
                f"{self._limits.max_output_bytes} bytes to stdout and stderr",
                "output",
            )
        if stream == Stream.STDERR:
            self._tail += data
            del self._tail[: -self._limits.stderr_tail_bytes]
        events: list[Event] = []
        for line in self._lines[stream].feed(data):
            events += self._line(stream, line)
            if self._killed:
                break
        return events

    def due(self, now: float) -> list[Event]:
        """The progress line that waits for its turn, read in full once the turn came."""
        self._now = now
        if self._killed or self.terminal is not None or not self.progress.open(now):
            return []
        return self._release()

    def _release(self) -> list[Event]:
        held = self.progress.take()
        if held is None:
            return []
        return self._message(parse_line(held, self._check_message), len(held))

    def end(
        self, exit_code: int | None, *, oom_killed: bool = False, memory_bytes: int | None = None
    ) -> list[Event]:
        """The container exited (or its output ended): flush, and finish if nothing did."""
        events: list[Event] = []
        if not self._killed:
            for stream, splitter in self._lines.items():
                for line in splitter.flush():
                    events += self._line(stream, line)
        if oom_killed:
            limit = f" (limit {memory_bytes / 1024**2:g} MiB)" if memory_bytes else ""
            message = f"the task ran out of memory{limit} and was killed"
            return events + self.fail(message, "memory")
        return events + self.fail(self._exit_message(exit_code), "task")

    def fail(self, message: str, reason: ErrorReason) -> list[Event]:
        """Finish with an Error, unless a terminal status was already decided."""
        if self.terminal is not None:
            return []
        return self._finish(TaskStatus(self._id, "Error", message), reason)

    def _finish(self, status: TaskStatus, reason: ErrorReason | None) -> list[Event]:
        """The terminal status, after the progress line that waits (written before it): if
        that one is not fit to post, the task failed on it, first."""
        events = self._release()
        if self.terminal is not None:
            return events
        self.terminal, self.reason = status, reason
        return [*events, Finish(status, reason)]

    def _kill(self, message: str, reason: ErrorReason) -> list[Event]:
        self._killed = True
        return [*self.fail(message, reason), Kill(message)]

    def _exit_message(self, exit_code: int | None) -> str:
        code = "without an exit code" if exit_code is None else f"with code {exit_code}"
        message = f"the task exited {code} without sending a result"
        tail = self.stderr_tail()
        return f"{message}; stderr ends with: {tail}" if tail else message

    def stderr_tail(self) -> str:
        return self._tail.decode("utf-8", errors="replace").strip()

    def _line(self, stream: Stream, line: bytes | Overlong) -> list[Event]:
        if isinstance(line, Overlong):
            if stream == Stream.STDOUT:
                return self._kill(
                    f"output limit exceeded: a stdout line is longer than {line.limit} bytes",
                    "output",
                )
            return self._log(stream, f"<a stderr line longer than {line.limit} bytes>")
        if stream == Stream.STDERR:
            return self._log(stream, line.decode("utf-8", errors="replace"))
        closed = not self.progress.open(self._now)
        parsed = parse_line(line, self._check_message, defer_progress=closed)
        if isinstance(parsed, Progress):
            if self.terminal is not None:
                return self._log(Stream.STDOUT, "<message after the terminal one, ignored>")
            self.progress.hold(parsed.line)  # unread: a later one may replace it
            return []
        return self._message(parsed, len(line))

    def _message(self, parsed: Notify | Result | LogLine | Invalid, size: int) -> list[Event]:
        if isinstance(parsed, LogLine):
            return self._log(Stream.STDOUT, parsed.text)
        if self.terminal is not None:
            return self._log(Stream.STDOUT, "<message after the terminal one, ignored>")
        if isinstance(parsed, Invalid):
            return self.fail(parsed.problem, "protocol")
        if isinstance(parsed, Result):
            if size > self._limits.max_result_bytes:
                return self.fail(
                    f"result too large: the result message is {size} bytes, over the limit "
                    f"of {self._limits.max_result_bytes} bytes; it was not posted",
                    "output",
                )
            values, problem = self._check_outputs(parsed.outputs)
            # The values were checked as the task wrote them; defaults from the catalog
            # (image text too) are checked here, at the level a status carries them.
            problem = problem or first_problem(values, "output", MAX_MESSAGE_DEPTH, level=2)
            if problem:
                return self.fail(f"invalid result: {problem}", "output")
            completed = TaskStatus(self._id, "Completed", parsed.message, output_values=values)
            return self._finish(completed, None)
        message = self._clip(parsed.message)
        if parsed.status == "Error":
            error = TaskStatus(self._id, "Error", message, error_level=parsed.error_level)
            return self._finish(error, "task")
        self.progress.sent(self._now)
        return [Relay(TaskStatus(self._id, "InProgress", message, progress=parsed.progress))]

    def _clip(self, message: str) -> str:
        limit = self._limits.max_message_chars
        if len(message) <= limit:
            return message
        return message[:limit] + f"... ({len(message) - limit} more characters cut by the runner)"

    def _log(self, stream: Stream, text: str) -> list[Event]:
        if self._kept is not None:
            self._kept.add(stream, text.rstrip("\r"))
        self._logged += 1
        if self._logged > self._limits.max_logged_lines:
            if self._logged == self._limits.max_logged_lines + 1:
                return [Log(stream, "<further output of this task is not logged>")]
            return []
        text = text.rstrip("\r")
        if len(text) > _LOGGED_CHARS:
            text = text[:_LOGGED_CHARS] + f"... <{len(text) - _LOGGED_CHARS} more characters>"
        return [Log(stream, text)]


class ProgressThrottle:
    """At most one progress status per `min_interval_s`. A progress line that comes sooner
    waits for its turn unread, and a later one replaces it: the one replaced is skipped,
    never read in full, so a task notifying as fast as it can costs what its log lines
    cost (and a malformed one that is replaced is never reported)."""

    def __init__(self, min_interval_s: float) -> None:
        self._min_interval_s = min_interval_s
        self._last = float("-inf")
        self._held: bytes | None = None
        self.skipped = 0

    def open(self, now: float) -> bool:
        """Whether a progress status may go at `now`."""
        return now - self._last >= self._min_interval_s

    def hold(self, line: bytes) -> None:
        """`line` waits for its turn, in place of the one waiting (skipped)."""
        if self._held is not None:
            self.skipped += 1
        self._held = line

    def take(self) -> bytes | None:
        """The line waiting, if any, to read now."""
        held, self._held = self._held, None
        return held

    def sent(self, now: float) -> None:
        """A progress status went at `now`; a line still waiting is older: skipped."""
        self._last = now
        if self.take() is not None:
            self.skipped += 1

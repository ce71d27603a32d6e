"""Whether a task's stdout keeps protocol 1, line by line, as a pure function.

`xc-runner check` runs a task image's examples and hands the stdout bytes of
each run to `protocol_violations`, which returns every way they break the
protocol, each placed precisely (line, byte, field) and saying what was
expected. It is stricter than the runner, which tolerates what it can (a line
that is not a message is logged; after the first terminal message the rest is
ignored): a conformant task writes on stdout nothing but its messages, one per
line, and exactly one terminal message, last.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from runner.core.jsoncheck import first_problem_at
from runner.core.protocol import MAX_MESSAGE_DEPTH, MESSAGE_TYPES, progress_value

_LOGS_TO_STDERR = "every stdout line must be one JSON message (logs go to stderr)"


@dataclass(frozen=True)
class Problem:
    """One problem of a JSON document, at a path inside it (`catalog[0].inputs[1].name`)."""

    path: str
    what: str

    def __str__(self) -> str:
        return f"{self.path}: {self.what}" if self.path else self.what


@dataclass(frozen=True)
class Violation:
    """One way a task's stdout breaks the protocol."""

    line: int | None  # 1-based line of stdout; None: stdout as a whole
    what: str  # what is wrong, and what was expected
    field: str | None = None  # path of the field inside the line's message
    offset: int | None = None  # byte offset in the line (bytes not UTF-8, or not JSON)

    def __str__(self) -> str:
        where = "stdout" if self.line is None else f"stdout line {self.line}"
        if self.offset is not None:
            where += f", byte {self.offset}"
        if self.field:
            where += f", field {self.field}"
        return f"{where}: {self.what}"


# A check of one decoded message (or of a result's outputs): its problems, none if right.
ProblemCheck = Callable[[Mapping[str, Any]], list[Problem]]


@dataclass(frozen=True)
class ProtocolChecks:
    """What stdout is held to: the message schema, the task's outputs, the caps."""

    message: ProblemCheck  # schemas/task-message.schema.json, as `message.<field>`
    outputs: ProblemCheck  # the catalog's outputs of the task, as `outputs.<name>`
    max_output_bytes: int
    max_line_bytes: int
    max_result_bytes: int


def protocol_violations(stdout: bytes, checks: ProtocolChecks) -> list[Violation]:
    """Every violation of protocol 1 in a task's whole stdout, in line order."""
    analysis = _Analysis(checks)
    for number, line in _numbered_lines(stdout):
        analysis.line(number, line)
    return analysis.finish(len(stdout))


def _numbered_lines(stdout: bytes) -> Iterator[tuple[int, bytes]]:
    lines = stdout.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()  # the newline that ends the last line
    return enumerate(lines, start=1)


class _Analysis:
    def __init__(self, checks: ProtocolChecks) -> None:
        self._checks = checks
        self._terminal: int | None = None  # the line of the first terminal message
        self.violations: list[Violation] = []

    def line(self, number: int, line: bytes) -> None:
        if len(line) > self._checks.max_line_bytes:
            self._add(
                number,
                f"the line is {len(line)} bytes, over the cap of {self._checks.max_line_bytes} "
                "bytes (the runner stops the task)",
            )
            return
        message = self._decode(number, line)
        if message is not None:
            self._message(number, len(line), message)

    def finish(self, total_bytes: int) -> list[Violation]:
        if total_bytes > self._checks.max_output_bytes:
            self._add(
                None,
                f"over the output cap of {self._checks.max_output_bytes} bytes "
                "(the runner stopped the task there)",
            )
        elif self._terminal is None:
            self._add(
                None,
                "no terminal message: stdout must end with a result or a notify Error message",
            )
        return self.violations

    def _add(
        self, line: int | None, what: str, field: str | None = None, offset: int | None = None
    ) -> None:
        self.violations.append(Violation(line, what, field, offset))

    def _decode(self, number: int, line: bytes) -> dict[str, Any] | None:
        """The line's message, or None after adding why it is not one."""
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            bad = line[exc.start]
            self._add(
                number, f"not UTF-8 (byte 0x{bad:02x}): the protocol is UTF-8", None, exc.start
            )
            return None
        if not text.strip():
            self._add(number, f"an empty line: {_LOGS_TO_STDERR}")
            return None
        try:
            value = json.loads(text, parse_constant=_reject_constant)
        except json.JSONDecodeError as exc:
            offset = len(text[: exc.pos].encode("utf-8"))
            self._add(number, f"not valid JSON ({exc.msg}): {_LOGS_TO_STDERR}", None, offset)
            return None
        except (ValueError, RecursionError) as exc:
            self._add(number, f"not valid JSON ({exc}): {_LOGS_TO_STDERR}")
            return None
        return self._typed(number, value)

    def _typed(self, number: int, value: Any) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self._add(number, f"a JSON {_kind(value)}, not an object: {_LOGS_TO_STDERR}")
            return None
        if value.get("type") not in MESSAGE_TYPES:
            found = "missing" if "type" not in value else f"got {json.dumps(value['type'])}"
            self._add(number, f'expected "notify" or "result", {found}', "type")
            return None
        return value

    def _message(self, number: int, size: int, message: dict[str, Any]) -> None:
        terminal = message["type"] == "result" or message.get("status") == "Error"
        if self._terminal is not None:
            self._add(number, _after_terminal(terminal, self._terminal))
            return
        problems = [*self._checks.message(message), *_text_problems(message)]
        for problem in problems:
            self._add(number, problem.what, problem.path)
        if problems:
            return
        if message["type"] == "result":
            self._result(number, size, message)
        elif message["status"] == "InProgress":
            self._progress(number, message.get("progressPercentage"))
        if terminal:
            self._terminal = number

    def _result(self, number: int, size: int, message: Mapping[str, Any]) -> None:
        if size > self._checks.max_result_bytes:
            self._add(
                number,
                f"the result message is {size} bytes, over the cap of "
                f"{self._checks.max_result_bytes} bytes (the runner posts an Error instead)",
            )
            return
        for problem in self._checks.outputs(message.get("outputs") or {}):
            self._add(number, problem.what, problem.path)

    def _progress(self, number: int, progress: Any) -> None:
        _, problem = progress_value(progress)  # the runner's own rule, as it applies it
        if problem is not None:
            self._add(number, problem, "message.progressPercentage")


def _after_terminal(terminal: bool, first: int) -> str:
    if terminal:
        return (
            f"a second terminal message (the first is on line {first}): a task sends exactly "
            "one result or notify Error, and the runner ignores any after the first"
        )
    return (
        f"a message after the terminal message of line {first}: the terminal message must be "
        "the last (the runner ignores what follows it)"
    )


def _text_problems(message: Mapping[str, Any]) -> list[Problem]:
    """What the runner refuses to post (runner.core.jsoncheck): text that is not Unicode, a
    number that is not finite, nesting past MAX_MESSAGE_DEPTH."""
    found = first_problem_at(message, "message", MAX_MESSAGE_DEPTH)
    return [] if found is None else [Problem(*found)]


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    return "null" if value is None else "number"

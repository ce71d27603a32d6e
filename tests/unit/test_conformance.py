"""The protocol-conformance analysis of a task's stdout (runner.core.conformance), pure."""

from __future__ import annotations

import json
from typing import Any

import pytest

from runner.contracts import Contracts
from runner.core.catalog import TaskRoute
from runner.core.conformance import Problem, ProtocolChecks, Violation, protocol_violations

CONTRACTS = Contracts()
OUTPUTS = [{"name": "count", "baseType": "Integer"}, {"name": "label", "baseType": "String"}]
ROUTE = TaskRoute(image="img", definition={"namespace": "n", "name": "t", "outputs": OUTPUTS})
CHECKS = ProtocolChecks(
    message=CONTRACTS.message_problems,
    outputs=lambda outputs: CONTRACTS.output_problems(ROUTE, outputs),
    max_output_bytes=4096,
    max_line_bytes=1024,
    max_result_bytes=256,
)


def line(message: dict[str, Any]) -> bytes:
    return json.dumps(message, ensure_ascii=False).encode() + b"\n"


PROGRESS = line(
    {"type": "notify", "status": "InProgress", "message": "half", "progressPercentage": 0.5}
)
RESULT = line({"type": "result", "outputs": {"count": 3, "label": "three"}})
ERROR = line({"type": "notify", "status": "Error", "message": "no", "errorLevel": "Critical"})


def violations(stdout: bytes, checks: ProtocolChecks = CHECKS) -> list[Violation]:
    return protocol_violations(stdout, checks)


@pytest.mark.parametrize(
    "stdout",
    [
        RESULT,
        PROGRESS + PROGRESS + RESULT,
        PROGRESS + ERROR,
        RESULT.rstrip(b"\n"),  # the last line may lack its newline
        line({"type": "result", "outputs": {"count": "7", "label": "x"}, "message": "done"}),
        line({"type": "notify", "status": "InProgress", "progressPercentage": "1"}) + ERROR,
        line({"type": "result", "outputs": {"count": 1, "label": "é ✓ 日本"}}),
    ],
)
def test_a_conformant_stdout_has_no_violation(stdout: bytes) -> None:
    assert violations(stdout) == []


def test_two_terminal_messages_name_both_lines() -> None:
    found = violations(PROGRESS + RESULT + ERROR)
    assert len(found) == 1
    assert found[0].line == 3
    assert "a second terminal message (the first is on line 2)" in found[0].what


def test_a_message_after_the_terminal_one_is_named() -> None:
    found = violations(ERROR + PROGRESS)
    assert [(v.line, v.what.split(":")[0]) for v in found] == [
        (2, "a message after the terminal message of line 1")
    ]


def test_invalid_json_gives_the_line_and_the_byte_offset_in_it() -> None:
    broken = '{"type": "notify", "message": "déjà vu" "status": "Error"}'
    found = violations(PROGRESS + PROGRESS + broken.encode() + b"\n" + RESULT)
    assert len(found) == 1
    # The comma is missing at character 40, which is byte 42: é and à take two bytes each.
    assert broken.index('"status"') == 40
    assert broken.encode().index(b'"status"') == 42
    assert (found[0].line, found[0].offset) == (3, 42)
    assert str(found[0]).startswith(
        "stdout line 3, byte 42: not valid JSON (Expecting ',' delimiter)"
    )


def test_bytes_that_are_not_utf8_give_the_line_and_the_byte() -> None:
    bad = b'{"type": "result", "message": "caf\xe9"}'
    found = violations(PROGRESS + bad + b"\n")
    assert [(v.line, v.offset) for v in found] == [(2, bad.index(b"\xe9")), (None, None)]
    assert found[0].what.startswith("not UTF-8 (byte 0xe9)")
    assert found[1].what.startswith("no terminal message")


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (b"", "an empty line"),
        (b"   ", "an empty line"),
        (b"starting up", "not valid JSON (Expecting value)"),
        (b'["type", "result"]', "a JSON array, not an object"),
        (b'"result"', "a JSON string, not an object"),
        (b'{"type": "result", "outputs": {"count": NaN}}', "not valid JSON (NaN is not JSON)"),
        (b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),
    ],
)
def test_a_line_that_is_not_a_message_is_a_violation(text: bytes, says: str) -> None:
    checks = ProtocolChecks(CHECKS.message, CHECKS.outputs, 10**7, 10**6, 256)
    found = violations(text + b"\n" + RESULT, checks)
    assert [v.line for v in found] == [1]
    assert says in found[0].what
    assert "logs go to stderr" in found[0].what


@pytest.mark.parametrize(
    ("message", "field", "says"),
    [
        ({"status": "Completed"}, "type", 'expected "notify" or "result", missing'),
        ({"type": "log", "text": "x"}, "type", 'expected "notify" or "result", got "log"'),
        ({"type": "notify", "status": "Done"}, "message.status", "must be 'InProgress' or 'Error'"),
        (
            {"type": "notify", "status": "InProgress", "progressPercentage": "half"},
            "message.progressPercentage",
            "'half' is not a fraction between 0 and 1, as a number or a numeric string",
        ),
        (
            {"type": "notify", "status": "InProgress", "progressPercentage": 50},
            "message.progressPercentage",
            "50 is not a fraction between 0 and 1, as a number or a numeric string",
        ),
        ({"type": "notify", "status": "Error", "errorLevel": "Bad"}, "message.errorLevel", "Bad"),
        ({"type": "result", "outputs": []}, "message.outputs", "[] is not of type 'object'"),
    ],
)
def test_a_message_breaking_the_schema_names_the_field(
    message: dict[str, Any], field: str, says: str
) -> None:
    found = violations(line(message) + RESULT)
    assert found[0].line == 1
    assert found[0].field == field
    assert says in found[0].what


def test_outputs_that_do_not_match_the_catalog_name_each_output() -> None:
    found = violations(line({"type": "result", "outputs": {"count": "many", "extra": 1}}))
    assert [(v.line, v.field) for v in found] == [
        (1, "outputs"),
        (1, "outputs"),
        (1, "outputs.count"),
    ]
    assert {v.what for v in found} == {
        "missing 'label'",
        "not declared: 'extra'",
        "'many' is not a 64-bit integer (or its text)",
    }


def test_caps_on_a_result_a_line_and_the_whole_output() -> None:
    big_result = line({"type": "result", "outputs": {"count": 1, "label": "x" * 300}})
    found = violations(big_result)
    assert found[0].line == 1 and "over the cap of 256 bytes" in found[0].what
    long_line = b'{"type": "notify", "status": "InProgress", "message": "' + b"x" * 2000 + b'"}\n'
    found = violations(long_line + RESULT)
    assert found[0].line == 1 and "the line is 2057 bytes, over the cap of 1024" in found[0].what
    flood = PROGRESS * 100 + RESULT
    found = violations(flood)
    assert str(found[-1]) == (
        "stdout: over the output cap of 4096 bytes (the runner stopped the task there)"
    )


def test_no_output_at_all_lacks_the_terminal_message() -> None:
    assert [str(v) for v in violations(b"")] == [
        "stdout: no terminal message: stdout must end with a result or a notify Error message"
    ]


def test_a_problem_and_a_violation_print_where_and_what() -> None:
    assert str(Problem("catalog[0].name", "missing")) == "catalog[0].name: missing"
    assert str(Problem("", "wrong")) == "wrong"
    violation = Violation(4, "not valid JSON", field="message.status", offset=7)
    assert str(violation) == "stdout line 4, byte 7, field message.status: not valid JSON"


def test_text_that_is_not_unicode_is_placed_by_field() -> None:
    stdout = b'{"type": "result", "outputs": {"count": 1, "label": "a\\udfffb"}}\n'
    found = violations(stdout)
    assert [str(v) for v in found] == [
        "stdout line 1, field message.outputs.label: not valid Unicode text: a lone UTF-16 "
        "surrogate \\udfff at character 1",
        "stdout: no terminal message: stdout must end with a result or a notify Error message",
    ]
    deep = b'{"type": "result", "outputs": {"count": 1, "label": "x", "d": ' + b"[" * 900
    roomy = ProtocolChecks(CHECKS.message, CHECKS.outputs, 10**7, 10**6, 10**6)
    found = violations(deep + b"]" * 900 + b"}}\n", roomy)  # deep, but JSON: no crash
    # Deeper than the runner posts (it ends such a task in Error): placed at the limit.
    assert found[0].line == 1
    assert found[0].field == "message.outputs.d" + "[0]" * 30
    assert found[0].what == "nested deeper than the limit of 32 levels of objects and arrays"

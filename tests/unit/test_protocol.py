"""The pure protocol core: envelope, Docker attach framing, line splitting, message parsing."""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping
from typing import Any

import pytest

from runner.contracts import Contracts
from runner.core.protocol import (
    MAX_MESSAGE_DEPTH,
    NUMERIC_STRING,
    PROGRESS_IS,
    Invalid,
    LineSplitter,
    LogLine,
    Notify,
    Overlong,
    Result,
    Stream,
    encode_envelope,
    parse_line,
)
from runner.engine.attach import FrameDecoder

CONTRACTS = Contracts()


def check(message: Mapping[str, Any]) -> str | None:
    return CONTRACTS.check_message(message)


def frame(stream: int, payload: bytes) -> bytes:
    return struct.pack(">BxxxL", stream, len(payload)) + payload


def test_envelope_is_one_line_matching_the_schema() -> None:
    data = encode_envelope("sample", "double", "id-1", {"str_in": "a\nb", "nbr_in": "2"})
    assert data.endswith(b"\n") and data.count(b"\n") == 1
    envelope = json.loads(data)
    assert envelope == {
        "protocol": 1,
        "namespace": "sample",
        "task": "double",
        "taskInstanceId": "id-1",
        "inputs": {"str_in": "a\nb", "nbr_in": "2"},
    }
    assert CONTRACTS.check("task-input.schema.json", envelope, "envelope") is None


def test_frames_split_anywhere_are_reassembled_per_stream() -> None:
    stream = frame(1, b"hello ") + frame(2, b"oops\n") + frame(1, b"world\n")
    for cut in range(len(stream) + 1):
        decoder = FrameDecoder()
        pieces = decoder.feed(stream[:cut]) + decoder.feed(stream[cut:])
        stdout = b"".join(d for s, d in pieces if s == Stream.STDOUT)
        stderr = b"".join(d for s, d in pieces if s == Stream.STDERR)
        assert (stdout, stderr) == (b"hello world\n", b"oops\n")


def test_frame_payload_is_handed_out_before_the_frame_is_complete() -> None:
    decoder = FrameDecoder()
    header = struct.pack(">BxxxL", 1, 10_000_000)
    assert decoder.feed(header + b"abc") == [(Stream.STDOUT, b"abc")]
    assert decoder.feed(b"def") == [(Stream.STDOUT, b"def")]


def test_lines_are_split_across_chunks_and_flushed_at_the_end() -> None:
    splitter = LineSplitter(max_line_bytes=100)
    assert splitter.feed(b"one\ntw") == [b"one"]
    assert splitter.feed(b"o\n\nthr") == [b"two", b""]
    assert splitter.flush() == [b"thr"]
    assert splitter.flush() == []


def test_an_overlong_line_is_reported_once_and_dropped_whatever_the_chunking() -> None:
    splitter = LineSplitter(max_line_bytes=10)
    out = splitter.feed(b"x" * 8) + splitter.feed(b"x" * 8) + splitter.feed(b"x" * 1000)
    assert out == [Overlong(10)]
    assert splitter.feed(b"tail\nok\n") == [b"ok"]
    splitter.feed(b"y" * 50)
    assert splitter.flush() == []


def test_a_line_at_the_limit_is_kept() -> None:
    splitter = LineSplitter(max_line_bytes=5)
    assert splitter.feed(b"12345\n123456\n") == [b"12345", Overlong(5)]


@pytest.mark.parametrize(
    "line",
    [
        b"plain text",
        b"",
        b"[1, 2]",
        b'"just a string"',
        b"{not json",
        b'{"type": "log", "status": "Error"}',
        b'{"status": "Error", "message": "no type"}',
        b'{"type": "notify", "status": "Error", "message": "x"',
        b"\xff\xfe invalid utf-8",
        b'{"type": "notify", "status": "InProgress", "message": "\xed\xbf\xbf"}',  # CESU
        b"[" * 100_000,
        b'{"type": []}',
        b'{"type": {"notify": 1}}',
        b'{"log": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b'{"type": "log", "deep": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b'{"type": "notify", "status": "InProgress", "deep": ' + b"[" * 100_000,
        rb'{"x": "\udfff", "y": NaN}',
    ],
)
def test_anything_but_a_typed_object_is_log_output(line: bytes) -> None:
    assert isinstance(parse_line(line, check), LogLine)


def test_notify_and_result_are_messages() -> None:
    progress = parse_line(
        b'{"type":"notify","status":"InProgress","message":"half","progressPercentage":0.5}', check
    )
    assert progress == Notify("InProgress", "half", "0.5")
    assert parse_line(
        b'{"type":"notify","status":"InProgress","progressPercentage":" 0.25 "}', check
    ) == Notify("InProgress", "", "0.25")
    assert parse_line(
        b'{"type":"notify","status":"InProgress","progressPercentage":1}', check
    ) == Notify("InProgress", "", "1.0")
    error = parse_line(
        b'{"type":"notify","status":"Error","message":"bad","errorLevel":"Fatal"}', check
    )
    assert error == Notify("Error", "bad", None, "Fatal")
    assert parse_line(b'{"type":"result","outputs":{"a":"1"},"extra":true}', check) == Result(
        {"a": "1"}
    )
    assert parse_line(b'  {"type":"result"}\r', check) == Result({})


@pytest.mark.parametrize(
    ("line", "words"),
    [
        (b'{"type":"notify","status":"Completed"}', "status must be 'InProgress' or 'Error'"),
        (
            b'{"type":"notify","status":"InProgress","progressPercentage":"half"}',
            "progressPercentage",
        ),
        (
            b'{"type":"notify","status":"InProgress","progressPercentage":true}',
            "progressPercentage",
        ),
        (b'{"type":"notify","status":"Error","message":3}', "message.message"),
        (b'{"type":"notify","status":"Error","errorLevel":"Bad"}', "errorLevel"),
        (b'{"type":"result","outputs":[1]}', "message.outputs"),
        (b'{"type":"notify","status":"InProgress","progressPercentage":NaN}', "NaN"),
    ],
)
def test_a_typed_object_that_breaks_the_schema_is_invalid_and_says_why(
    line: bytes, words: str
) -> None:
    parsed = parse_line(line, check)
    assert isinstance(parsed, Invalid)
    assert words in parsed.problem


def invalid(line: bytes) -> str:
    parsed = parse_line(line, check)
    assert isinstance(parsed, Invalid), parsed
    return parsed.problem


SURROGATE = "not valid Unicode text: a lone UTF-16 surrogate"


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (
            rb'{"type":"notify","status":"InProgress","message":"half \udfff"}',
            "invalid notify message: message.message: " + SURROGATE + r" \udfff at character 5",
        ),
        (
            rb'{"type":"notify","status":"Error","message":"\ud800"}',
            "invalid notify message: message.message: " + SURROGATE + r" \ud800 at character 0",
        ),
        (
            rb'{"type":"notify","status":"Error","errorLevel":"Fatal\udc00"}',
            "invalid notify message: message.errorLevel: " + SURROGATE,
        ),
        (
            rb'{"type":"result","outputs":{"text":"\ude00 alone"}}',
            "invalid result message: message.outputs.text: " + SURROGATE + r" \ude00",
        ),
        (
            rb'{"type":"result","outputs":{"data":{"list":[1,{"k\udfffey":"v"}]}}}',
            r"invalid result message: message.outputs.data.list[1].k\udfffey: the name is "
            + SURROGATE,
        ),
        (
            rb'{"type":"result","outputs":{},"message":"\udbff\udbff"}',
            "invalid result message: message.message: " + SURROGATE,
        ),
        (
            rb'{"type":"result","outputs":{},"unknown":{"\udfff":1}}',
            r"invalid result message: message.unknown.\udfff: the name is " + SURROGATE,
        ),
        (
            rb'{"type":"result","outputs":{"n":[1,1e999]}}',
            "invalid result message: message.outputs.n[1]: a number too large",
        ),
        (
            rb'{"type":"result","outputs":{"n":{"x":-Infinity}}}',
            "invalid result message: message.outputs.n.x: -Infinity is not a finite number",
        ),
    ],
)
def test_text_that_is_not_unicode_and_numbers_that_are_not_finite_are_invalid(
    line: bytes, problem: str
) -> None:
    assert invalid(line).startswith(problem)


def test_a_surrogate_pair_is_text_and_a_lone_surrogate_is_named_escaped() -> None:
    line = rb'{"type":"result","outputs":{"text":"\ud83d\ude00 ok"}}'
    assert parse_line(line, check) == Result({"text": "\U0001f600 ok"})
    problem = invalid(rb'{"type":"result","outputs":{"\u001b[2J\udfff":"1"}}')
    assert problem.encode("utf-8").isascii()  # the problem is posted: it names, escaped
    assert r"message.outputs.\x1b[2J\udfff: the name is" in problem


PROGRESS_PROBLEM = "is not a fraction between 0 and 1, as a number or a numeric string"


@pytest.mark.parametrize(
    ("progress", "problem"),
    [
        (b"NaN", "NaN is not a finite number"),
        (b"Infinity", "Infinity is not a finite number"),
        (b"-Infinity", "-Infinity is not a finite number"),
        (b"1e999", "a number too large"),
        (b"150", PROGRESS_PROBLEM),
        (b"-5", PROGRESS_PROBLEM),
        (b"1.0000001", PROGRESS_PROBLEM),
        (b"-0.001", PROGRESS_PROBLEM),
        (b"10" + b"0" * 400, PROGRESS_PROBLEM),
        (b'"abc"', PROGRESS_PROBLEM),
        (b'"150"', PROGRESS_PROBLEM),
        (b'" -5 "', PROGRESS_PROBLEM),
        (b'"1e999"', PROGRESS_PROBLEM),
        (b'"NaN"', PROGRESS_PROBLEM),
        (b'"inf"', PROGRESS_PROBLEM),
        (b'"0_5"', PROGRESS_PROBLEM),
        (b'""', PROGRESS_PROBLEM),
        (b"true", PROGRESS_PROBLEM),
        (b"[0.5]", PROGRESS_PROBLEM),
    ],
)
def test_a_progress_that_is_not_a_fraction_is_invalid_and_named(
    progress: bytes, problem: str
) -> None:
    line = b'{"type":"notify","status":"InProgress","progressPercentage":' + progress + b"}"
    said = invalid(line)
    assert said.startswith("invalid notify message: message.progressPercentage: ")
    assert said.endswith(problem)


@pytest.mark.parametrize(
    ("progress", "posted"),
    [
        (b"0", "0.0"),
        (b"1", "1.0"),
        (b"0.25", "0.25"),
        (b"1e-5", "1e-05"),
        (b'" 1e-05 "', "1e-05"),
        (b'"1"', "1"),
        (b'"0.000"', "0.000"),
        (b'".5"', ".5"),
    ],
)
def test_a_fraction_from_0_to_1_is_a_progress(progress: bytes, posted: str) -> None:
    line = b'{"type":"notify","status":"InProgress","progressPercentage":' + progress + b"}"
    assert parse_line(line, check) == Notify("InProgress", "", posted)


def test_the_code_and_the_schema_agree_on_what_a_progress_is() -> None:
    progress = CONTRACTS.schemas["task-message.schema.json"]["$defs"]["progress"]
    assert progress["title"] == PROGRESS_IS
    number, string = progress["oneOf"]
    assert (number["minimum"], number["maximum"]) == (0, 1)
    assert string["pattern"] == f"^{NUMERIC_STRING.pattern}$"


def nested(depth: int, kind: bytes = b"result") -> bytes:
    """A message line nested exactly `depth` levels (its own object is level 1), arrays
    and objects in turn, its type given last."""
    inner = depth - 2
    opens = [b"[" if level % 2 == 0 else b'{"k":' for level in range(inner)]
    closes = [b"]" if level % 2 == 0 else b"}" for level in reversed(range(inner))]
    body = b'{"outputs":{"data":' if kind == b"result" else b'{"status":"InProgress","x":{"y":'
    return body + b"".join(opens) + b"0" + b"".join(closes) + b'},"type":"' + kind + b'"}'


def test_a_message_at_the_depth_limit_is_read() -> None:
    parsed = parse_line(nested(MAX_MESSAGE_DEPTH), check)
    assert isinstance(parsed, Result)
    assert json.loads(nested(MAX_MESSAGE_DEPTH))["outputs"] == parsed.outputs
    assert isinstance(parse_line(nested(MAX_MESSAGE_DEPTH, b"notify"), check), Notify)


@pytest.mark.parametrize("depth", [MAX_MESSAGE_DEPTH + 1, 900, 5_000, 100_000])
@pytest.mark.parametrize("kind", [b"result", b"notify"])
def test_a_message_over_the_depth_limit_is_invalid_and_says_where(depth: int, kind: bytes) -> None:
    problem = invalid(nested(depth, kind))
    where = "message.outputs.data" if kind == b"result" else "message.x.y"
    steps = "".join("[0]" if level % 2 == 0 else ".k" for level in range(MAX_MESSAGE_DEPTH - 2))
    assert problem == (
        f"invalid {kind.decode()} message: {where}{steps}: "
        f"nested deeper than the limit of {MAX_MESSAGE_DEPTH} levels of objects and arrays"
    )


def test_brackets_in_strings_do_not_count_as_depth() -> None:
    line = b'{"type":"result","outputs":{"text":"' + b"[{" * 1000 + b'"}}'
    assert parse_line(line, check) == Result({"text": "[{" * 1000})
    deep = b'{"type":"result","outputs":{"t":"]]}}\\"]]","d":' + b"[" * 5000 + b"]" * 5000 + b"}}"
    assert "message.outputs.d[0][0]" in invalid(deep)

"""The pure protocol core: envelope, Docker attach framing, line splitting, message parsing."""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping
from typing import Any

import pytest

from runner.contracts import Contracts
from runner.core.protocol import (
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
        b'{"type": "notify", "status": "InProgress", "progressPercentage": NaN}',
        b"[" * 100_000,
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
    ],
)
def test_a_typed_object_that_breaks_the_schema_is_invalid_and_says_why(
    line: bytes, words: str
) -> None:
    parsed = parse_line(line, check)
    assert isinstance(parsed, Invalid)
    assert words in parsed.problem

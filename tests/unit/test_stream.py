"""The attach stream of a waiting (warm) container, on a local socket pair: what it writes
before its task is kept for that task, its end is seen, and memory stays bounded."""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterator

import pytest

from runner.core.protocol import Stream
from runner.engine.stream import EARLY_OUTPUT_BYTES, AttachStream


def frame(stream: Stream, data: bytes) -> bytes:
    return struct.pack(">BxxxL", int(stream), len(data)) + data


@pytest.fixture
def pair() -> Iterator[tuple[AttachStream, socket.socket]]:
    ours, engine = socket.socketpair()
    stream = AttachStream(ours, "c0ffee", lambda: None)
    yield stream, engine
    stream.close()
    engine.close()


def test_a_silent_waiting_container_is_alive(pair: tuple[AttachStream, socket.socket]) -> None:
    stream, _ = pair
    assert stream.drain() is True
    assert stream.read(0) == []


def test_output_before_the_task_is_kept_and_read_first(
    pair: tuple[AttachStream, socket.socket],
) -> None:
    stream, engine = pair
    engine.sendall(frame(Stream.STDERR, b"warming up\n") + frame(Stream.STDOUT, b"not json\n"))
    assert stream.drain() is True
    assert stream.stderr_tail() == "warming up"
    stream.send(b'{"task": "x"}\n')
    assert engine.recv(100) == b'{"task": "x"}\n'
    engine.sendall(frame(Stream.STDOUT, b"later\n"))
    assert stream.read(1) == [(Stream.STDERR, b"warming up\n"), (Stream.STDOUT, b"not json\n")]
    assert stream.read(1) == [(Stream.STDOUT, b"later\n")]


def test_a_container_that_ended_while_waiting_is_seen_dead(
    pair: tuple[AttachStream, socket.socket],
) -> None:
    stream, engine = pair
    engine.sendall(frame(Stream.STDERR, b"Traceback: boom\n"))
    engine.close()
    assert stream.drain() is False
    assert stream.drain() is False
    assert stream.stderr_tail() == "Traceback: boom"


def test_a_closed_stream_is_dead(pair: tuple[AttachStream, socket.socket]) -> None:
    stream, _ = pair
    stream.close()
    assert stream.drain() is False
    assert stream.read(0) is None


def test_what_a_waiting_container_may_have_kept_is_bounded(
    pair: tuple[AttachStream, socket.socket],
) -> None:
    stream, engine = pair
    engine.setblocking(False)
    sent = 0
    try:
        while sent < 4 * EARLY_OUTPUT_BYTES:
            sent += engine.send(frame(Stream.STDOUT, b"x" * 8192))
    except BlockingIOError:
        pass
    assert stream.drain() is True
    kept = sum(len(data) for _, data in stream.read(0) or [])
    assert EARLY_OUTPUT_BYTES <= kept < EARLY_OUTPUT_BYTES + 65536 + 8192

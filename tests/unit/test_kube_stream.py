"""A task Pod's streams over its two attach sessions, on fakes of the sessions: the input is
written and its session closed (the task's end of file), the output is read as it comes,
what a waiting Pod writes is kept for its task, and the end is seen."""

from __future__ import annotations

import threading

from runner.core.errors import EngineError
from runner.core.protocol import Stream
from runner.engine.kube_stream import (
    EARLY_OUTPUT_BYTES,
    STATUS,
    STDERR,
    STDIN,
    STDOUT,
    PodStreams,
)


class FakeSession:
    """Frames to hand out, and what was sent."""

    def __init__(self, frames: list[tuple[int, bytes] | None] | None = None) -> None:
        self.frames = list(frames or [])
        self.sent: list[tuple[int, bytes]] = []
        self.closed = threading.Event()
        self.fail_send = False

    def readable(self, timeout_s: float) -> bool:
        return bool(self.frames)

    def receive(self) -> tuple[int, bytes] | None:
        return self.frames.pop(0)

    def send(self, channel: int, data: bytes) -> None:
        if self.fail_send:
            raise EngineError("gone")
        self.sent.append((channel, data))

    def close(self) -> None:
        self.closed.set()


def test_the_input_is_written_then_its_session_closed() -> None:
    stdin = FakeSession()
    streams = PodStreams(FakeSession(), stdin, "p")
    streams.send(b"x" * 70_000)
    assert stdin.closed.wait(5)
    assert all(channel == STDIN for channel, _ in stdin.sent)
    assert b"".join(data for _, data in stdin.sent) == b"x" * 70_000
    assert len(stdin.sent) == 3  # in pieces


def test_a_task_that_does_not_read_its_input_closes_the_session_all_the_same() -> None:
    stdin = FakeSession()
    stdin.fail_send = True
    PodStreams(FakeSession(), stdin, "p").send(b"{}")
    assert stdin.closed.wait(5)


def test_output_is_read_by_stream_and_the_end_is_seen() -> None:
    output = FakeSession(
        [
            (STDOUT, b'{"a":'),
            (-1, b""),
            (STDERR, b"warn\n"),
            (STATUS, b"{}"),
            (STDOUT, b"1}\n"),
            None,
        ]
    )
    streams = PodStreams(output, FakeSession(), "p")
    assert streams.read(0) == [
        (Stream.STDOUT, b'{"a":'),
        (Stream.STDERR, b"warn\n"),
        (Stream.STDOUT, b"1}\n"),
    ]
    assert streams.read(0) is None
    assert streams.status == b"{}"


def test_nothing_within_the_timeout_is_an_empty_read() -> None:
    assert PodStreams(FakeSession(), FakeSession(), "p").read(0.01) == []


def test_what_a_waiting_pod_writes_is_kept_for_its_task() -> None:
    output = FakeSession([(STDERR, b"starting\n")])
    streams = PodStreams(output, FakeSession(), "p")
    assert streams.drain() is True
    assert streams.stderr_tail() == "starting"
    assert streams.read(0) == [(Stream.STDERR, b"starting\n")]


def test_a_waiting_pod_whose_output_ended_is_not_alive() -> None:
    streams = PodStreams(FakeSession([(STDERR, b"crash\n"), None]), FakeSession(), "p")
    assert streams.drain() is False
    assert streams.stderr_tail() == "crash"


def test_what_a_waiting_pod_may_keep_is_bounded() -> None:
    big = [(STDOUT, b"y" * 4096) for _ in range(EARLY_OUTPUT_BYTES // 4096 + 10)]
    output = FakeSession(big)
    streams = PodStreams(output, FakeSession(), "p")
    assert streams.drain() is True
    assert output.frames  # the rest waits in the session until the task reads it


def test_closed_streams_read_no_more_and_close_both_sessions() -> None:
    output, stdin = FakeSession([(STDOUT, b"late")]), FakeSession()
    streams = PodStreams(output, stdin, "p")
    streams.close()
    assert streams.read(0) is None
    assert output.closed.is_set() and stdin.closed.is_set()

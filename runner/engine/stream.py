"""A container's stdin, stdout and stderr on Docker's attach socket, without the docker SDK.

The socket is non-blocking: input is written as the container accepts it, while
its output is read, so a task that never reads its stdin cannot block the
runner. While a container waits for its task (a warm one), `drain` reads what
it wrote so far and keeps it (bounded) for its task, and tells whether its
output has ended.
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import time
from collections.abc import Callable
from typing import Any

from runner.core.errors import EngineError
from runner.core.protocol import Stream
from runner.engine.attach import FrameDecoder
from runner.engine.interface import Chunk

log = logging.getLogger(__name__)

_READ_SIZE = 65536
# What a waiting container may write before its task and have kept; past this its
# output is left in the socket (the container blocks) until its task reads it.
EARLY_OUTPUT_BYTES = 64 * 1024
STDERR_TAIL_CHARS = 300


class AttachStream:
    def __init__(self, sock_io: Any, name: str, on_error: Callable[[], None]) -> None:
        self._sock_io = sock_io  # holds the HTTP response, which must outlive the socket
        self._sock: socket.socket = getattr(sock_io, "_sock", sock_io)
        self._sock.setblocking(False)
        self._name = name
        self._on_error = on_error  # a read failed: the engine's health should be checked
        self._frames = FrameDecoder()
        self._stdin = bytearray()
        self._stdin_open = True
        self._early: list[Chunk] = []  # output that arrived before the task's first read
        self._early_bytes = 0
        self._ended = False

    def send(self, data: bytes) -> None:
        self._stdin += data
        self._write_stdin()

    def _write_stdin(self) -> None:
        try:
            while self._stdin:
                sent = self._sock.send(self._stdin[:_READ_SIZE])
                del self._stdin[:sent]
            if self._stdin_open:
                self._stdin_open = False
                self._sock.shutdown(socket.SHUT_WR)
        except BlockingIOError:
            return
        except OSError as exc:  # the task exited without reading all of its input
            log.debug("container %s: stdin closed early: %s", self._name, exc)
            self._stdin.clear()
            self._stdin_open = False

    def read(self, timeout_s: float) -> list[Chunk] | None:
        if self._early:
            early, self._early = self._early, []
            return early
        if self._ended or self._sock.fileno() < 0:  # stopped or removed: output has ended
            return None
        deadline = time.monotonic() + max(timeout_s, 0.0)
        while True:
            want_write = [self._sock] if self._stdin else []
            remaining = max(deadline - time.monotonic(), 0.0)
            readable, writable, _ = select.select([self._sock], want_write, [], remaining)
            if writable:
                self._write_stdin()
            if readable:
                data = self._receive()
                if data is None:
                    continue
                return self._frames.feed(data) if data else None
            if time.monotonic() >= deadline:
                return []

    def _receive(self) -> bytes | None:
        """What the socket holds (b"" at its end), or None if nothing after all."""
        try:
            return self._sock.recv(_READ_SIZE)
        except BlockingIOError:
            return None
        except OSError as exc:
            self._on_error()
            raise EngineError(f"lost the output of container {self._name}: {exc}") from exc

    def drain(self) -> bool:
        """Before the task: keep what the container wrote so far; False once its output has
        ended (it exited or was removed), True while it may still run."""
        while not self._ended and self._early_bytes < EARLY_OUTPUT_BYTES:
            if self._sock.fileno() < 0:
                return False
            if not select.select([self._sock], [], [], 0)[0]:
                return True
            try:
                data = self._receive()
            except EngineError:
                return False
            if data == b"":
                self._ended = True
            elif data:
                pieces = self._frames.feed(data)
                self._early += pieces
                self._early_bytes += sum(len(piece) for _, piece in pieces)
        return not self._ended

    def stderr_tail(self) -> str:
        """The end of what the container wrote on stderr before its task."""
        return stderr_tail(self._early)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._sock.close()
        with contextlib.suppress(OSError):
            self._sock_io.close()


def stderr_tail(early: list[Chunk]) -> str:
    """The end of what a container wrote on stderr before its task, as text."""
    text = b"".join(data for stream, data in early if stream == Stream.STDERR)
    return text[-STDERR_TAIL_CHARS:].decode("utf-8", errors="replace").strip()

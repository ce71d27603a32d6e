"""A task Pod's stdin, stdout and stderr over two attach sessions, without the client library.

Kubernetes' attach speaks WebSocket channels (`v4.channel.k8s.io`): a frame's first byte
is its channel (0 stdin, 1 stdout, 2 stderr, 3 the server's status). That protocol has
no way to end stdin but closing the whole connection, which would lose the output (the
way to close one channel, `v5.channel.k8s.io`, came with Kubernetes 1.30). So a Pod gets
two sessions: one reads stdout and stderr for its whole life (it holds stdin open too,
and never writes it: a session without stdin gives the container an empty one, which
ends at once); the other carries stdin alone, and is closed once the input is written:
the container's stdin is `stdinOnce`, so the end of that session is the task's end of
file.

The input is written on a thread of its own, so that a task that never reads its stdin
cannot block the runner. While a Pod waits for its task (a warm one), `drain` keeps what
it wrote so far (bounded) for its task.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from typing import Protocol

from runner.core.errors import EngineError
from runner.core.protocol import Stream
from runner.engine.interface import Chunk
from runner.engine.stream import EARLY_OUTPUT_BYTES, stderr_tail  # as on Docker

log = logging.getLogger(__name__)

STDIN, STDOUT, STDERR, STATUS = 0, 1, 2, 3
_STREAMS = {STDOUT: Stream.STDOUT, STDERR: Stream.STDERR}
_WRITE_SIZE = 32 * 1024


class Channels(Protocol):
    """One attach session: frames of (channel, data)."""

    def readable(self, timeout_s: float) -> bool:
        """Whether a frame (or the end) can be read now, waiting up to `timeout_s`."""

    def receive(self) -> tuple[int, bytes] | None:
        """The next frame; None once the session has ended. EngineError if it broke."""

    def send(self, channel: int, data: bytes) -> None: ...

    def close(self) -> None: ...


class PodStreams:
    def __init__(self, output: Channels, stdin: Channels | None, name: str) -> None:
        self._output = output
        self._stdin = stdin
        self._name = name
        self._early: list[Chunk] = []
        self._early_bytes = 0
        self._ended = False
        self._closed = False
        self._writer: threading.Thread | None = None
        self.status = b""  # what the server said on its status channel

    def send(self, data: bytes) -> None:
        """Write `data` on stdin, then end it; in the background."""
        stdin, self._stdin = self._stdin, None
        if stdin is None:
            return
        self._writer = threading.Thread(
            target=self._write, args=(stdin, data), name=f"stdin-{self._name}", daemon=True
        )
        self._writer.start()

    def _write(self, stdin: Channels, data: bytes) -> None:
        try:
            for start in range(0, len(data), _WRITE_SIZE):
                stdin.send(STDIN, data[start : start + _WRITE_SIZE])
        except EngineError as exc:  # the task exited without reading all of its input
            log.debug("pod %s: stdin closed early: %s", self._name, exc)
        finally:
            stdin.close()

    def _next(self, timeout_s: float) -> list[Chunk] | None:
        """The output of the next frame ([] if none within `timeout_s`); None at the end."""
        if not self._output.readable(timeout_s):
            return []
        frame = self._output.receive()
        if frame is None:
            self._ended = True
            return None
        channel, data = frame
        if channel == STATUS:
            self.status += data
        elif channel in _STREAMS and data:
            return [(_STREAMS[channel], data)]
        return []

    def read(self, timeout_s: float) -> list[Chunk] | None:
        if self._early:
            early, self._early = self._early, []
            return early
        if self._ended or self._closed:
            return None
        chunks = self._next(timeout_s)
        while chunks is not None and self._output.readable(0):
            more = self._next(0)
            if more is None:
                self._ended = True  # the next read says so; this one returns what came
                break
            chunks += more
        return chunks

    def drain(self) -> bool:
        """Before the task: keep what the Pod wrote so far; False once its output has
        ended."""
        while not (self._ended or self._closed) and self._early_bytes < EARLY_OUTPUT_BYTES:
            try:
                chunks = self._next(0)
            except EngineError:
                return False
            if chunks is None:
                return False
            if not chunks and not self._output.readable(0):
                return True
            self._early += chunks
            self._early_bytes += sum(len(data) for _, data in chunks)
        return not (self._ended or self._closed)

    def stderr_tail(self) -> str:
        return stderr_tail(self._early)

    def close(self) -> None:
        self._closed = True
        self._output.close()
        stdin, self._stdin = self._stdin, None
        if stdin is not None:
            with contextlib.suppress(EngineError):
                stdin.close()

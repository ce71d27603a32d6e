"""Docker's attach stream, as pure logic: stdout and stderr multiplexed in frames.

Kept apart from the Docker client so that it is tested without Docker.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from runner.core.protocol import Stream

_HEADER = struct.Struct(">BxxxL")


@dataclass
class FrameDecoder:
    """Splits Docker's multiplexed attach stream into (stream, bytes) pieces.

    A frame is an 8-byte header (stream id, 3 zero bytes, big-endian payload
    length) and its payload. Payload bytes are handed out as soon as they
    arrive, so memory stays bounded by what one read returns, whatever the
    frame size.
    """

    _header: bytearray = field(default_factory=bytearray)
    _stream: Stream = Stream.STDOUT
    _remaining: int = 0

    def feed(self, data: bytes) -> list[tuple[Stream, bytes]]:
        pieces: list[tuple[Stream, bytes]] = []
        view = memoryview(data)
        while view:
            if self._remaining == 0:
                need = _HEADER.size - len(self._header)
                self._header += view[:need]
                view = view[need:]
                if len(self._header) == _HEADER.size:
                    stream_id, self._remaining = _HEADER.unpack(self._header)
                    self._header.clear()
                    self._stream = Stream(stream_id) if stream_id in (1, 2) else Stream.STDERR
                continue
            take = view[: self._remaining]
            self._remaining -= len(take)
            view = view[len(take) :]
            pieces.append((self._stream, bytes(take)))
        return pieces

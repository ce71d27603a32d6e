"""Whether bytes can be the start of an HTTP/1.x request: pure, for the transport, which
answers what cannot be with a 400 at once instead of waiting for a header that never ends
(a TLS handshake, or lines ending in a bare LF, never bring waitress's CR LF CR LF).
"""

from __future__ import annotations

_METHOD_BYTES = 32  # no method is longer
_METHOD_CHARS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ-_"


def header_part(data: bytes, before: bytes) -> bytes:
    """The start of `data` that is still the header, after the header bytes `before`: up to
    the CR LF CR LF that ends it, which may begin in `before`. What follows is the body,
    which may hold any bytes (JSON lines hold bare LFs)."""
    tail = before[-3:]
    end = (tail + data).find(b"\r\n\r\n")
    return data if end < 0 else data[: max(0, end + 4 - len(tail))]


def bare_lf(data: bytes, last_byte: bytes) -> bool:
    """Whether `data` (header bytes after `last_byte`) holds a LF not after a CR. Looks at
    `data` only, so a header sent byte by byte costs no more than one sent whole."""
    return b"\n" in data and data.count(b"\n") != (last_byte + data).count(b"\r\n")


def method_problem(start: bytes) -> str | None:
    """Why `start` (the first bytes of a request, at least until its first space or
    _METHOD_BYTES of them) cannot begin with a method name; None if it can (so far)."""
    start = start.lstrip(b"\r\n")[:_METHOD_BYTES]
    method, space, _ = start.partition(b" ")
    if method.strip(_METHOD_CHARS) or (not space and len(start) >= _METHOD_BYTES):
        return "not an HTTP/1.1 request: it does not start with a method name"
    return None


def method_read(start: bytes) -> bool:
    """Whether `start` holds a whole method name and the space after it."""
    return b" " in start.lstrip(b"\r\n")[:_METHOD_BYTES]

"""The one error the local server's layers raise to refuse a request: a status and a sentence."""

from __future__ import annotations

from typing import Any

_QUOTED_MAX = 80


class HttpError(Exception):
    """Answered as `status` with `{"error": message}`; the message names what was wrong."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def quoted(value: Any) -> str:
    """`repr(value)`, cut to a short length: error messages never echo a whole upload."""
    text = repr(value)
    return text if len(text) <= _QUOTED_MAX else text[: _QUOTED_MAX - 3] + "..."

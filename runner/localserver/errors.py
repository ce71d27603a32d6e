"""The one error the local server's layers raise to refuse a request: a status and a sentence."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runner.core.text import short


class HttpError(Exception):
    """Answered as `status` with `{"error": message}` (plus `extra`'s fields, if any);
    the message names what was wrong."""

    def __init__(self, status: int, message: str, extra: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = dict(extra or {})


# `repr(value)`, cut to a short length: error messages never echo a whole upload.
quoted = short

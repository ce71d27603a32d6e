"""The runner's log lines: text (the default), or one JSON object per line for a log pipeline.

A JSON line always has `time` (UTC, ISO 8601), `level`, `logger` and `message`; a line
about a task instance also has `namespace`, `task` and `taskInstanceId`, whichever thread
logged it (runner.core.taskcontext says which task the code works for); a task's end line
also has what it used (`cpu_seconds`, `memory_peak_bytes`, `oom_killed`, `start`,
`wall_seconds`: runner.core.usage); an exception adds `exception`, its traceback. Secrets
given to `redact` (the API key) are replaced by REDACTED in every line of either format,
tracebacks included, and in what `redacted` cleans (the probes' reasons).
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import traceback
from datetime import UTC, datetime
from typing import IO, Any

from runner.core.taskcontext import TaskFields, current_task
from runner.core.text import printable
from runner.core.usage import LOG_FIELDS

LOG_FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
REDACTED = "<redacted>"
MIN_SECRET_CHARS = 4  # shorter "secrets" would blank out ordinary words


class TaskFieldsFilter(logging.Filter):
    """Puts the task the logging code works for, if any, on the record."""

    def filter(self, record: logging.LogRecord) -> bool:
        fields = current_task()
        if fields is not None:
            record.xc_task = fields
        return True


class Redactor(logging.Filter):
    """Replaces each registered secret in a record's message and traceback."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: frozenset[str] = frozenset()
        self._lock = threading.Lock()

    def add(self, secret: str) -> None:
        if len(secret) >= MIN_SECRET_CHARS:
            with self._lock:
                self._secrets |= {secret}

    def clean(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        message = record.getMessage()
        cleaned = self.clean(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if record.exc_text:
            record.exc_text = self.clean(record.exc_text)
        if record.stack_info:
            record.stack_info = self.clean(record.stack_info)
        return True


_REDACTOR = Redactor()


def redact(secret: str) -> None:
    """Never let `secret` appear in a log line."""
    _REDACTOR.add(secret)


def redacted(text: str) -> str:
    """`text` with every secret given to `redact` replaced (for what is not a log line)."""
    return _REDACTOR.clean(text)


class TextFormatter(logging.Formatter):
    """Text lines made printable: they quote task output and messages, which must not
    drive the terminal or the log viewer (escape sequences, carriage returns). Their time
    is local, with its offset from UTC: `2025-03-01T12:00:01.234+01:00`."""

    def format(self, record: logging.LogRecord) -> str:
        return printable(super().format(record), multiline=True)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        when = datetime.fromtimestamp(record.created).astimezone()
        return when.isoformat(timespec="milliseconds")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields: TaskFields | None = getattr(record, "xc_task", None)
        if fields is not None:
            if fields.namespace is not None:
                line["namespace"] = fields.namespace
            if fields.task is not None:
                line["task"] = fields.task
            line["taskInstanceId"] = fields.instance_id
        extra: dict[str, Any] | None = getattr(record, LOG_FIELDS, None)
        if extra:
            line.update((k, v) for k, v in extra.items() if k not in line)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        # ASCII with escapes: a line stays one line, and is valid whatever a task printed.
        return json.dumps(line, default=str)


def log_handler(
    log_format: str, stream: IO[str] | None = None, text_format: str | None = None
) -> logging.Handler:
    """A handler writing lines of `log_format` ("text" or "json") to `stream` (stderr);
    text lines are laid out as `text_format` (TEXT_FORMAT by default)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    json_lines = log_format == "json"
    handler.setFormatter(
        JsonFormatter() if json_lines else TextFormatter(text_format or TEXT_FORMAT)
    )
    handler.addFilter(TaskFieldsFilter())
    handler.addFilter(_REDACTOR)
    return handler


def configure(level: str, log_format: str, text_format: str | None = None) -> None:
    """The root logger at `level`, writing `log_format` lines to stderr (unless logging was
    configured already)."""
    logging.basicConfig(
        level=level, handlers=[log_handler(log_format, text_format=text_format)]
    )

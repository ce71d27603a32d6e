"""The global options: the log's level and format, for every command."""

from __future__ import annotations

from runner.config.options import Option
from runner.config.values import read_choice
from runner.ops.logs import LOG_FORMATS

_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def parse_log_level(text: str) -> str:
    return read_choice(text, "log level", _LEVELS, upper=True)


def parse_log_format(text: str) -> str:
    return read_choice(text, "log format", LOG_FORMATS)


LOG_LEVEL = Option(
    "log_level",
    "--log-level",
    "XC_RUNNER_LOG_LEVEL",
    parse_log_level,
    "log level: DEBUG, INFO, WARNING or ERROR (default: INFO; WARNING for demo, exec, check)",
)
LOG_FORMAT = Option(
    "log_format",
    "--log-format",
    "XC_RUNNER_LOG_FORMAT",
    parse_log_format,
    "log line format: text, or json (one object per line) (default: text)",
)
LOG_OPTIONS = (LOG_LEVEL, LOG_FORMAT)

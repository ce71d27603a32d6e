"""Log lines: text by default, one JSON object per line on request, task fields on every line
about a task whichever thread logs it, and never the API key."""

from __future__ import annotations

import io
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from runner.core.taskcontext import about_instance, about_task
from runner.ops.logs import REDACTED, log_handler, redact

SECRET = "k3y-" + uuid.uuid4().hex  # registered once per test process; no other test logs it


@pytest.fixture
def json_log() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    yield from _logger("json")


@pytest.fixture(params=["text", "json"])
def any_log(request: pytest.FixtureRequest) -> Iterator[tuple[logging.Logger, io.StringIO]]:
    yield from _logger(request.param)


@pytest.fixture
def text_log() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    yield from _logger("text")


def _logger(log_format: str) -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    logger = logging.getLogger(f"test.ops.logs.{uuid.uuid4().hex}")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    handler = log_handler(log_format, stream)
    logger.addHandler(handler)
    yield logger, stream
    logger.removeHandler(handler)


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_json_line_has_time_level_logger_and_message(
    json_log: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = json_log
    logger.warning("polled %s in %.1f s", "sample", 0.25)
    [line] = lines(stream)
    assert set(line) == {"time", "level", "logger", "message"}
    assert line["level"] == "WARNING"
    assert line["logger"] == logger.name
    assert line["message"] == "polled sample in 0.2 s"
    assert line["time"].endswith("Z") and line["time"][10] == "T"


def test_lines_about_a_task_carry_its_fields_from_any_thread(
    json_log: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = json_log
    with about_task("sample", "double", 42):
        logger.info("started")

    def sender() -> None:  # another thread, which has only the instance id
        with about_instance(42):
            logger.info("status posted")
        with about_instance("never-seen"):
            logger.info("status of an earlier run posted")
        logger.info("idle")

    thread = threading.Thread(target=sender)
    thread.start()
    thread.join()
    logger.info("not about a task")
    task = {"namespace": "sample", "task": "double", "taskInstanceId": "42"}
    assert [{k: v for k, v in line.items() if k in task} for line in lines(stream)] == [
        task,
        task,
        {"taskInstanceId": "never-seen"},
        {},
        {},
    ]


def test_a_traceback_and_a_multiline_message_stay_on_one_line(
    json_log: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = json_log
    try:
        raise ValueError("boom")
    except ValueError:
        logger.exception("task output:\nline 2\n\u00e9\udcff")
    assert len(stream.getvalue().splitlines()) == 1
    [line] = lines(stream)
    assert line["message"] == "task output:\nline 2\n\u00e9\udcff"
    assert line["exception"].startswith("Traceback")
    assert "ValueError: boom" in line["exception"]


def test_text_stays_the_default_shape(text_log: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = text_log
    with about_task("sample", "double", 1):
        logger.info("sample/double#1: started")
    assert stream.getvalue().endswith(f" INFO {logger.name}: sample/double#1: started\n")


def test_a_text_line_says_its_time_zone(
    text_log: tuple[logging.Logger, io.StringIO], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Local time with its offset from UTC, to the millisecond, as ISO 8601."""
    logger, stream = text_log
    monkeypatch.setenv("TZ", "Asia/Kolkata")  # +05:30: a zone not a whole hour from UTC
    time.tzset()
    try:
        logger.info("started")
    finally:
        monkeypatch.undo()
        time.tzset()
    stamp = stream.getvalue().split(" ", 1)[0]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+05:30", stamp), stamp


def test_the_api_key_never_appears_in_either_format(
    any_log: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = any_log
    redact(SECRET)
    logger.error("connecting with key %s", SECRET)
    logger.error(f"a message that embeds it: Authorization: bearer {SECRET}")
    try:
        raise RuntimeError(f"refused: {SECRET}")
    except RuntimeError:
        logger.exception("failed")
    text = stream.getvalue()
    assert SECRET not in text
    assert text.count(REDACTED) == 3
    assert "bearer <redacted>" in text


def test_a_very_short_secret_is_not_redacted_from_every_word(
    text_log: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = text_log
    redact("a")
    logger.info("a task ran")
    assert "a task ran" in stream.getvalue()

"""What the commands print: task text shown safely, whatever it holds, and never a crash."""

from __future__ import annotations

import io
import logging
import sys
from typing import Any

import pytest

from runner.cli import local
from runner.cli.output import say, status_line
from runner.ops.logs import TextFormatter

HOSTILE_TEXT = "\x1b[2J\x1b]0;title\x07\x9b31m\rover\bx\x7f\udfff\ud800\uffff\u202e\x00"
ESCAPED = r"\x1b[2J\x1b]0;title\x07\x9b31m\x0dover\x08x\x7f\udfff\ud800\uffff\u202e\x00"


def hostile_status(seq: int = 1) -> dict[str, Any]:
    return {
        "seq": seq,
        "receivedAt": "2024-01-01T12:00:01.234Z",
        "namespace": "ns\x1b[31m",
        "name": "task\udfff",
        "taskInstanceId": "\x9bid-1234567",
        "status": "InProgress",
        "message": HOSTILE_TEXT,
        "progressPercentage": "0.5\x1b[K",
        "outputValues": {"k\udfff\x1b": [HOSTILE_TEXT, float("nan")]},
    }


def safe(text: str) -> None:
    """Nothing a terminal acts on, and nothing UTF-8 cannot encode."""
    text.encode("utf-8")
    controls = [c for c in text if (ord(c) < 0x20 and c != "\n") or 0x7F <= ord(c) < 0xA0]
    assert controls == [], text
    assert "\u202e" not in text


def test_a_status_line_escapes_everything_a_task_wrote() -> None:
    shown = status_line(hostile_status())
    safe(shown)
    assert shown.startswith(
        r"12:00:01.234 ns\x1b[31m/task\udfff \x9bid-1234 InProgress [0.5\x1b[K]"
    )
    # json.dumps escapes C0 controls its own way; printable escapes what json.dumps leaves.
    message = r'"\u001b[2J\u001b]0;title\u0007\x9b31m\rover\bx\x7f\udfff\ud800\uffff\u202e\u0000"'
    assert f" {message} " in shown
    assert r'{"k\udfff\u001b": [' in shown and "NaN]}" in shown


@pytest.mark.parametrize(
    "item",
    [
        {},
        {"status": None, "message": 3, "outputValues": "x"},
        {"status": {"a": 1}, "taskInstanceId": None, "progressPercentage": ["\x1b"]},
    ],
)
def test_a_status_line_of_any_shape_is_printed(item: dict[str, Any]) -> None:
    safe(status_line(item))


def test_values_too_deep_to_show_are_said_so() -> None:
    deep: Any = 1
    for _ in range(100_000):
        deep = [deep]
    shown = status_line({"status": "Completed", "outputValues": {"d": deep}})
    assert shown.endswith("Completed  <a value nested too deep to show>")


def ascii_stdout(monkeypatch: pytest.MonkeyPatch) -> io.BytesIO:
    raw = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(raw, encoding="ascii"))
    return raw


def test_say_never_fails_on_what_the_terminal_cannot_encode(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    raw = ascii_stdout(monkeypatch)
    say("Grüße \U0001f600 " + HOSTILE_TEXT)
    assert raw.getvalue().decode("ascii") == (r"Gr\xfc\xdfe \U0001f600 " + ESCAPED + "\n")


def test_log_records_are_escaped_but_keep_their_lines() -> None:
    formatter = TextFormatter("%(levelname)s %(message)s")
    record = logging.LogRecord(
        "t", logging.INFO, __file__, 1, "task says: %s", (HOSTILE_TEXT,), None
    )
    assert formatter.format(record) == "INFO task says: " + ESCAPED
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "one\ntwo\x1b", None, None)
    assert formatter.format(record) == "INFO one\ntwo\\x1b"


class FakeClient:
    """The local server's answers, holding what a hostile task could have had stored."""

    def __init__(self) -> None:
        self.statuses_list = [hostile_status(1), {**hostile_status(2), "status": "Error"}]

    def instance(self, instance_id: str) -> dict[str, Any]:
        return {
            "instance": {
                "id": instance_id,
                "catalogTaskDefinitionNamespace": "ns\x1b",
                "catalogTaskDefinitionName": "n\udfff",
            },
            "state": "Error",
            "statuses": self.statuses_list,
        }

    def statuses(self, after: int, wait_s: float) -> dict[str, Any]:
        return {"statuses": self.statuses_list[after:], "last": len(self.statuses_list)}


def test_watch_status_and_wait_print_hostile_statuses_safely(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    client: Any = FakeClient()
    assert local.print_new_statuses(client, 0, wait_s=0) == 2  # watch and the demo
    local.follow(client, "id-1")  # submit --wait
    monkeypatch.setattr(local, "local_client", lambda args: client)
    local.status(type("Args", (), {"instance_id": "id-1"})())
    out = capsys.readouterr().out
    safe(out)
    assert len(out.splitlines()) == 2 + 2 + 3
    assert r"ns\x1b/n\udfff id-1: Error" in out

"""Poll answers into TaskInstances, and the command line's exit codes."""

from __future__ import annotations

from typing import Any

import pytest

from runner import cli
from runner.cli.local import parse_assignments
from runner.contracts import Contracts
from runner.core.errors import PlatformError, UsageError
from runner.core.model import TaskInstance
from runner.scenario.queue import PlatformQueue


class OneAnswer:
    def __init__(self, answer: dict[str, Any] | None) -> None:
        self.answer = answer

    def poll(self, namespace: str, name: str | None = None) -> dict[str, Any] | None:
        return self.answer


class Journal:
    def __init__(self) -> None:
        self.taken_ids: list[str | int] = []

    def taken(self, instance: TaskInstance) -> None:
        self.taken_ids.append(instance.id)


def instance_from(
    answer: dict[str, Any] | None, journal: Journal | None = None
) -> TaskInstance | None:
    queue = PlatformQueue(OneAnswer(answer), Contracts(), journal or Journal())  # type: ignore[arg-type]
    return queue.poll("sample")


def test_an_empty_queue_is_none() -> None:
    assert instance_from(None) is None


def test_a_task_instance_keeps_what_the_runner_needs_and_is_journaled() -> None:
    journal = Journal()
    instance = instance_from(
        {
            "id": 12,
            "catalogTaskDefinitionName": "double",
            "inputData": {"nbr_in": "2", "nbr_in#type": "String"},
            "timeOutInMillis": 5000,
            "workerId": None,
            "status": "Pending",
        },
        journal,
    )
    assert instance == TaskInstance(
        12, "sample", "double", {"nbr_in": "2", "nbr_in#type": "String"}, 5000
    )
    assert journal.taken_ids == [12]


def test_a_malformed_instance_with_an_id_is_rejected_so_it_still_gets_a_status() -> None:
    instance = instance_from(
        {"id": "x1", "catalogTaskDefinitionName": "double", "inputData": ["not", "an", "object"]}
    )
    assert instance is not None and instance.input_data == {}
    assert instance.rejection == (
        "malformed task instance from the platform: "
        "task instance.inputData: ['not', 'an', 'object'] is not of "
        "type 'object', 'null'"
    )


@pytest.mark.parametrize(
    "answer", [{"catalogTaskDefinitionName": "t"}, {"id": True}, {"id": None}, {"id": [1]}]
)
def test_an_instance_without_a_usable_id_is_a_platform_error(answer: dict[str, Any]) -> None:
    with pytest.raises(PlatformError, match="without a usable id"):
        instance_from(answer)


def test_assignments() -> None:
    assert parse_assignments(["a=1", "b=x=y", "c="]) == {"a": "1", "b": "x=y", "c": ""}
    with pytest.raises(UsageError, match="input 'oops' is not NAME=VALUE"):
        parse_assignments(["oops"])


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["submit", "sample", "double", "bad"], 2),
        (["run"], 2),
    ],
)
def test_errors_become_named_exit_codes(
    argv: list[str], code: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("XC_RUNNER_IMAGES", raising=False)
    assert cli.main(argv) == code

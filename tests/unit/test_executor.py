"""One task instance to exactly one terminal status, on a scripted container."""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

import pytest

from runner.contracts import Contracts
from runner.core.catalog import CATALOG_LABEL, Catalog, routes_from_label
from runner.core.errors import StateError
from runner.core.model import TaskInstance, TaskStatus
from runner.core.policy import PolicyTable, TaskPolicy
from runner.core.protocol import Stream
from runner.core.taskcontext import TaskFields
from runner.ops.logs import TaskFieldsFilter
from runner.worker.executor import ExecutionSettings, TaskExecutor
from tests.unit.fakes import (
    FakeContainer,
    FakeEngine,
    RecordingObserver,
    RecordingSink,
    message,
)

CONTRACTS = Contracts()
CATALOG = Catalog(
    routes_from_label(
        "xc-tasks/sample:latest",
        {
            CATALOG_LABEL: json.dumps(
                [
                    {
                        "namespace": "sample",
                        "name": "double",
                        "inputs": [
                            {"name": "str_in", "defaultValue": "xyz"},
                            {"name": "nbr_in", "defaultValue": "1"},
                        ],
                        "outputs": [{"name": "str_out"}, {"name": "nbr_out"}],
                    },
                    {"namespace": "sample", "name": "slow", "timeOutInMillis": 200},
                ]
            )
        },
        CONTRACTS.check_catalog,
    )
)


def make(
    containers: list[FakeContainer], **overrides: Any
) -> tuple[TaskExecutor, FakeEngine, RecordingSink]:
    settings = ExecutionSettings(runner_id="r1", exit_grace_s=0.1, **overrides)
    engine = FakeEngine(containers=containers)
    sink = RecordingSink()
    return (
        TaskExecutor(
            catalog=CATALOG, engine=engine, contracts=CONTRACTS, statuses=sink, settings=settings
        ),
        engine,
        sink,
    )


def double(**inputs: Any) -> TaskInstance:
    return TaskInstance("i1", "sample", "double", inputs)


def test_a_completed_task_gets_its_outputs_and_its_container_removed() -> None:
    container = FakeContainer(
        [
            [message({"type": "notify", "status": "InProgress", "message": "working"})],
            [message({"type": "result", "outputs": {"str_out": "abab", "nbr_out": "42"}})],
            None,
        ]
    )
    executor, engine, sink = make([container])
    executor.execute(
        double(str_in="ab", nbr_in="21", **{"str_in#type": "String"}), threading.Event()
    )
    assert sink.statuses == [
        TaskStatus("i1", "InProgress", "working"),
        TaskStatus("i1", "Completed", "", output_values={"str_out": "abab", "nbr_out": "42"}),
    ]
    envelope = json.loads(container.stdin)
    assert envelope == {
        "protocol": 1,
        "namespace": "sample",
        "task": "double",
        "taskInstanceId": "i1",
        "inputs": {"str_in": "ab", "nbr_in": "21"},
    }
    assert container.removed
    assert engine.launched[0].labels == {
        "xc-scenario.runner-id": "r1",
        "xc-scenario.namespace": "sample",
        "xc-scenario.task": "double",
        "xc-scenario.task-instance-id": "i1",
    }


def test_unknown_task_is_an_error_naming_it_and_nothing_is_launched() -> None:
    executor, engine, sink = make([])
    executor.execute(TaskInstance(7, "sample", "nope", {}), threading.Event())
    assert sink.statuses == [
        TaskStatus(7, "Error", "unknown task sample/nope: no task image of this runner declares it")
    ]
    assert engine.launched == []


def test_invalid_inputs_never_start_a_container() -> None:
    executor, engine, sink = make([])
    executor.execute(double(nbr_in=["x"]), threading.Event())
    assert [s.status for s in sink.statuses] == ["Error"]
    assert "input.nbr_in" in sink.statuses[0].message
    assert engine.launched == []


def test_a_malformed_instance_is_an_error_saying_why() -> None:
    executor, _, sink = make([])
    executor.execute(
        TaskInstance("i", "sample", "double", rejection="inputData is a list"), threading.Event()
    )
    assert sink.statuses == [TaskStatus("i", "Error", "inputData is a list")]


def test_an_engine_failure_is_an_error() -> None:
    executor, engine, sink = make([])
    engine.fail_launch = True
    executor.execute(double(), threading.Event())
    assert sink.statuses == [
        TaskStatus(
            "i1",
            "Error",
            "the container engine failed: cannot create a container of img: engine on fire",
        )
    ]


def test_a_silent_task_times_out_by_its_catalog_timeout_and_is_stopped() -> None:
    container = FakeContainer([])
    executor, _, sink = make([container])
    executor.execute(TaskInstance("i2", "sample", "slow"), threading.Event())
    assert sink.statuses == [TaskStatus("i2", "Error", "the task timed out after 0.2 s")]
    assert container.stops and container.removed


def test_the_instance_timeout_beats_the_catalog_one() -> None:
    container = FakeContainer([])
    executor, _, sink = make([container])
    executor.execute(TaskInstance("i2", "sample", "slow", timeout_ms=50), threading.Event())
    assert sink.statuses[0].message == "the task timed out after 0.05 s"


def test_stopping_the_runner_ends_a_running_task_with_an_error() -> None:
    container = FakeContainer([])
    executor, _, sink = make([container])
    stop = threading.Event()
    stop.set()
    executor.execute(double(), stop)
    assert sink.statuses == [
        TaskStatus("i1", "Error", "the runner shut down before the task finished")
    ]
    assert container.stops and container.removed


def test_a_task_still_running_after_its_result_is_completed_then_stopped() -> None:
    container = FakeContainer(
        [[message({"type": "result", "outputs": {"str_out": "a", "nbr_out": "1"}})]]
    )
    executor, _, sink = make([container])
    executor.execute(double(), threading.Event())
    assert [s.status for s in sink.statuses] == ["Completed"]
    assert container.stops and container.removed


def test_exit_without_result_reports_code_and_stderr() -> None:
    container = FakeContainer([[(Stream.STDERR, b"Segmentation fault\n")], None], exit_code=139)
    executor, _, sink = make([container])
    executor.execute(double(), threading.Event())
    assert sink.statuses == [
        TaskStatus(
            "i1",
            "Error",
            "the task exited with code 139 without "
            "sending a result; stderr ends with: Segmentation fault",
        )
    ]


def test_output_flood_kills_the_container() -> None:
    container = FakeContainer([[(Stream.STDOUT, b"x" * 600)]] * 3)
    executor, _, sink = make([container], policies=PolicyTable(TaskPolicy(max_output_bytes=1000)))
    executor.execute(double(), threading.Event())
    assert [s.status for s in sink.statuses] == ["Error"]
    assert "output limit exceeded" in sink.statuses[0].message
    assert container.stops == [0] and container.removed


@pytest.mark.parametrize("failure", [RuntimeError("bug"), KeyError("k")])
def test_a_runner_bug_still_ends_the_task_and_removes_the_container(failure: Exception) -> None:
    container = FakeContainer([], fail_read=failure)
    executor, _, sink = make([container])
    executor.execute(double(), threading.Event())
    assert len(sink.terminal()) == 1
    assert sink.statuses[0].message.startswith("internal runner error: ")
    assert container.removed


OUTPUTS = {"str_out": "abab", "nbr_out": "42"}


def test_start_and_end_are_reported_and_every_line_names_the_task(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    caplog.handler.addFilter(TaskFieldsFilter())
    container = FakeContainer(
        [[(Stream.STDERR, b"thinking\n")], [message({"type": "result", "outputs": OUTPUTS})], None]
    )
    settings = ExecutionSettings(runner_id="r1", exit_grace_s=0.1)
    observer = RecordingObserver()
    executor = TaskExecutor(
        catalog=CATALOG,
        engine=FakeEngine(containers=[container]),
        contracts=CONTRACTS,
        statuses=RecordingSink(),
        settings=settings,
        observer=observer,
    )
    executor.execute(double(), threading.Event())
    executor.execute(TaskInstance(7, "sample", "nope", {}), threading.Event())
    started, ended = observer.of("started"), observer.of("ended")
    assert started == [("started", "i1"), ("started", 7)]
    # The refused task never got a container: not a cold start.
    assert [e[1:3] + e[4:] for e in ended] == [
        ("i1", "Completed", "cold", None),
        (7, "Error", "none", "input"),
    ]
    assert all(0 <= e[3] < 5 for e in ended)
    fields = {(r.getMessage(), getattr(r, "xc_task", None)) for r in caplog.records}
    assert ("sample/double#i1 stderr: thinking", TaskFields("i1", "sample", "double")) in fields
    assert all(f is not None for _, f in fields), fields
    assert {f.instance_id for _, f in fields if f} == {"i1", "7"}


class HandOuts:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.recorded: list[tuple[str | int, str]] = []

    def handed_out(self, instance: TaskInstance, container_id: str) -> None:
        if self.fail:
            raise StateError("cannot journal a task's container in the runner's state: disk full")
        self.recorded.append((instance.id, container_id))


def with_handouts(container: FakeContainer, handouts: HandOuts) -> TaskExecutor:
    return TaskExecutor(
        catalog=CATALOG,
        engine=FakeEngine(containers=[container]),
        contracts=CONTRACTS,
        statuses=RecordingSink(),
        settings=ExecutionSettings(runner_id="r1", exit_grace_s=0.1),
        handouts=handouts,
    )


@pytest.mark.parametrize("warm", [True, False])
def test_each_task_says_whether_it_ran_warm_or_cold_and_its_container_is_journaled(
    warm: bool, caplog: pytest.LogCaptureFixture
) -> None:
    container = FakeContainer([[message({"type": "result", "outputs": {}})], None], warm=warm)
    handouts = HandOuts()
    with caplog.at_level(logging.INFO):
        executed = with_handouts(container, handouts).execute(double(), threading.Event())
    start = "warm" if warm else "cold"
    assert (executed.status.status, executed.start) == ("Error", start)
    assert handouts.recorded == [("i1", "c0ffee")]
    assert f"sample/double#i1: started {start} in container c0ffee" in caplog.text
    assert f"sample/double#i1: Error in {executed.took_s:.3f} s ({start})" in caplog.text


def test_a_task_that_got_no_container_says_so() -> None:
    executor, _, _ = make([])
    executed = executor.execute(TaskInstance(7, "sample", "nope", {}), threading.Event())
    assert (executed.status.status, executed.start) == ("Error", None)


def test_a_journal_that_cannot_be_written_does_not_fail_the_task() -> None:
    container = FakeContainer(
        [[message({"type": "result", "outputs": {"str_out": "a", "nbr_out": "1"}})], None]
    )
    executed = with_handouts(container, HandOuts(fail=True)).execute(double(), threading.Event())
    assert executed.status.status == "Completed"


def test_the_exit_status_is_asked_for_only_when_it_decides_the_outcome() -> None:
    done = FakeContainer(
        [[message({"type": "result", "outputs": {"str_out": "a", "nbr_out": "1"}})], None]
    )
    executor, _, _ = make([done])
    assert executor.execute(double(), threading.Event()).status.status == "Completed"
    assert done.waited == 0, "an engine request for nothing on the task's path"
    crashed = FakeContainer([None], exit_code=3)
    executor, _, _ = make([crashed])
    assert executor.execute(double(), threading.Event()).status.message.startswith(
        "the task exited with code 3"
    )
    assert crashed.waited == 1

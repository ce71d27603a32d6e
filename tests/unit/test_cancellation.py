"""Cancellation: the watcher asks the platform; the executor stops a cancelled task."""

from __future__ import annotations

import threading
import time

from runner.core.errors import PlatformError
from runner.core.model import TaskInstance, TaskStatus
from runner.worker.cancellation import CancelWatch
from runner.worker.executor import ExecutionSettings, TaskExecutor
from tests.unit.fakes import FakeContainer, FakeEngine, RecordingSink
from tests.unit.test_executor import CATALOG, CONTRACTS, double

TASK = TaskInstance("i1", "sample", "double")


def wait_until(event: threading.Event, timeout_s: float = 2.0) -> bool:
    return event.wait(timeout_s)


def test_a_cancelled_instance_has_its_event_set_others_not() -> None:
    asked: list[tuple[str, str | int]] = []

    def check(namespace: str, instance_id: str | int) -> bool | None:
        asked.append((namespace, instance_id))
        return instance_id == "i1"

    watch = CancelWatch(check, interval_s=0.01)

    watch.start()
    cancelled = watch.watch(TASK)
    other = watch.watch(TaskInstance("i2", "sample", "double"))
    assert wait_until(cancelled)
    assert not other.is_set()
    watch.unwatch(TASK)
    watch.stop()
    assert ("sample", "i1") in asked and ("sample", "i2") in asked


def test_failed_checks_are_retried_and_a_404_turns_watching_off() -> None:
    answers: list[bool | PlatformError | None] = [PlatformError("down", transient=True), None]
    calls = threading.Event()

    def check(namespace: str, instance_id: str | int) -> bool | None:
        answer = answers.pop(0) if answers else True
        if not answers:
            calls.set()
        if isinstance(answer, PlatformError):
            raise answer
        return answer

    watch = CancelWatch(check, interval_s=0.01)

    watch.start()
    cancelled = watch.watch(TASK)
    assert wait_until(calls)
    time.sleep(0.1)
    assert not cancelled.is_set()  # after the 404 nobody asks again
    watch.stop()


def test_no_check_means_nothing_is_ever_cancelled() -> None:
    watch = CancelWatch(None, interval_s=0.01)
    watch.start()
    assert not watch.watch(TASK).wait(0.05)
    watch.stop()


def test_the_executor_stops_a_cancelled_task_with_an_error() -> None:
    container = FakeContainer([])
    watch = CancelWatch(lambda namespace, instance_id: True, interval_s=0.01)
    watch.start()
    executor = TaskExecutor(
        catalog=CATALOG,
        engine=FakeEngine(containers=[container]),
        contracts=CONTRACTS,
        statuses=(sink := RecordingSink()),
        settings=ExecutionSettings(runner_id="r1"),
        cancellations=watch,
    )
    executor.execute(double(), threading.Event())
    watch.stop()
    assert sink.statuses == [TaskStatus("i1", "Error", "the task was cancelled on the platform")]
    assert container.stops and container.removed

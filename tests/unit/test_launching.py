"""A task's container launched within its budget: the runner's faults are tried again, never
blamed on the task; the task ends in Error only when the budget is spent."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from runner.core.errors import EngineError, ImageMissing, SecretError
from runner.core.model import ErrorReason, TaskInstance, TaskStatus
from runner.core.policy import PolicyTable, TaskPolicy
from runner.engine.interface import ContainerSpec
from runner.worker.executor import ExecutionSettings, TaskExecutor
from runner.worker.faults import RunnerFaults
from runner.worker.launching import Launching, Unstarted
from runner.worker.running import Stops
from tests.unit.fakes import FakeContainer, FakeEngine, RecordingObserver, RecordingSink, message
from tests.unit.test_executor import CATALOG, CONTRACTS, double

IMAGE = "xc-tasks/sample:latest"
INSTANCE = TaskInstance("i1", "sample", "double")
SPEC = ContainerSpec(image=IMAGE, labels={})


class Timeline:
    """A clock that moves only when the launch waits: every wait passes at once."""

    def __init__(self, faults: RunnerFaults) -> None:
        self.now = 0.0
        self.waits: list[float] = []
        self._faults = faults

    def __call__(self) -> float:
        return self.now

    def ended(self) -> int:
        return self._faults.ended()

    def wait_ended(self, since: int, timeout_s: float) -> bool:
        self.waits.append(timeout_s)
        self.now += timeout_s
        return False

    def mark(self) -> int:
        return self._faults.mark()

    def launched(self, image: str, *, created: bool, mark: int) -> None:
        self._faults.launched(image, created=created, mark=mark)

    def created(self, mark: int) -> None:
        self._faults.created(mark)

    def launch_failed(self, image: str, error: EngineError) -> None:
        self._faults.launch_failed(image, error)


def launching(engine: FakeEngine) -> tuple[Launching, Timeline, RunnerFaults]:
    faults = RunnerFaults()
    timeline = Timeline(faults)
    return Launching(engine, timeline, clock=timeline), timeline, faults


def no_stops() -> Stops:
    return Stops(threading.Event(), threading.Event())


def test_a_launch_that_fails_for_a_while_is_tried_again_and_the_fault_ends() -> None:
    container = FakeContainer([])
    engine = FakeEngine([container], failures=[EngineError("500 no space left on device")] * 3)
    launch, timeline, faults = launching(engine)
    got = launch.launch(INSTANCE, SPEC, IMAGE, 60.0, no_stops())
    assert got is container
    # The backoff: 0.5 s, doubling (less up to a fifth: jitter).
    assert 0.8 * (0.5 + 1 + 2) <= timeline.now <= 0.5 + 1 + 2
    assert faults.engine_problem() is None  # the container was created: the fault ended


def test_a_spent_budget_ends_the_task_naming_the_runner_s_fault() -> None:
    engine = FakeEngine([], failures=[EngineError("500 no space left on device")] * 100)
    launch, timeline, faults = launching(engine)
    got = launch.launch(INSTANCE, SPEC, IMAGE, 60.0, no_stops())
    assert got == Unstarted(
        "the runner could not start this task (its own fault, not the task's; tried for "
        "60 s): 500 no space left on device",
        "engine",
    )
    attempts = 100 - len(engine.failures)
    assert timeline.now == pytest.approx(60.0)
    assert 60 / 5 <= attempts <= 20  # at most every 5 s, after a few sooner ones
    assert faults.engine_problem() is not None  # it still holds: no new task is taken


@pytest.mark.parametrize(
    ("error", "reason"),
    [(ImageMissing("image x is gone"), "image"), (SecretError("secret s: gone"), "secret")],
)
def test_an_image_fault_is_counted_as_such(error: EngineError, reason: str) -> None:
    engine = FakeEngine([], failures=[error] * 100)
    launch, _, faults = launching(engine)
    got = launch.launch(INSTANCE, SPEC, IMAGE, 3.0, no_stops())
    assert isinstance(got, Unstarted) and got.reason == reason
    assert faults.image_problems() == {IMAGE: str(error)} and faults.engine_problem() is None


def test_a_budget_of_zero_tries_once() -> None:
    engine = FakeEngine([], failures=[EngineError("500")] * 2)
    launch, timeline, _ = launching(engine)
    got = launch.launch(INSTANCE, SPEC, IMAGE, 0.0, no_stops())
    assert isinstance(got, Unstarted) and timeline.waits == []
    assert len(engine.failures) == 1


@pytest.mark.parametrize(
    ("which", "message", "reason"),
    [
        (lambda s: s.cancelled, "the task was cancelled on the platform", "cancelled"),
        (lambda s: s.shutdown, "the runner shut down before the task finished", "interrupted"),
    ],
)
def test_a_task_waiting_to_start_ends_when_cancelled_or_the_runner_stops(
    which: Callable[[Stops], threading.Event], message: str, reason: ErrorReason
) -> None:
    engine = FakeEngine([], failures=[EngineError("500")] * 100)
    stops = no_stops()
    faults = RunnerFaults()
    threading.Timer(0.3, which(stops).set).start()
    got = Launching(engine, faults).launch(INSTANCE, SPEC, IMAGE, 60.0, stops)
    assert got == Unstarted(f"{message}; it had not started: 500", reason)


def test_without_a_fault_tracker_the_first_failure_ends_the_task() -> None:
    engine = FakeEngine([], failures=[EngineError("500")])
    got = Launching(engine).launch(INSTANCE, SPEC, IMAGE, 60.0, no_stops())
    assert got == Unstarted("the container engine failed: 500", "engine")


def test_the_executor_runs_a_task_once_its_launch_works_and_counts_it_once() -> None:
    container = FakeContainer(
        [[message({"type": "result", "outputs": {"str_out": "aa", "nbr_out": "2"}})], None]
    )
    engine = FakeEngine([container], failures=[EngineError("500")] * 2)
    sink, observer, faults = RecordingSink(), RecordingObserver(), RunnerFaults()
    policies = PolicyTable(TaskPolicy(launch_budget_s=30.0))
    executor = TaskExecutor(
        catalog=CATALOG,
        engine=engine,
        contracts=CONTRACTS,
        statuses=sink,
        settings=ExecutionSettings(runner_id="r1", policies=policies, exit_grace_s=0.1),
        observer=observer,
        health=faults,
    )
    executed = executor.execute(double(str_in="a", nbr_in="1"), threading.Event())
    assert sink.statuses == [
        TaskStatus("i1", "Completed", "", output_values={"str_out": "aa", "nbr_out": "2"})
    ]
    assert executed.start == "cold" and executed.reason is None
    assert [e[2:3] + e[4:] for e in observer.of("ended")] == [("Completed", "cold", None)]
    assert faults.engine_problem() is None


def test_the_launch_budget_never_goes_past_the_task_s_time_limit() -> None:
    engine = FakeEngine([], failures=[EngineError("500")] * 100)
    sink, observer = RecordingSink(), RecordingObserver()
    executor = TaskExecutor(
        catalog=CATALOG,
        engine=engine,
        contracts=CONTRACTS,
        statuses=sink,
        settings=ExecutionSettings(runner_id="r1"),
        observer=observer,
        health=RunnerFaults(),
    )
    # "slow" has a catalog time limit of 0.2 s: the 60 s budget is cut to it.
    executed = executor.execute(TaskInstance("i2", "sample", "slow"), threading.Event())
    assert executed.status.status == "Error" and executed.reason == "engine"
    assert "the runner could not start this task" in executed.status.message
    assert executed.took_s < 5
    assert [e[2:3] + e[4:] for e in observer.of("ended")] == [("Error", "none", "engine")]

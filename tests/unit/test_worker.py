"""The worker loop on fakes: bounded concurrency, idle backoff, drain."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

import pytest

from runner.core.backoff import Backoff
from runner.core.errors import PlatformError
from runner.core.heartbeat import BEAT_S
from runner.core.model import TaskInstance
from runner.worker.loop import FAILED_POLLS_NOT_READY, Paused, ReadyCheck, Worker
from tests.unit.fakes import CountingHeartbeat, RecordingObserver


@dataclass
class FakeSource:
    queues: dict[str, list[TaskInstance]]
    polls: list[tuple[float, str]] = field(default_factory=list)
    fail_first: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def poll(self, namespace: str, name: str | None = None) -> TaskInstance | None:
        with self.lock:
            self.polls.append((time.monotonic(), namespace))
            if self.fail_first > 0:
                self.fail_first -= 1
                raise PlatformError("platform down", transient=True)
            queue = self.queues.get(namespace, [])
            return queue.pop(0) if queue else None


@dataclass
class FakeExecutor:
    hold: threading.Event = field(default_factory=threading.Event)
    running: int = 0
    max_running: int = 0
    done: list[str] = field(default_factory=list)
    aborted: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def execute(self, instance: TaskInstance, stop: threading.Event) -> None:
        with self.lock:
            self.running += 1
            self.max_running = max(self.max_running, self.running)
        while not self.hold.is_set() and not stop.is_set():
            time.sleep(0.005)
        with self.lock:
            self.running -= 1
            (self.aborted if stop.is_set() and not self.hold.is_set() else self.done).append(
                str(instance.id)
            )


def tasks(namespace: str, count: int) -> list[TaskInstance]:
    return [TaskInstance(f"{namespace}-{i}", namespace, "t") for i in range(count)]


def make(
    source: FakeSource,
    executor: FakeExecutor,
    *,
    concurrency: int = 2,
    drain_timeout_s: float = 5.0,
    idle_cap_s: float = 0.05,
    ready: ReadyCheck = lambda: None,
    paused: Paused | None = None,
    observer: RecordingObserver | None = None,
) -> Worker:
    return Worker(
        source,
        executor,
        namespaces=sorted(source.queues),
        concurrency=concurrency,
        idle=Backoff(base_s=0.01, cap_s=idle_cap_s, jitter=0),
        failing=Backoff(base_s=0.01, cap_s=0.02, jitter=0),
        drain_timeout_s=drain_timeout_s,
        ready=ready,
        observer=observer,
        **({"paused": paused} if paused else {}),
    )


def start(worker: Worker) -> threading.Thread:
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    return thread


def wait_until(predicate: object, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.005)


def run_until_done(source: FakeSource, expected: list[str]) -> None:
    """Run a worker whose tasks end at once until `expected` are done, then stop it."""
    executor = FakeExecutor()
    executor.hold.set()
    worker = make(source, executor)
    thread = start(worker)
    wait_until(lambda: sorted(executor.done) == sorted(expected))
    worker.request_stop()
    thread.join(5)
    assert not thread.is_alive()


def test_never_more_tasks_than_slots_and_no_poll_while_full() -> None:
    source = FakeSource({"ns": tasks("ns", 10)})
    executor = FakeExecutor()
    worker = make(source, executor, concurrency=3)
    thread = start(worker)
    wait_until(lambda: executor.running == 3)
    polls_when_full = len(source.polls)
    time.sleep(0.3)
    assert len(source.polls) == polls_when_full, "polled while every slot was busy"
    executor.hold.set()
    wait_until(lambda: len(executor.done) == 10)
    worker.request_stop()
    thread.join(5)
    assert executor.max_running == 3
    assert sorted(executor.done) == sorted(f"ns-{i}" for i in range(10))


def test_namespaces_are_polled_in_turn() -> None:
    source = FakeSource({"a": tasks("a", 2), "b": tasks("b", 2)})
    run_until_done(source, ["a-0", "a-1", "b-0", "b-1"])
    assert [ns for _, ns in source.polls[:4]] == ["a", "b", "a", "b"]


def test_namespaces_handed_over_while_running_are_polled_from_the_next_round() -> None:
    source = FakeSource({"a": tasks("a", 1), "b": []})
    executor = FakeExecutor()
    executor.hold.set()
    worker = make(source, executor)
    source.queues["c"] = tasks("c", 1)
    thread = start(worker)
    wait_until(lambda: executor.done == ["a-0"])
    worker.use_namespaces(["b", "c"])
    wait_until(lambda: sorted(executor.done) == ["a-0", "c-0"])
    worker.request_stop()
    thread.join(5)
    with source.lock:
        since = [ns for _, ns in source.polls[[ns for _, ns in source.polls].index("c") :]]
    assert set(since) == {"b", "c"}, "a namespace no longer served was still polled"


def test_idle_polling_backs_off_up_to_the_cap_and_work_resets_it() -> None:
    source = FakeSource({"ns": []})
    executor = FakeExecutor()
    executor.hold.set()
    worker = make(source, executor, idle_cap_s=0.08)
    thread = start(worker)
    time.sleep(0.6)
    gaps = [b - a for (a, _), (b, _) in zip(source.polls, source.polls[1:], strict=False)]
    assert gaps[0] < 0.06 and max(gaps) < 0.5
    assert sum(1 for g in gaps if g > 0.07) >= 3, "the backoff never reached its cap"
    source.queues["ns"].append(TaskInstance("late", "ns", "t"))
    wait_until(lambda: executor.done == ["late"], timeout_s=1.0)
    worker.request_stop()
    thread.join(5)


def test_platform_errors_back_off_and_polling_resumes() -> None:
    source = FakeSource({"ns": tasks("ns", 1)}, fail_first=3)
    run_until_done(source, ["ns-0"])
    assert len(source.polls) >= 4


def test_first_stop_drains_running_tasks_and_stops_polling() -> None:
    source = FakeSource({"ns": tasks("ns", 5)})
    executor = FakeExecutor()
    worker = make(source, executor, concurrency=2)
    thread = start(worker)
    wait_until(lambda: executor.running == 2)
    worker.request_stop()
    polls_at_stop = len(source.polls)
    time.sleep(0.2)
    assert thread.is_alive(), "run() returned with tasks still running"
    executor.hold.set()
    thread.join(5)
    assert not thread.is_alive()
    assert len(source.polls) == polls_at_stop
    assert len(executor.done) == 2 and executor.aborted == []


def test_second_stop_aborts_running_tasks() -> None:
    source = FakeSource({"ns": tasks("ns", 2)})
    executor = FakeExecutor()
    worker = make(source, executor)
    thread = start(worker)
    wait_until(lambda: executor.running == 2)
    worker.request_stop()
    worker.request_stop()
    thread.join(5)
    assert not thread.is_alive()
    assert sorted(executor.aborted) == ["ns-0", "ns-1"]


def test_drain_timeout_aborts_what_is_left() -> None:
    source = FakeSource({"ns": tasks("ns", 1)})
    executor = FakeExecutor()
    worker = make(source, executor, drain_timeout_s=0.2)
    thread = start(worker)
    wait_until(lambda: executor.running == 1)
    started = time.monotonic()
    worker.request_stop()
    thread.join(5)
    assert 0.15 < time.monotonic() - started < 2
    assert executor.aborted == ["ns-0"]


class BrokenOnce(FakeSource):
    def poll(self, namespace: str, name: str | None = None) -> TaskInstance | None:
        if not self.polls:
            self.polls.append((time.monotonic(), namespace))
            raise KeyError("a bug in the queue adapter")
        return super().poll(namespace)


def test_an_unexpected_error_while_polling_does_not_end_the_loop() -> None:
    run_until_done(BrokenOnce({"ns": tasks("ns", 1)}), ["ns-0"])


def test_no_task_is_taken_while_not_ready_and_taking_resumes_after() -> None:
    source = FakeSource({"ns": [TaskInstance("t1", "ns", "task")]})
    executor = FakeExecutor()
    executor.hold.set()
    trouble: list[str] = ["the Docker engine does not answer"]
    worker = make(
        source, executor, concurrency=1, ready=lambda: trouble[0] if trouble else None
    )
    thread = start(worker)
    time.sleep(0.3)
    assert source.polls == []
    trouble.clear()
    wait_until(lambda: executor.done == ["t1"], timeout_s=3.0)
    worker.request_stop()
    thread.join(5)
    assert executor.done == ["t1"]


def test_every_poll_and_platform_error_is_reported() -> None:
    observer = RecordingObserver()
    source = FakeSource({"ns": tasks("ns", 2)}, fail_first=2)
    executor = FakeExecutor()
    executor.hold.set()
    worker = make(source, executor, observer=observer)
    thread = start(worker)
    wait_until(lambda: len(executor.done) == 2 and len(observer.of("polled")) >= 5)
    worker.request_stop()
    thread.join(5)
    results = [event[1] for event in observer.of("polled")]
    assert results[:4] == ["error", "error", "task", "task"]
    assert set(results[4:]) == {"empty"}
    assert len(results) == len(source.polls)
    assert len(observer.of("platform_error")) == 2


def test_the_loop_beats_while_idle_for_long_and_says_when_it_has_stopped() -> None:
    source = FakeSource({"ns": []})
    long_wait = Backoff(base_s=30 * BEAT_S, cap_s=30 * BEAT_S, jitter=0)
    worker = Worker(
        source,
        FakeExecutor(),
        namespaces=["ns"],
        concurrency=1,
        idle=long_wait,
        failing=long_wait,
        drain_timeout_s=1,
    )
    beats = worker.heartbeat = CountingHeartbeat()
    thread = start(worker)
    time.sleep(2.5 * BEAT_S)
    assert len(source.polls) == 1, "the idle wait did not last"
    assert beats.beats >= 4
    assert worker.heartbeat.trouble("the poll loop", 2 * BEAT_S) is None
    worker.request_stop()
    thread.join(5)
    assert worker.heartbeat.trouble("the poll loop", 2 * BEAT_S) == "the poll loop has stopped"


def test_namespaces_whose_image_cannot_be_launched_are_not_polled_until_it_can() -> None:
    source = FakeSource({"broken": tasks("broken", 1), "fine": tasks("fine", 2)})
    executor = FakeExecutor()
    executor.hold.set()
    paused: list[str] = ["broken"]
    worker = make(source, executor, paused=lambda: (paused, "image x is gone"))
    thread = start(worker)
    wait_until(lambda: sorted(executor.done) == ["fine-0", "fine-1"])
    time.sleep(0.2)
    assert {namespace for _, namespace in source.polls} == {"fine"}
    paused.clear()
    wait_until(lambda: "broken-0" in executor.done)
    worker.request_stop()
    thread.join(5)


def test_polls_failing_in_a_row_make_the_platform_a_problem_until_one_works() -> None:
    source = FakeSource({"ns": []}, fail_first=FAILED_POLLS_NOT_READY + 2)
    executor = FakeExecutor()
    worker = make(source, executor)
    assert worker.platform_problem() is None
    thread = start(worker)
    wait_until(lambda: worker.platform_problem() is not None)
    assert worker.platform_problem() == (
        f"the platform's task queue cannot be polled ({FAILED_POLLS_NOT_READY} polls failed "
        "in a row): platform down"
    )
    wait_until(lambda: worker.platform_problem() is None)
    worker.request_stop()
    thread.join(5)


def test_an_outage_of_the_platform_is_logged_when_it_begins_and_ends_only(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="runner.worker.loop")
    source = FakeSource({"ns": []}, fail_first=40)
    worker = make(source, FakeExecutor())
    thread = start(worker)
    wait_until(lambda: source.fail_first == 0 and len(source.polls) > 41)
    worker.request_stop()
    thread.join(5)
    lines = [r.getMessage() for r in caplog.records if r.name == "runner.worker.loop"]
    assert lines == [
        "the platform's task queue cannot be polled: platform down; polling again later",
        lines[1],
    ]
    assert lines[1].startswith("polling the platform works again after ")
    assert lines[1].endswith(" (40 failure(s))")

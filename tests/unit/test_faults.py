"""The runner's own faults: how one is logged, when it is probed, what it pauses, and how the
threads that meet it share it."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from runner.core.condition import Condition, Say
from runner.core.errors import EngineError, ImageFault, ImageMissing, SecretError
from runner.core.faults import ENGINE_ANSWER, ENGINE_CREATE, FaultBook, image_scope
from runner.worker.faults import RunnerFaults, scope_of

IMAGE = "xc-tasks/sample:latest"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_condition_says_when_it_begins_counts_now_and_then_and_says_when_it_ends() -> None:
    cond = Condition("the thing fails", "the thing works again", summary_every_s=60)
    assert cond.ok(0.0) is None  # nothing to end
    assert cond.failed("boom", 10.0, "waiting") == Say("warning", "the thing fails: boom; waiting")
    lines = [cond.failed(f"boom {i}", 10.0 + i) for i in range(1, 60)]
    assert lines == [None] * 59  # a failure a second: silent for a minute
    said = cond.failed("boom 60", 70.0)
    assert said is not None and said.level == "warning"
    assert said.message == (
        "the thing fails, still: 60 more failure(s) in the last 60 s (61 since 60 s ago); "
        "the latest: boom 60"
    )
    assert cond.failed("boom 61", 71.0) is None
    assert cond.failing and cond.failures == 62
    assert cond.ok(80.5) == Say("info", "the thing works again after 70.5 s (62 failure(s))")
    assert not cond.failing and cond.ok(81.0) is None


def test_an_hour_long_outage_is_a_few_lines_however_many_requests_fail() -> None:
    cond = Condition("x fails", "x works", summary_every_s=60)
    said = [cond.failed("down", t / 10) for t in range(36000)]  # ten failures a second
    said.append(cond.ok(3600.0))
    assert sum(1 for s in said if s is not None) == 1 + 59 + 1


def test_a_fault_is_logged_as_an_error_once_and_ends_by_itself() -> None:
    book = FaultBook()
    said = book.failed(ENGINE_CREATE, "500: no space left on device", 0.0)
    assert said is not None and said.level == "error"
    assert said.message.startswith(
        "the container engine cannot start containers: 500: no space left on device; "
        "not taking new tasks"
    )
    assert book.failed(ENGINE_CREATE, "500 again", 1.0) is None
    assert book.engine_problem() == "the container engine cannot start containers: 500 again"
    ended = book.cleared(ENGINE_CREATE, 25.0, book.mark())
    assert ended == Say(
        "info", "the container engine starts containers again after 25.0 s (2 failure(s))"
    )
    assert book.engine_problem() is None
    assert book.cleared(ENGINE_CREATE, 26.0, book.mark()) is None


def test_an_image_fault_pauses_that_image_only() -> None:
    book = FaultBook()
    book.failed(image_scope(IMAGE), "image xc-tasks/sample:latest is not in the engine", 0.0)
    assert book.engine_problem() is None
    assert book.image_problems() == {IMAGE: "image xc-tasks/sample:latest is not in the engine"}
    assert book.holds(image_scope(IMAGE)) and not book.holds(image_scope("other:1"))


def test_open_faults_are_probed_later_and_later_but_the_engine_answer_is_pinged_anyway() -> None:
    book = FaultBook()
    book.failed(ENGINE_ANSWER, "no answer", 0.0)
    assert book.next_probe_in(0.0) is None and book.due(100.0) == []
    book.failed(ENGINE_CREATE, "500", 0.0)
    probed = [t for t in range(0, 60) if book.due(float(t))]
    assert probed == [1, 3, 7, 15, 25, 35, 45, 55]  # after 1, 2, 4, 8, then every 10 s
    assert book.next_probe_in(56.0) == pytest.approx(9.0)


@pytest.mark.parametrize(
    ("error", "scope"),
    [
        (EngineError("500 no space left on device"), ENGINE_CREATE),
        (EngineError("connection refused"), ENGINE_CREATE),
        (ImageMissing("gone"), image_scope(IMAGE)),
        (ImageFault("400: exec: not found"), image_scope(IMAGE)),
        (SecretError("secret s of image x: file gone"), image_scope(IMAGE)),
    ],
)
def test_a_failed_launch_is_the_engine_s_fault_or_its_image_s(
    error: EngineError, scope: object
) -> None:
    assert scope_of(IMAGE, error) == scope


def test_a_warm_container_ends_an_image_fault_but_only_a_creation_ends_an_engine_one() -> None:
    faults = RunnerFaults(Clock())
    faults.launch_failed(IMAGE, EngineError("500"))
    faults.launch_failed(IMAGE, ImageMissing("gone"))
    faults.launched(IMAGE, created=False, mark=faults.mark())
    assert faults.image_problems() == {}
    assert faults.engine_problem() == "the container engine cannot start containers: 500"
    faults.launched(IMAGE, created=True, mark=faults.mark())
    assert faults.engine_problem() is None


def test_the_engine_answer_ends_with_a_ping_answered() -> None:
    faults = RunnerFaults(Clock())
    faults.failed(ENGINE_ANSWER, "no answer to a ping: timed out")
    assert faults.engine_problem() == (
        "the container engine does not answer: no answer to a ping: timed out"
    )
    faults.launched(IMAGE, created=True, mark=faults.mark())  # says nothing of the pings
    assert faults.engine_problem() is not None
    faults.answered(faults.mark())
    assert faults.engine_problem() is None


def test_a_waiting_task_wakes_when_a_fault_ends() -> None:
    faults = RunnerFaults(Clock())
    faults.launch_failed(IMAGE, EngineError("500"))
    since = faults.ended()
    assert not faults.wait_ended(since, 0.01)
    timer = threading.Timer(0.1, faults.created, (faults.mark(),))
    timer.start()
    began = time.monotonic()
    assert faults.wait_ended(since, 10)
    assert time.monotonic() - began < 5
    timer.join()


def test_faults_are_logged_once_each_way(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    clock = Clock()
    faults = RunnerFaults(clock)
    for _ in range(50):
        faults.launch_failed(IMAGE, EngineError("500"))
        clock.now += 0.1
    faults.launched(IMAGE, created=True, mark=faults.mark())
    lines = [
        (r.levelname, r.getMessage()) for r in caplog.records if r.name == "runner.worker.faults"
    ]
    assert [level for level, _ in lines] == ["ERROR", "INFO"]
    assert "(50 failure(s))" in lines[1][1]


def test_when_the_engine_answers_again_every_other_fault_is_probed_at_once() -> None:
    book = FaultBook()
    book.failed(ENGINE_ANSWER, "connection refused", 0.0)
    book.failed(ENGINE_CREATE, "connection refused", 0.0)
    book.failed(image_scope(IMAGE), "gone", 0.0)
    for t in (1, 3, 7, 15, 25):
        book.due(float(t))
    assert book.due(26.0) == []
    book.cleared(ENGINE_ANSWER, 26.0, book.mark())
    assert book.due(26.0) == [ENGINE_CREATE, image_scope(IMAGE)]


def test_a_success_of_an_attempt_begun_before_the_latest_failure_ends_no_fault() -> None:
    faults = RunnerFaults(Clock())
    mark = faults.mark()  # a creation goes out...
    faults.launch_failed(IMAGE, EngineError("500"))  # ...another fails meanwhile...
    faults.created(mark)  # ...then the first one succeeds: it was under way before
    assert faults.engine_problem() is not None
    faults.created(faults.mark())  # one begun after the failure
    assert faults.engine_problem() is None

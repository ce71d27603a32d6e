"""A condition's log lines: one when it starts, a count while it lasts, one when it ends."""

from __future__ import annotations

from runner.core.condition import Change, Condition


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_condition_is_reported_when_it_starts_and_when_it_ends_with_the_count() -> None:
    clock = Clock()
    condition = Condition(remind_every_s=None, clock=clock)
    assert condition.ok() is None  # nothing held: nothing to say
    started = condition.failed("a: refused")
    assert started is not None and started.change is Change.STARTED
    assert (started.failures, started.detail) == (1, "a: refused")
    reports = []
    for second in range(1, 40):
        clock.now = 100.0 + second
        reports.append(condition.failed(f"try {second}"))
    assert reports == [None] * 39
    assert condition.active and condition.failures == 40
    clock.now = 141.0
    ended = condition.ok()
    assert ended is not None and ended.change is Change.ENDED
    assert (ended.failures, ended.lasted_s, ended.detail) == (40, 41.0, "try 39")
    assert ended.summary() == "40 failures in 41 s"
    assert not condition.active and condition.ok() is None


def test_a_lasting_condition_is_recalled_with_the_failures_since_the_last_line() -> None:
    clock = Clock()
    condition = Condition(remind_every_s=60, clock=clock)
    changes = []
    for second in range(0, 150):
        clock.now = 100.0 + second
        report = condition.failed("x")
        if report is not None:
            changes.append((second, report.change, report.unreported, report.failures))
    assert changes == [
        (0, Change.STARTED, 1, 1),
        (60, Change.LASTING, 60, 61),
        (120, Change.LASTING, 60, 121),
    ]


def test_a_condition_that_ends_and_starts_again_counts_afresh() -> None:
    clock = Clock()
    condition = Condition(clock=clock)
    condition.failed("x")
    condition.failed("x")
    condition.ok()
    again = condition.failed("y")
    assert again is not None and again.change is Change.STARTED and again.failures == 1
    assert again.summary() == "1 failure in 0 s"

"""Backoff delays, the runner's retry schedules, and the one retry helper."""

from __future__ import annotations

import pytest

from runner.core.backoff import (
    PLATFORM_FAILING,
    STATUS_DELIVERY,
    Backoff,
    Schedule,
    Stopped,
    backoff_delay,
    retry,
)


def test_delay_grows_geometrically_up_to_the_cap() -> None:
    delays = [backoff_delay(a, base_s=0.1, factor=2, cap_s=2.0, jitter=0.0) for a in range(8)]
    assert delays == [0.1, 0.2, 0.4, 0.8, 1.6, 2.0, 2.0, 2.0]


def test_jitter_only_shortens_and_never_passes_the_cap() -> None:
    assert backoff_delay(10, base_s=1, factor=2, cap_s=5, jitter=0.2, rand=lambda: 1.0) == 4.0
    assert backoff_delay(10, base_s=1, factor=2, cap_s=5, jitter=0.2, rand=lambda: 0.0) == 5.0


def test_huge_attempt_numbers_do_not_overflow() -> None:
    assert backoff_delay(10_000, base_s=1, factor=3, cap_s=7, jitter=0) == 7


def test_reset_starts_over() -> None:
    backoff = Backoff(base_s=1, cap_s=100, jitter=0)
    assert [backoff.next() for _ in range(3)] == [1, 2, 4]
    backoff.reset()
    assert backoff.next() == 1


def test_retry_waits_out_retryable_errors_and_returns_the_result() -> None:
    attempts = iter([ValueError("down"), ValueError("still down"), "done"])
    waited: list[float] = []
    reported: list[str] = []

    def attempt() -> str:
        outcome = next(attempts)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    result = retry(
        attempt,
        retryable=lambda exc: isinstance(exc, ValueError),
        backoff=Backoff(base_s=1.0, cap_s=3.0, jitter=0.0),
        wait=lambda delay: waited.append(delay) is not None,
        on_retry=lambda exc, delay: reported.append(f"{exc} {delay:g}"),
    )
    assert result == "done"
    assert waited == [1.0, 2.0]
    assert reported == ["down 1", "still down 2"]


def test_retry_raises_what_is_not_retryable_and_stops_when_told() -> None:
    def refuse() -> None:
        raise KeyError("refused")

    with pytest.raises(KeyError):
        retry(
            refuse,
            retryable=lambda exc: False,
            backoff=Backoff(base_s=1, cap_s=1),
            wait=lambda delay: False,
            on_retry=lambda exc, delay: None,
        )

    def fail() -> None:
        raise ValueError("down")

    with pytest.raises(Stopped):
        retry(
            fail,
            retryable=lambda exc: True,
            backoff=Backoff(base_s=1, cap_s=1),
            wait=lambda delay: True,
            on_retry=lambda exc, delay: None,
        )


def test_the_schedules_back_off_geometrically_up_to_their_cap() -> None:
    backoff = Schedule(base_s=0.5, cap_s=2.0, jitter=0.0).backoff()
    assert [backoff.next() for _ in range(4)] == [0.5, 1.0, 2.0, 2.0]
    assert PLATFORM_FAILING.cap_s < STATUS_DELIVERY.cap_s

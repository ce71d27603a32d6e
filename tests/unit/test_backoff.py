from __future__ import annotations

from runner.backoff import Backoff, backoff_delay


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

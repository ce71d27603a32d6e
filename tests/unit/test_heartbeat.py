"""Heartbeats: a loop that beats is alive; one that stopped or went silent is not."""

from __future__ import annotations

import threading

from runner.core.heartbeat import BEAT_S, Heartbeat, wait_beating
from tests.unit.fakes import CountingHeartbeat


class Clock:
    now = 10.0

    def __call__(self) -> float:
        return self.now


def test_starting_beating_silent_and_ended() -> None:
    clock = Clock()
    beat = Heartbeat(clock)
    assert beat.trouble("the poll loop", 5) is None  # not started yet: starting up
    beat.beat()
    clock.now += 5
    assert beat.trouble("the poll loop", 5) is None
    clock.now += 2
    assert beat.trouble("the poll loop", 5) == "the poll loop has shown no sign of life for 7 s"
    beat.beat()
    assert beat.trouble("the poll loop", 5) is None
    beat.end()
    assert beat.trouble("the poll loop", 5) == "the poll loop has stopped"


def test_a_long_wait_beats_every_slice_and_ends_early_when_set() -> None:
    beat = CountingHeartbeat()
    event = threading.Event()
    assert wait_beating(event, 2.5 * BEAT_S, beat) is False
    assert beat.beats >= 3
    threading.Timer(0.05, event.set).start()
    assert wait_beating(event, 60, beat) is True

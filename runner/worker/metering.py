"""Each task's usage, measured as it runs: the executor's narrow hook into the measuring.

The executor asks `Metering` for one `TaskMeter` per task; the meter is told of the
hand-out, ticked by the running task (each output, each read slice, and at once when
the terminal message arrived), and asked for the figures at the end. The rules are
runner.core.usage's; where readings come from is the engine side's (runner.engine.usage).
A failure to read is never the task's: the figures are then those read last.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Protocol

from runner.core.policy import ContainerLimits
from runner.core.usage import Limits, Reading, Start, Usage, UsageMeter

log = logging.getLogger(__name__)


class Reader(Protocol):
    every_s: float

    def read(self) -> Reading | None: ...


class Readers(Protocol):
    def reader(self, container_id: str) -> Reader | None:
        """How to read this container's usage; None when it cannot be measured."""


class TaskMeter:
    """One task's meter; the no-op base is what the executor holds when nothing measures."""

    def handed_out(self, container_id: str, start: Start) -> None:
        pass

    def tick(self, terminal: bool) -> None:
        pass

    def oom_seen(self) -> bool:
        """Whether the cgroup counted an OOM kill so far (the engine may not say so)."""
        return False

    def usage(self, wall_s: float, *, oom_killed: bool) -> Usage | None:
        return None


NO_METER = TaskMeter()


class _Meter(TaskMeter):
    def __init__(self, readers: Readers, limits: Limits, clock: Callable[[], float]) -> None:
        self._readers = readers
        self._limits = limits
        self._clock = clock
        self._reader: Reader | None = None
        self._meter: UsageMeter | None = None

    def handed_out(self, container_id: str, start: Start) -> None:
        self._meter = UsageMeter(start, self._limits)
        try:
            self._reader = self._readers.reader(container_id)
        except Exception:  # a bug here must never fail the task
            log.exception("finding how to read a task's usage failed")
        self._meter.handed_out(self._read(), self._clock())

    def tick(self, terminal: bool) -> None:
        meter, now = self._meter, self._clock()
        if meter is None or self._reader is None:
            return
        if meter.due(now, terminal, self._reader.every_s):
            meter.read(self._read(), now, terminal=terminal)

    def oom_seen(self) -> bool:
        if self._meter is None:
            return False
        if self._reader is not None:  # the latest word: the kill may be after the last tick
            self._meter.read(self._read(), self._clock())
        return self._meter.oom_seen

    def usage(self, wall_s: float, *, oom_killed: bool) -> Usage | None:
        if self._meter is None:
            return None  # it never got a container
        return self._meter.usage(wall_s, oom_killed=oom_killed)

    def _read(self) -> Reading | None:
        if self._reader is None:
            return None
        try:
            return self._reader.read()
        except Exception:  # a bug here must never fail the task
            log.exception("reading a task's usage failed")
            self._reader = None
            return None


class Metering:
    """Gives each task a meter; `readers` None: nothing is measured."""

    def __init__(
        self, readers: Readers | None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._readers = readers
        self._clock = clock

    def meter(self, limits: ContainerLimits, timeout_s: float) -> TaskMeter:
        if self._readers is None:
            return NO_METER
        return _Meter(
            self._readers, Limits(limits.memory_bytes, limits.cpus, timeout_s), self._clock
        )



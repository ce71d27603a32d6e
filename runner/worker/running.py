"""One task's container from its input to its end: output is pumped into the pure TaskRun,
and its events are acted on (post a status, log a line, stop the container)."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from runner.core.model import ErrorReason, TaskInstance, TaskStatus
from runner.core.protocol import Stream
from runner.core.taskrun import Event, Finish, Kill, Log, Relay, TaskRun
from runner.engine.interface import Container
from runner.worker.delivery import StatusSink
from runner.worker.metering import NO_METER, TaskMeter

log = logging.getLogger(__name__)

_READ_SLICE_S = 0.25  # how often a running task looks at its deadline and stop flag
_EXIT_WAIT_S = 10.0
# A task notifying faster than this has its intermediate progress skipped, so that
# one chatty task cannot hold up every other task's statuses in the ordered outbox.
MIN_PROGRESS_INTERVAL_S = 0.1


@dataclass
class Outcome:
    """Posts a task's statuses: progress (throttled by the run: TaskRun), the terminal one
    once, whoever decides it first."""

    sink: StatusSink
    status: TaskStatus | None = None
    reason: ErrorReason | None = None  # why the terminal status is an Error
    posted_at: float | None = None  # when the terminal status was handed over (monotonic)
    skipped_progress: int = 0  # progress lines the run skipped: the task notified faster

    def progress(self, status: TaskStatus) -> None:
        if self.status is None:
            self.sink.submit(status)

    def post(self, status: TaskStatus, reason: ErrorReason | None) -> None:
        if self.status is None:
            self.status, self.reason = status, reason
            self.posted_at = time.monotonic()
            self.sink.submit(status)


@dataclass(frozen=True)
class Stops:
    """What may stop a running task from outside: shutdown, cancellation."""

    shutdown: threading.Event
    cancelled: threading.Event

    def reason(self) -> tuple[str, ErrorReason] | None:
        """Why the task must stop now, and the Error's reason; None if it may go on."""
        if self.cancelled.is_set():
            return "the task was cancelled on the platform", "cancelled"
        if self.shutdown.is_set():
            return "the runner shut down before the task finished", "interrupted"
        return None


@dataclass(frozen=True)
class Clock:
    """A running task's time rules."""

    timeout_s: float  # from hand-out to the end
    exit_grace_s: float  # how long it may run on after its terminal message
    stop_grace_s: float  # SIGTERM -> SIGKILL


@dataclass
class RunningTask:
    """Everything one running task's relay shares: its container, its run, its statuses."""

    instance: TaskInstance
    container: Container
    run: TaskRun
    outcome: Outcome
    stops: Stops
    clock: Clock
    memory_bytes: int
    meter: TaskMeter = NO_METER  # read while the task runs (runner.worker.metering)

    def pump(self) -> None:
        """Pump output into the run until the container is done, or must be stopped."""
        try:
            self._pump()
        finally:
            self.outcome.skipped_progress = self.run.progress.skipped

    def _pump(self) -> None:
        deadline = time.monotonic() + self.clock.timeout_s
        while True:
            if self._apply(self.run.due(time.monotonic())):
                return
            self.meter.tick(self.run.terminal is not None)
            if self.run.terminal is not None:
                deadline = min(deadline, time.monotonic() + self.clock.exit_grace_s)
            stop = self.stops.reason()
            if stop is not None:
                self._apply(self.run.fail(*stop))
                self.container.stop(self.clock.stop_grace_s)
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._expire()
                return
            chunks = self.container.read(min(remaining, _READ_SLICE_S))
            if chunks is None:
                self._ended()
                return
            for stream, data in chunks:
                if self._apply(self.run.feed(stream, data, time.monotonic())):
                    return

    def _ended(self) -> None:
        if self.run.terminal is not None:  # decided: how the container exited changes nothing
            self._apply(self.run.end(None))
            return
        exit_info = self.container.wait(_EXIT_WAIT_S)
        self._apply(
            self.run.end(
                exit_info.exit_code,
                oom_killed=exit_info.oom_killed or self.meter.oom_seen(),
                memory_bytes=self.memory_bytes,
            )
        )

    def _expire(self) -> None:
        if self.run.terminal is None:
            self._apply(
                self.run.fail(f"the task timed out after {self.clock.timeout_s:g} s", "timeout")
            )
        else:
            log.warning(
                "%s: still running %g s after its terminal message; stopping it",
                self.instance.ref,
                self.clock.exit_grace_s,
            )
        self.container.stop(self.clock.stop_grace_s)

    def _apply(self, events: list[Event]) -> bool:
        """Act on events; True when the container was killed."""
        for event in events:
            if isinstance(event, Relay):
                self.outcome.progress(event.status)
            elif isinstance(event, Finish):
                self.outcome.post(event.status, event.reason)
            elif isinstance(event, Log):
                stream = "stderr" if event.stream == Stream.STDERR else "stdout"
                log.info("%s %s: %s", self.instance.ref, stream, event.text)
            elif isinstance(event, Kill):
                log.warning("%s: killing its container: %s", self.instance.ref, event.reason)
                self.container.stop(0)
                return True
        return False

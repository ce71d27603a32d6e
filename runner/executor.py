"""Runs one task instance as one container, to exactly one terminal status."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol

from runner.catalog import Catalog, TaskRoute
from runner.containers import (
    LABEL_INSTANCE_ID,
    LABEL_NAMESPACE,
    LABEL_RUNNER_ID,
    LABEL_TASK,
    Container,
    ContainerSpec,
    Engine,
)
from runner.errors import EngineError, TaskRejected
from runner.model import TaskInstance, TaskStatus, error_status
from runner.policy import TaskPolicy
from runner.protocol import Stream, encode_envelope
from runner.reporting import StatusSink
from runner.settings import RunnerSettings
from runner.taskrun import (
    Event,
    Finish,
    Kill,
    Log,
    OutputLimits,
    ProgressThrottle,
    Relay,
    TaskRun,
)

log = logging.getLogger(__name__)

_READ_SLICE_S = 0.25  # how often a running task looks at its deadline and stop flag
_EXIT_WAIT_S = 10.0
# A task notifying faster than this has its intermediate progress skipped, so that
# one chatty task cannot hold up every other task's statuses in the ordered outbox.
_MIN_PROGRESS_INTERVAL_S = 0.1


class TaskContracts(Protocol):
    def task_inputs(
        self, route: TaskRoute, input_data: Mapping[str, Any] | None
    ) -> dict[str, Any]: ...
    def task_outputs(
        self, route: TaskRoute, outputs: Mapping[str, Any]
    ) -> tuple[dict[str, Any], str | None]: ...
    def check_message(self, message: Mapping[str, Any]) -> str | None: ...


class Cancellations(Protocol):
    def watch(self, instance: TaskInstance) -> threading.Event: ...
    def unwatch(self, instance: TaskInstance) -> None: ...


class _NoCancellations:
    def watch(self, instance: TaskInstance) -> threading.Event:
        return threading.Event()

    def unwatch(self, instance: TaskInstance) -> None:
        pass


@dataclass
class _Outcome:
    """Posts a task's statuses: progress throttled, the terminal one once, whoever decides
    it first, after any progress still waiting."""

    sink: StatusSink
    throttle: ProgressThrottle = field(
        default_factory=lambda: ProgressThrottle(_MIN_PROGRESS_INTERVAL_S)
    )
    status: TaskStatus | None = None

    def progress(self, status: TaskStatus) -> None:
        if self.status is None and (ready := self.throttle.offer(status, time.monotonic())):
            self.sink.submit(ready)

    def tick(self) -> None:
        if self.status is None and (ready := self.throttle.due(time.monotonic())):
            self.sink.submit(ready)

    def post(self, status: TaskStatus) -> None:
        if self.status is None:
            self.status = status
            if waiting := self.throttle.flush(time.monotonic()):
                self.sink.submit(waiting)
            self.sink.submit(status)


@dataclass(frozen=True)
class _Stops:
    """What may stop a running task from outside: shutdown, cancellation."""

    shutdown: threading.Event
    cancelled: threading.Event

    def reason(self) -> str | None:
        if self.cancelled.is_set():
            return "the task was cancelled on the platform"
        if self.shutdown.is_set():
            return "the runner shut down before the task finished"
        return None


class TaskExecutor:
    def __init__(
        self,
        *,
        catalog: Catalog,
        engine: Engine,
        contracts: TaskContracts,
        statuses: StatusSink,
        settings: RunnerSettings,
        cancellations: Cancellations | None = None,
    ) -> None:
        self._catalog = catalog
        self._cancellations = cancellations or _NoCancellations()
        self._engine = engine
        self._contracts = contracts
        self._statuses = statuses
        self._settings = settings

    def execute(self, instance: TaskInstance, stop: threading.Event) -> None:
        """Run `instance`; `stop` set means the runner is shutting down now."""
        started = time.monotonic()
        outcome = _Outcome(self._statuses)
        log.info("%s: started", instance.ref)
        try:
            self._execute(instance, outcome, stop)
        except TaskRejected as exc:
            outcome.post(error_status(instance.id, str(exc)))
        except EngineError as exc:
            log.error("%s: %s", instance.ref, exc)
            outcome.post(error_status(instance.id, f"the container engine failed: {exc}"))
        except Exception as exc:  # a runner bug must still end the task with a status
            log.exception("%s: internal error", instance.ref)
            outcome.post(
                error_status(instance.id, f"internal runner error: {type(exc).__name__}: {exc}")
            )
        finally:
            final = outcome.status or error_status(instance.id, "the runner was interrupted")
            outcome.post(final)
            if outcome.throttle.skipped:
                log.info(
                    "%s: %d progress status(es) skipped: the task notified more often than "
                    "every %g s",
                    instance.ref,
                    outcome.throttle.skipped,
                    _MIN_PROGRESS_INTERVAL_S,
                )
            log.info(
                "%s: %s in %.3f s%s",
                instance.ref,
                final.status,
                time.monotonic() - started,
                f": {final.message}" if final.status == "Error" else "",
            )

    def _execute(self, instance: TaskInstance, outcome: _Outcome, stop: threading.Event) -> None:
        if instance.rejection:
            raise TaskRejected(instance.rejection)
        route = self._catalog.route(instance.namespace, instance.name)
        if route is None:
            raise TaskRejected(
                f"unknown task {instance.namespace}/{instance.name}: "
                "no task image of this runner declares it"
            )
        inputs = self._contracts.task_inputs(route, instance.input_data)
        policy = self._settings.policy_for(route.image)
        run = TaskRun(
            instance.id,
            check_message=self._contracts.check_message,
            check_outputs=partial(self._contracts.task_outputs, route),
            limits=OutputLimits(
                max_line_bytes=policy.max_line_bytes,
                max_output_bytes=policy.max_output_bytes,
                max_result_bytes=policy.max_result_bytes,
            ),
        )
        cancelled = self._cancellations.watch(instance)
        try:
            container = self._engine.launch(self._spec(route, instance, policy))
            try:
                container.send(encode_envelope(route.namespace, route.name, instance.id, inputs))
                stops = _Stops(stop, cancelled)
                self._relay(instance, container, run, outcome, stops, policy, route)
            finally:
                container.remove()
        finally:
            self._cancellations.unwatch(instance)

    def _spec(self, route: TaskRoute, instance: TaskInstance, policy: TaskPolicy) -> ContainerSpec:
        labels = {
            LABEL_RUNNER_ID: self._settings.runner_id,
            LABEL_NAMESPACE: route.namespace,
            LABEL_TASK: route.name,
            LABEL_INSTANCE_ID: str(instance.id),
        }
        return ContainerSpec(image=route.image, labels=labels, limits=policy.limits)

    @staticmethod
    def _timeout_s(instance: TaskInstance, route: TaskRoute, policy: TaskPolicy) -> float:
        for millis in (instance.timeout_ms, route.timeout_ms):
            if millis and millis > 0:
                return millis / 1000.0
        return policy.timeout_s

    def _relay(
        self,
        instance: TaskInstance,
        container: Container,
        run: TaskRun,
        outcome: _Outcome,
        stops: _Stops,
        policy: TaskPolicy,
        route: TaskRoute,
    ) -> None:
        """Pump output into `run` until the container is done, or must be stopped."""
        timeout_s = self._timeout_s(instance, route, policy)
        deadline = time.monotonic() + timeout_s
        while True:
            outcome.tick()
            if run.terminal is not None:
                deadline = min(deadline, time.monotonic() + self._settings.exit_grace_s)
            reason = stops.reason()
            if reason is not None:
                self._apply(instance, run.fail(reason), outcome, container)
                container.stop(self._settings.stop_grace_s)
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._expire(instance, container, run, outcome, timeout_s)
                return
            chunks = container.read(min(remaining, _READ_SLICE_S))
            if chunks is None:
                exit_info = container.wait(_EXIT_WAIT_S)
                self._apply(
                    instance,
                    run.end(
                        exit_info.exit_code,
                        oom_killed=exit_info.oom_killed,
                        memory_bytes=policy.limits.memory_bytes,
                    ),
                    outcome,
                    container,
                )
                return
            for stream, data in chunks:
                if self._apply(instance, run.feed(stream, data), outcome, container):
                    return

    def _expire(
        self,
        instance: TaskInstance,
        container: Container,
        run: TaskRun,
        outcome: _Outcome,
        timeout_s: float,
    ) -> None:
        if run.terminal is None:
            self._apply(
                instance, run.fail(f"the task timed out after {timeout_s:g} s"), outcome, container
            )
        else:
            log.warning(
                "%s: still running %g s after its terminal message; stopping it",
                instance.ref,
                self._settings.exit_grace_s,
            )
        container.stop(self._settings.stop_grace_s)

    def _apply(
        self, instance: TaskInstance, events: list[Event], outcome: _Outcome, container: Container
    ) -> bool:
        """Act on events; True when the container was killed."""
        for event in events:
            if isinstance(event, Relay):
                outcome.progress(event.status)
            elif isinstance(event, Finish):
                outcome.post(event.status)
            elif isinstance(event, Log):
                log.info(
                    "%s %s: %s",
                    instance.ref,
                    "stderr" if event.stream == Stream.STDERR else "stdout",
                    event.text,
                )
            elif isinstance(event, Kill):
                log.warning("%s: killing its container: %s", instance.ref, event.reason)
                container.stop(0)
                return True
        return False

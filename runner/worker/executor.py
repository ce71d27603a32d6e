"""Runs one task instance as one container, to exactly one terminal status."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol

from runner.core.catalog import Catalog, TaskRoute
from runner.core.errors import EngineError, SecretError, StateError, TaskRejected
from runner.core.model import ErrorReason, TaskInstance, TaskStatus, error_status
from runner.core.observer import NullObserver, Observer, Start
from runner.core.policy import PolicyTable, TaskPolicy
from runner.core.protocol import encode_envelope
from runner.core.taskcontext import about_task
from runner.core.taskrun import TaskRun
from runner.engine.interface import (
    LABEL_INSTANCE_ID,
    LABEL_NAMESPACE,
    LABEL_RUNNER_ID,
    LABEL_TASK,
    Container,
    ContainerSpec,
)
from runner.worker.delivery import StatusSink
from runner.worker.endline import log_end
from runner.worker.launching import Launcher, LaunchHealth, Launching, Unstarted
from runner.worker.metering import NO_METER, Metering, Readers, TaskMeter
from runner.worker.running import MIN_PROGRESS_INTERVAL_S, Clock, Outcome, RunningTask, Stops
from runner.worker.tasklogs import NO_TASK_LOGS, Capture, TaskLogs

log = logging.getLogger(__name__)


class TaskContracts(Protocol):
    def task_inputs(
        self, route: TaskRoute, input_data: Mapping[str, Any] | None
    ) -> dict[str, Any]: ...
    def task_outputs(
        self, route: TaskRoute, outputs: Mapping[str, Any]
    ) -> tuple[dict[str, Any], str | None]: ...
    def check_message(self, message: Mapping[str, Any]) -> str | None: ...


class HandOuts(Protocol):
    def handed_out(self, instance: TaskInstance, container_id: str) -> None:
        """Record that `instance` runs in `container_id` (the journal), so that recovery after
        a crash finds the container even when its labels do not name the task."""


class _NoHandOuts:
    def handed_out(self, instance: TaskInstance, container_id: str) -> None:
        pass


class Cancellations(Protocol):
    def watch(self, instance: TaskInstance) -> threading.Event: ...
    def unwatch(self, instance: TaskInstance) -> None: ...


class _NoCancellations:
    def watch(self, instance: TaskInstance) -> threading.Event:
        return threading.Event()

    def unwatch(self, instance: TaskInstance) -> None:
        pass


@dataclass(frozen=True)
class Executed:
    """What became of a task: its terminal status, how its container started ("warm": one
    kept ready by the pool, "cold": created for it, None: it got none), how long it
    took from its hand-out to the container (from its admission if it got none), and why
    it ended in Error (None if it completed)."""

    status: TaskStatus
    start: Start | None
    took_s: float
    reason: ErrorReason | None = None


@dataclass
class _Timing:
    since: float = field(default_factory=time.monotonic)
    start: Start | None = None
    meter: TaskMeter = NO_METER  # what the task uses, once its policy is known

    def handed_out(self, container: Container) -> None:
        self.since = time.monotonic()
        self.start = "warm" if container.warm else "cold"
        self.meter.handed_out(container.id, self.start)


@dataclass(frozen=True)
class ExecutionSettings:
    """What the executor needs of the runner's settings, and nothing more."""

    runner_id: str
    policies: PolicyTable = field(default_factory=PolicyTable)
    exit_grace_s: float = 2.0
    stop_grace_s: float = 5.0


class TaskExecutor:
    def __init__(  # noqa: PLR0913 -- keyword-only, each a part of its own
        self,
        *,
        catalog: Catalog,
        engine: Launcher,
        contracts: TaskContracts,
        statuses: StatusSink,
        settings: ExecutionSettings,
        cancellations: Cancellations | None = None,
        handouts: HandOuts | None = None,
        observer: Observer | None = None,
        health: LaunchHealth | None = None,
        task_logs: TaskLogs | None = None,
        usage: Readers | None = None,
    ) -> None:
        self._catalog = catalog
        self._metering = Metering(usage)
        self._launching = Launching(engine, health)
        self._logs = task_logs or NO_TASK_LOGS
        self._observer = observer or NullObserver()
        self._cancellations = cancellations or _NoCancellations()
        self._handouts = handouts or _NoHandOuts()
        self._contracts = contracts
        self._statuses = statuses
        self._settings = settings

    def use_catalog(self, catalog: Catalog) -> None:
        """Route the tasks taken from now on with `catalog` (an image's catalog changed)."""
        self._catalog = catalog

    def execute(self, instance: TaskInstance, stop: threading.Event) -> Executed:
        """Run `instance`; `stop` set means the runner is shutting down now."""
        with about_task(instance.namespace, instance.name, instance.id):
            self._observer.task_started(instance)
            return self._execute_logged(instance, stop)

    def _execute_logged(self, instance: TaskInstance, stop: threading.Event) -> Executed:
        taken = time.monotonic()
        timing = _Timing()
        outcome = Outcome(self._statuses)
        capture = self._logs.capture(instance)
        try:
            self._execute(instance, outcome, stop, timing, capture)
        except TaskRejected as exc:
            outcome.post(error_status(instance.id, str(exc)), "input")
        except SecretError as exc:  # a secret file gone or emptied since start-up
            log.error("%s: %s", instance.ref, exc)
            message = f"the task cannot be given its secrets: {exc}"
            outcome.post(error_status(instance.id, message), "secret")
        except EngineError as exc:  # after its start: the task may have run, it is not retried
            log.error("%s: %s", instance.ref, exc)
            outcome.post(error_status(instance.id, f"the container engine failed: {exc}"), "engine")
        except Exception as exc:  # a runner bug must still end the task with a status
            log.exception("%s: internal error", instance.ref)
            message = f"internal runner error: {type(exc).__name__}: {exc}"
            outcome.post(error_status(instance.id, message), "internal")
        finally:
            final = outcome.status or error_status(instance.id, "the runner was interrupted")
            outcome.post(final, "interrupted")
            took_s = time.monotonic() - timing.since
            usage = timing.meter.usage(took_s, oom_killed=outcome.reason == "memory")
            capture.end(outcome.posted_at, usage)
            log_end(instance, final, outcome, took_s, timing.start, usage)
            # The metric counts what the platform sees: from the poll to the terminal status.
            reported_s = (outcome.posted_at or time.monotonic()) - taken
            self._observer.task_ended(
                instance, final.status, reported_s, timing.start or "none", outcome.reason
            )
            if usage is not None:
                self._observer.task_used(instance, usage)
        return Executed(final, timing.start, took_s, outcome.reason)

    def _execute(
        self,
        instance: TaskInstance,
        outcome: Outcome,
        stop: threading.Event,
        timing: _Timing,
        capture: Capture,
    ) -> None:
        task = self._admit(instance)
        timing.meter = self._metering.meter(task.policy.limits, task.timeout_s())
        stops = Stops(stop, self._cancellations.watch(instance))
        try:
            container = self._launching.launch(
                instance, self._spec(task), task.route.image, task.launch_budget_s(), stops
            )
            if isinstance(container, Unstarted):
                outcome.post(error_status(instance.id, container.message), container.reason)
                return
            try:
                self._hand_out(instance, container, timing)
                capture.handed_out(container.id)
                container.send(
                    encode_envelope(task.route.namespace, task.route.name, instance.id, task.inputs)
                )
                self._running(task, container, outcome, stops, capture, timing.meter).pump()
            finally:
                container.remove()
        finally:
            self._cancellations.unwatch(instance)

    def _hand_out(self, instance: TaskInstance, container: Container, timing: _Timing) -> None:
        """From here on the task's time counts, and its container is journaled."""
        timing.handed_out(container)
        log.info("%s: started %s in container %s", instance.ref, timing.start, container.id[:12])
        try:
            self._handouts.handed_out(instance, container.id)
        except StateError as exc:  # run it all the same; only a crash now would lose track
            log.error("%s: %s", instance.ref, exc)

    def _admit(self, instance: TaskInstance) -> _Admitted:
        """The task as it will run; TaskRejected when it cannot run at all."""
        if instance.rejection:
            raise TaskRejected(instance.rejection)
        route = self._catalog.route(instance.namespace, instance.name)
        if route is None:
            raise TaskRejected(
                f"unknown task {instance.namespace}/{instance.name}: "
                "no task image of this runner declares it"
            )
        inputs = self._contracts.task_inputs(route, instance.input_data)
        policy = self._settings.policies.for_task(route.image, route.namespace, route.name)
        return _Admitted(instance, route, inputs, policy)

    def _running(
        self,
        task: _Admitted,
        container: Container,
        outcome: Outcome,
        stops: Stops,
        capture: Capture,
        meter: TaskMeter,
    ) -> RunningTask:
        run = TaskRun(
            task.instance.id,
            check_message=self._contracts.check_message,
            check_outputs=partial(self._contracts.task_outputs, task.route),
            limits=task.policy.output_limits(),
            log=capture.tail,
            progress_interval_s=MIN_PROGRESS_INTERVAL_S,
        )
        clock = Clock(
            timeout_s=task.timeout_s(),
            exit_grace_s=self._settings.exit_grace_s,
            stop_grace_s=self._settings.stop_grace_s,
        )
        return RunningTask(
            task.instance,
            container,
            run,
            outcome,
            stops,
            clock,
            task.policy.limits.memory_bytes,
            meter,
        )

    def _spec(self, task: _Admitted) -> ContainerSpec:
        labels = {
            LABEL_RUNNER_ID: self._settings.runner_id,
            LABEL_NAMESPACE: task.route.namespace,
            LABEL_TASK: task.route.name,
            LABEL_INSTANCE_ID: str(task.instance.id),
        }
        return ContainerSpec(
            image=task.route.image, labels=labels, limits=task.policy.limits, env=task.policy.env
        )


@dataclass(frozen=True)
class _Admitted:
    """A task instance the runner will run: its route, checked inputs and policy."""

    instance: TaskInstance
    route: TaskRoute
    inputs: Mapping[str, Any]
    policy: TaskPolicy

    def timeout_s(self) -> float:
        """The instance's time limit, else the catalog's, else the policy's."""
        for millis in (self.instance.timeout_ms, self.route.timeout_ms):
            if millis and millis > 0:
                return millis / 1000.0
        return self.policy.timeout_s

    def launch_budget_s(self) -> float:
        """How long the runner may try to start it: the policy's budget, never past the
        task's own time limit."""
        return min(self.policy.launch_budget_s, self.timeout_s())


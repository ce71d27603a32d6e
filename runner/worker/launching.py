"""A task's container, launched; tried again within the task's launch budget when the
runner is at fault.

A launch that fails (the engine cannot create or start the container, the image is
missing, its secrets cannot be read) is the runner's fault, never the task's: the task
has not started, so trying again cannot run it twice. Each failure is told to the
runner's fault tracker (which then stops taking new tasks); the task tries again, sooner
when a fault ends, until its budget is spent, the runner stops, or the task is cancelled.
Only then does it end, in an Error that says the runner could not start it, and why.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from runner.core.backoff import LAUNCH_RETRY
from runner.core.errors import EngineError, ImageFault, SecretError
from runner.core.model import ErrorReason, TaskInstance
from runner.engine.interface import Container, ContainerSpec, LaunchReports
from runner.worker.running import Stops

log = logging.getLogger(__name__)

_WAIT_SLICE_S = 0.25  # how often a waiting task looks at its stop flags


class Launcher(Protocol):
    def launch(self, spec: ContainerSpec) -> Container:
        """A started container, waiting for its input on stdin."""


class LaunchHealth(LaunchReports, Protocol):
    """The runner's fault tracker, as a launch sees it (runner.worker.faults)."""

    def ended(self) -> int: ...
    def wait_ended(self, since: int, timeout_s: float) -> bool: ...


@dataclass(frozen=True)
class Unstarted:
    """A task that got no container: its Error's message and reason."""

    message: str
    reason: ErrorReason


def reason_of(error: EngineError) -> ErrorReason:
    if isinstance(error, ImageFault):
        return "image"
    if isinstance(error, SecretError):
        return "secret"
    return "engine"


class Launching:
    """Launches through `engine`; with a fault tracker (`health`), tries again within the
    budget; without one (exec, check), fails at the first error."""

    def __init__(
        self,
        engine: Launcher,
        health: LaunchHealth | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._health = health
        self._clock = clock

    def launch(
        self, instance: TaskInstance, spec: ContainerSpec, image: str, budget_s: float, stops: Stops
    ) -> Container | Unstarted:
        """A container for `instance` of `image` (as configured: `spec.image` may differ)."""
        health, backoff = self._health, LAUNCH_RETRY.backoff()
        began = self._clock()
        while True:
            since = health.ended() if health is not None else 0
            mark = health.mark() if health is not None else 0
            try:
                container = self._engine.launch(spec)
            except EngineError as exc:
                if health is None:
                    return Unstarted(f"the container engine failed: {exc}", reason_of(exc))
                health.launch_failed(image, exc)
                waited_s = self._clock() - began
                if waited_s >= budget_s:
                    return _gave_up(exc, waited_s)
                if backoff.attempts == 0:
                    log.warning(
                        "%s: its container cannot be started yet: %s; trying again for up to "
                        "%g s",
                        instance.ref,
                        exc,
                        budget_s,
                    )
                delay_s = min(backoff.next(), budget_s - waited_s)
                stopped = self._wait(health, since, delay_s, stops)
                if stopped is not None:
                    return Unstarted(f"{stopped[0]}; it had not started: {exc}", stopped[1])
            else:
                if health is not None:
                    health.launched(image, created=not container.warm, mark=mark)
                return container

    def _wait(
        self, health: LaunchHealth, since: int, delay_s: float, stops: Stops
    ) -> tuple[str, ErrorReason] | None:
        """Wait `delay_s`, or until a fault ends; why the task must stop now, if it must."""
        deadline = self._clock() + delay_s
        while (stop := stops.reason()) is None:
            remaining = deadline - self._clock()
            if remaining <= 0 or health.wait_ended(since, min(remaining, _WAIT_SLICE_S)):
                return None
        return stop


def _gave_up(error: EngineError, waited_s: float) -> Unstarted:
    tried = f" for {waited_s:.0f} s" if waited_s >= 1 else ""
    return Unstarted(
        f"the runner could not start this task (its own fault, not the task's; tried{tried}): "
        f"{error}",
        reason_of(error),
    )

"""What the worker reports as it runs, for whoever watches it (metrics, a status page).

The poll loop, the executor and the status sender call an Observer; they know nothing of
what it does with the events. The default observer does nothing.
"""

from __future__ import annotations

from typing import Literal, Protocol

from runner.core.model import ErrorReason, StatusName, TaskInstance
from runner.core.usage import Usage

# How a task's container started: taken ready from a pool of started containers (warm),
# or created for the task (cold).
Start = Literal["warm", "cold"]
# How a task that ended had started: as above, or "none" (it never got a container).
Began = Literal["warm", "cold", "none"]
# What one poll of the platform's queue gave.
PollResult = Literal["task", "empty", "error"]


class Observer(Protocol):
    def task_started(self, instance: TaskInstance) -> None:
        """The instance was handed out and its run begins."""

    def task_ended(
        self,
        instance: TaskInstance,
        status: StatusName,
        duration_s: float,
        start: Began,
        reason: ErrorReason | None,
    ) -> None:
        """Its terminal status was handed to delivery, `duration_s` after it began; `reason`
        says why it is an Error (None when it completed)."""

    def task_used(self, instance: TaskInstance, usage: Usage) -> None:
        """What the ended instance used, measured from its container (right after
        `task_ended`; not for an instance that got no container, or was not measured)."""

    def polled(self, result: PollResult) -> None:
        """One poll of one namespace's queue ended."""

    def platform_error(self) -> None:
        """A request to the platform failed (publication, a poll, a status post, a cancellation
        check)."""

    def pool_idle(self, image: str, idle: int) -> None:
        """The pool of started containers now holds `idle` unused containers of `image`."""


class NullObserver:
    """Drops every event."""

    def task_started(self, instance: TaskInstance) -> None:
        pass

    def task_ended(
        self,
        instance: TaskInstance,
        status: StatusName,
        duration_s: float,
        start: Began,
        reason: ErrorReason | None,
    ) -> None:
        pass

    def task_used(self, instance: TaskInstance, usage: Usage) -> None:
        pass

    def polled(self, result: PollResult) -> None:
        pass

    def platform_error(self) -> None:
        pass

    def pool_idle(self, image: str, idle: int) -> None:
        pass

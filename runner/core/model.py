"""Plain data shared by the runner's modules: task instances and statuses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

StatusName = Literal["InProgress", "Error", "Completed"]
TERMINAL_STATUSES: frozenset[str] = frozenset({"Error", "Completed"})

JsonObject = Mapping[str, Any]

# Why a task ended in Error: a bounded set, for metrics and logs (never sent to the platform).
# The task's own faults: it reported an Error, raised or exited without a result ("task");
# its inputs were refused or its task is unknown ("input"); it ran past its time limit
# ("timeout") or out of memory ("memory"); its output broke a limit or its result the
# catalog ("output"); its stdout did not speak the protocol ("protocol").
# Cancelled on the platform ("cancelled").
# The runner's faults: the engine failed on the task's path ("engine"), its image is
# missing ("image"), its secrets cannot be read ("secret"), the runner stopped before it
# ended ("interrupted"), a runner bug ("internal").
ErrorReason = Literal[
    "task",
    "input",
    "timeout",
    "memory",
    "output",
    "protocol",
    "cancelled",
    "engine",
    "image",
    "secret",
    "interrupted",
    "internal",
]
ERROR_REASONS: tuple[ErrorReason, ...] = (
    *("task", "input", "timeout", "memory", "output", "protocol"),
    *("cancelled", "engine", "image", "secret", "interrupted", "internal"),
)
RUNNER_FAULTS: frozenset[str] = frozenset({"engine", "image", "secret", "interrupted", "internal"})


def fault_of(reason: ErrorReason) -> str:
    """Whose fault an Error of this reason is: "task", "runner" or "user" (cancelled)."""
    if reason in RUNNER_FAULTS:
        return "runner"
    return "user" if reason == "cancelled" else "task"


def task_ref(namespace: str, name: str, instance_id: str | int) -> str:
    """`namespace/name#id`, the way every log line names a task instance."""
    return f"{namespace}/{name}#{instance_id}"


@dataclass(frozen=True)
class TaskInstance:
    """A task taken off the platform's queue, as the runner needs it."""

    id: str | int
    namespace: str
    name: str
    input_data: JsonObject = field(default_factory=dict)
    timeout_ms: int | None = None
    rejection: str | None = None  # why it cannot run as received, if it cannot

    @property
    def ref(self) -> str:
        return task_ref(self.namespace, self.name, self.id)


@dataclass(frozen=True)
class TaskStatus:
    """One status posted for a task instance."""

    task_instance_id: str | int
    status: StatusName
    message: str = ""
    output_values: JsonObject | None = None
    progress: str | None = None
    error_level: str | None = None

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    def to_wire(self) -> dict[str, Any]:
        """The body of POST /taskstatus/api/task-statuses."""
        body: dict[str, Any] = {
            "taskInstanceId": self.task_instance_id,
            "status": self.status,
            "message": self.message,
        }
        if self.output_values is not None:
            body["outputValues"] = dict(self.output_values)
        if self.progress is not None:
            body["progressPercentage"] = self.progress
        if self.error_level is not None:
            body["errorLevel"] = self.error_level
        return body

    @classmethod
    def from_wire(cls, body: Mapping[str, Any]) -> TaskStatus:
        """The inverse of `to_wire`."""
        return cls(
            task_instance_id=body["taskInstanceId"],
            status=body["status"],
            message=body.get("message", ""),
            output_values=body.get("outputValues"),
            progress=body.get("progressPercentage"),
            error_level=body.get("errorLevel"),
        )


def error_status(
    instance_id: str | int, message: str, error_level: str | None = None
) -> TaskStatus:
    return TaskStatus(instance_id, "Error", message, error_level=error_level)

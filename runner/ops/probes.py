"""What /healthz, /readyz and /status answer, as an HTTP status and a JSON body.

- /healthz (liveness): 200 while the poll loop and the status sender are alive; 503, with
  the reason, when either has stopped or is stuck. An orchestrator restarts the runner.
- /readyz (readiness): 200 while the runner takes tasks: its catalog is published, the
  engine answers and statuses are being delivered; else 503 with the reason, the one the
  runner logs when it stops taking tasks.
- /status: who the runner is, the build of each image it serves (image ID and digest), its
  running tasks and its undelivered statuses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from runner.ops.logs import redacted
from runner.ops.metrics import Running


class RunnerView(Protocol):
    def health(self) -> str | None:
        """Why the poll loop or the status sender has stopped or is stuck, or None."""

    def readiness(self) -> str | None:
        """Why the runner takes no task now, or None."""

    def outbox_pending(self) -> int:
        """Statuses not delivered yet."""

    def served_images(self) -> Sequence[Mapping[str, str | None]]:
        """Each served image: its name, the image ID it resolved to, its digest (or None)."""


class RunningTasks(Protocol):
    def running(self) -> list[Running]: ...
    def age_s(self, running: Running) -> float: ...


@dataclass(frozen=True)
class Identity:
    runner_id: str
    version: str
    images: Sequence[str]
    slots: int


@dataclass(frozen=True)
class Answer:
    code: int
    body: Mapping[str, Any]


class Probes:
    def __init__(self, view: RunnerView, tasks: RunningTasks, identity: Identity) -> None:
        self._view = view
        self._tasks = tasks
        self._identity = identity

    def healthz(self) -> Answer:
        reason = self._view.health()
        if reason is None:
            return Answer(200, {"status": "ok"})
        return Answer(503, {"status": "unhealthy", "reason": redacted(reason)})

    def readyz(self) -> Answer:
        reason = self._view.readiness()
        if reason is None:
            return Answer(200, {"status": "ready"})
        return Answer(503, {"status": "not ready", "reason": redacted(reason)})

    def status(self) -> Answer:
        identity = self._identity
        running = [
            {
                "taskInstanceId": task.instance_id,
                "namespace": task.namespace,
                "task": task.task,
                "ageSeconds": round(self._tasks.age_s(task), 3),
            }
            for task in self._tasks.running()
        ]
        return Answer(
            200,
            {
                "runnerId": identity.runner_id,
                "version": identity.version,
                "images": list(identity.images),
                "servedImages": [dict(image) for image in self._view.served_images()],
                "slots": identity.slots,
                "running": running,
                "outboxPending": self._view.outbox_pending(),
            },
        )

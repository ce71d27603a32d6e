"""Fakes for unit tests of pure logic: a scripted container engine, a status sink, and an
observer that records what the worker reports."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from runner.core.errors import EngineError
from runner.core.heartbeat import Heartbeat
from runner.core.model import ErrorReason, StatusName, TaskInstance, TaskStatus
from runner.core.observer import Began, PollResult
from runner.core.protocol import Stream
from runner.core.usage import Usage
from runner.engine.interface import Chunk, ContainerSpec, ExitInfo


def message(obj: Mapping[str, Any]) -> Chunk:
    return (Stream.STDOUT, json.dumps(obj).encode() + b"\n")


@dataclass
class FakeContainer:
    """Hands out scripted reads; an empty script then means 'still running, silent'."""

    script: list[list[Chunk] | None]
    exit_code: int = 0
    oom_killed: bool = False
    fail_read: Exception | None = None
    id: str = "c0ffee"
    stdin: bytearray = field(default_factory=bytearray)
    stops: list[float] = field(default_factory=list)
    removed: bool = False
    warm: bool = False
    waited: int = 0  # how many times its exit status was asked for
    dead: bool = False  # its output ended while it waited for its task
    stderr: str = ""  # what it wrote on stderr before its task

    def alive(self) -> bool:
        return not self.dead and not self.removed

    def early_stderr(self) -> str:
        return self.stderr

    def send(self, data: bytes) -> None:
        self.stdin += data

    def read(self, timeout_s: float) -> list[Chunk] | None:
        if self.fail_read:
            raise self.fail_read
        if self.stops:
            return None
        if not self.script:
            threading.Event().wait(min(timeout_s, 0.01))
            return []
        return self.script.pop(0)

    def stop(self, grace_s: float) -> None:
        self.stops.append(grace_s)

    def wait(self, timeout_s: float) -> ExitInfo:
        self.waited += 1
        return ExitInfo(self.exit_code, self.oom_killed)

    def remove(self) -> None:
        self.removed = True


@dataclass
class FakeEngine:
    containers: list[FakeContainer] = field(default_factory=list)
    labels: dict[str, Mapping[str, str]] = field(default_factory=dict)
    launched: list[ContainerSpec] = field(default_factory=list)
    fail_launch: bool = False
    failures: list[EngineError] = field(default_factory=list)  # raised by the next launches
    known_runtimes: set[str] = field(default_factory=lambda: {"runc"})
    ids: dict[str, str] = field(default_factory=dict)  # image name -> image ID; else itself
    removed: list[str] = field(default_factory=list)
    digests: dict[str, list[str]] = field(default_factory=dict)  # image ID -> RepoDigests

    def image_id(self, image: str) -> str:
        return self.ids.get(image, image)

    def image_digests(self, image: str) -> list[str]:
        return self.digests.get(image, [])

    def remove_container(self, container_id: str) -> None:
        self.removed.append(container_id)

    def runtimes(self) -> set[str]:
        return self.known_runtimes

    def image_labels(self, image: str) -> Mapping[str, str]:
        return self.labels[image]

    def launch(self, spec: ContainerSpec) -> FakeContainer:
        if self.fail_launch:
            raise EngineError("cannot create a container of img: engine on fire")
        if self.failures:
            raise self.failures.pop(0)
        self.launched.append(spec)
        return self.containers.pop(0)

    def remove_labelled(self, labels: Mapping[str, str]) -> list[str]:
        return []

    def ping(self) -> None:
        pass

    def wait_suspect(self, timeout_s: float) -> bool:
        return False


@dataclass
class RecordingSink:
    statuses: list[TaskStatus] = field(default_factory=list)

    def submit(self, status: TaskStatus) -> None:
        self.statuses.append(status)

    def terminal(self) -> list[TaskStatus]:
        return [s for s in self.statuses if s.terminal]


@dataclass
class RecordingObserver:
    """Every event the worker reports, in order."""

    events: list[tuple[Any, ...]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _add(self, *event: Any) -> None:
        with self.lock:
            self.events.append(event)

    def task_started(self, instance: TaskInstance) -> None:
        self._add("started", instance.id)

    def task_ended(
        self,
        instance: TaskInstance,
        status: StatusName,
        duration_s: float,
        start: Began,
        reason: ErrorReason | None,
    ) -> None:
        self._add("ended", instance.id, status, duration_s, start, reason)

    def task_used(self, instance: TaskInstance, usage: Usage) -> None:
        self._add("used", instance.id, usage)

    def polled(self, result: PollResult) -> None:
        self._add("polled", result)

    def platform_error(self) -> None:
        self._add("platform_error")

    def pool_idle(self, image: str, idle: int) -> None:
        self._add("pool_idle", image, idle)

    def of(self, kind: str) -> list[tuple[Any, ...]]:
        with self.lock:
            return [e for e in self.events if e[0] == kind]


class CountingHeartbeat(Heartbeat):
    """A heartbeat that counts its beats."""

    def __init__(self) -> None:
        super().__init__()
        self.beats = 0

    def beat(self) -> None:
        self.beats += 1
        super().beat()

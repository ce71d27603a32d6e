"""Fakes for unit tests of pure logic: a scripted container engine and a status sink."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from runner.core.errors import EngineError
from runner.core.model import TaskStatus
from runner.core.protocol import Stream
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
        return ExitInfo(self.exit_code, self.oom_killed)

    def remove(self) -> None:
        self.removed = True


@dataclass
class FakeEngine:
    containers: list[FakeContainer] = field(default_factory=list)
    labels: dict[str, Mapping[str, str]] = field(default_factory=dict)
    launched: list[ContainerSpec] = field(default_factory=list)
    fail_launch: bool = False
    known_runtimes: set[str] = field(default_factory=lambda: {"runc"})
    ids: dict[str, str] = field(default_factory=dict)  # image name -> image ID; else itself
    removed: list[str] = field(default_factory=list)

    def image_id(self, image: str) -> str:
        return self.ids.get(image, image)

    def remove_container(self, container_id: str) -> None:
        self.removed.append(container_id)

    def runtimes(self) -> set[str]:
        return self.known_runtimes

    def image_labels(self, image: str) -> Mapping[str, str]:
        return self.labels[image]

    def launch(self, spec: ContainerSpec) -> FakeContainer:
        if self.fail_launch:
            raise EngineError("cannot create a container of img: engine on fire")
        self.launched.append(spec)
        return self.containers.pop(0)

    def remove_labelled(self, labels: Mapping[str, str]) -> list[str]:
        return []

    def trouble(self) -> str | None:
        return None


@dataclass
class RecordingSink:
    statuses: list[TaskStatus] = field(default_factory=list)

    def submit(self, status: TaskStatus) -> None:
        self.statuses.append(status)

    def terminal(self) -> list[TaskStatus]:
        return [s for s in self.statuses if s.terminal]

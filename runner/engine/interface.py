"""The container engine as the worker sees it: a small interface, no Docker in it.

A container is launched (created, attached and started) before it is given its
input, so an engine can keep containers ready ahead of their tasks (the warm
pool: runner.engine.pool); the process inside blocks on stdin until `send`
delivers the envelope.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from runner.core.errors import EngineError
from runner.core.policy import ContainerEnv, ContainerLimits
from runner.core.protocol import Stream
from runner.core.secrets import SecretSnapshot, SecretSource

# Labels on every task container: they say who owns it and what it runs.
LABEL_RUNNER_ID = "xc-scenario.runner-id"
LABEL_NAMESPACE = "xc-scenario.namespace"
LABEL_TASK = "xc-scenario.task"
LABEL_INSTANCE_ID = "xc-scenario.task-instance-id"
# On a warm container, created before its task is known: the image it is kept for.
LABEL_POOL = "xc-scenario.pool"


@dataclass(frozen=True)
class ContainerSpec:
    image: str
    labels: Mapping[str, str]
    limits: ContainerLimits = field(default_factory=ContainerLimits)
    command: tuple[str, ...] | None = None  # None: the image's own entrypoint and command
    env: ContainerEnv = field(default_factory=ContainerEnv)
    # The secrets as read for this container (runner.engine.secrets reads them when None).
    secrets: SecretSnapshot | None = field(default=None, repr=False)
    # Read-only bind mounts: (folder on the engine's host, path in the container).
    mounts: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ExitInfo:
    exit_code: int
    oom_killed: bool = False


Chunk = tuple[Stream, bytes]


class Container(Protocol):
    id: str
    warm: bool  # started ahead of its task (from the warm pool), not for it


    def send(self, data: bytes) -> None:
        """Queue `data` for the container's stdin, which is closed once it is written."""

    def read(self, timeout_s: float) -> list[Chunk] | None:
        """Output that arrived within `timeout_s` ([] if none); None once output has ended
        (or the container was stopped: its output is no longer read)."""

    def stop(self, grace_s: float) -> None:
        """Stop reading its output; SIGTERM, then SIGKILL after `grace_s`."""

    def wait(self, timeout_s: float) -> ExitInfo:
        """The exit status, once the container has exited."""

    def remove(self) -> None:
        """Remove the container, running or not. Never raises for a container already gone."""


class Engine(Protocol):
    def image_labels(self, image: str) -> Mapping[str, str]:
        """The image's labels, read without running it."""

    def runtimes(self) -> set[str]:
        """Names of the OCI runtimes the engine can run containers with."""

    def image_id(self, image: str) -> str:
        """The ID of the image `image` names now."""

    def image_digests(self, image: str) -> list[str]:
        """The image's digests in registries (RepoDigests: `repository@sha256:...`)."""

    def launch(self, spec: ContainerSpec) -> PoolContainer:
        """A started container, waiting for its input on stdin."""

    def remove_container(self, container_id: str) -> None:
        """Remove one container, running or not."""

    def remove_labelled(self, labels: Mapping[str, str]) -> list[str]:
        """Remove every container carrying all these labels; their ids."""

    def ping(self) -> None:
        """Whether the engine answers: EngineError if it does not, within a few seconds."""

    def wait_suspect(self, timeout_s: float) -> bool:
        """Wait up to `timeout_s` for an engine request to fail; whether one did."""


class PoolContainer(Container, Protocol):
    """A container that may wait for its task (in the warm pool)."""

    def alive(self) -> bool:
        """While it waits: keep what it wrote so far; False once its output has ended."""

    def early_stderr(self) -> str:
        """The end of what it wrote on stderr before its task."""


class PoolEngine(Protocol):
    """What the warm pool launches its containers with."""

    def image_id(self, image: str) -> str: ...
    def launch(self, spec: ContainerSpec) -> PoolContainer: ...


class Snapshots(Protocol):
    def snapshot(self, image: str, sources: Sequence[SecretSource]) -> SecretSnapshot:
        """The image's secrets as their files hold them now (SecretError if one cannot be
        read)."""


# Called (off the tasks' threads) when a served image's tag moved: (image, new image ID).
OnMoved = Callable[[str, str], None]


class LaunchReports(Protocol):
    """Who hears how launches go (the runner's fault tracker, runner.worker.faults)."""

    def mark(self) -> int:
        """To take before an attempt, and give back with its success: a success of an
        attempt begun before the latest failure proves nothing."""

    def launched(self, image: str, *, created: bool, mark: int) -> None:
        """A container of `image` (by its name) was launched for a task (`created`: just
        now, not a warm one)."""

    def created(self, mark: int) -> None:
        """A container was created and started (of an image ID: its name may be gone)."""

    def launch_failed(self, image: str, error: EngineError) -> None:
        """A container of `image` could not be launched."""


class NoReports:
    """Hears nothing (a pool with no fault tracker)."""

    def mark(self) -> int:
        return 0

    def launched(self, image: str, *, created: bool, mark: int) -> None:
        pass

    def created(self, mark: int) -> None:
        pass

    def launch_failed(self, image: str, error: EngineError) -> None:
        pass


class PoolObserver(Protocol):
    def pool_idle(self, image: str, idle: int) -> None:
        """How many warm containers of `image` wait for a task now."""

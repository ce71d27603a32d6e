"""One task at a time with no platform, for `xc-runner exec` and `check`: the same engine,
executor, task policy and schema checks as `run`, under a runner id of the run's own whose
containers are all removed at the end. Nothing is written to disk."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from runner.app.secrecy import redacting
from runner.app.signals import StopFlag, stop_on_signals
from runner.app.startup import execution_settings, task_secrets
from runner.config.oneshot import OneShotSettings
from runner.contracts import Contracts
from runner.core.catalog import Catalog, routes_from_label
from runner.core.errors import TaskRejected
from runner.core.model import TaskInstance, TaskStatus, error_status
from runner.core.policy import PolicyTable, TaskPolicy
from runner.core.protocol import Stream
from runner.engine.docker_engine import DockerEngine
from runner.engine.interface import (
    LABEL_RUNNER_ID,
    Chunk,
    Container,
    ContainerSpec,
    Engine,
    ExitInfo,
)
from runner.worker.delivery import StatusSink
from runner.worker.executor import TaskExecutor
from runner.worker.launching import Launcher

log = logging.getLogger(__name__)

_POOL_SIZE = 4  # one task at a time: its container, a stop, a health check, a spare


class RecordingContainer:
    """A container whose stdout is kept as it is read, up to `cap` bytes."""

    def __init__(self, inner: Container, cap: int) -> None:
        self.id = inner.id
        self.warm = inner.warm
        self._inner = inner
        self._cap = cap
        self.stdout = bytearray()

    def send(self, data: bytes) -> None:
        self._inner.send(data)

    def read(self, timeout_s: float) -> list[Chunk] | None:
        chunks = self._inner.read(timeout_s)
        for stream, data in chunks or ():
            if stream == Stream.STDOUT and len(self.stdout) < self._cap:
                self.stdout += data[: self._cap - len(self.stdout)]
        return chunks

    def stop(self, grace_s: float) -> None:
        self._inner.stop(grace_s)

    def wait(self, timeout_s: float) -> ExitInfo:
        return self._inner.wait(timeout_s)

    def remove(self) -> None:
        self._inner.remove()


@dataclass
class _RecordingLauncher:
    """Launches through the engine, keeping each container's stdout (one byte over the
    output cap at most, so that going over it shows)."""

    engine: Launcher
    policies: PolicyTable
    last: RecordingContainer | None = None

    def launch(self, spec: ContainerSpec) -> Container:
        cap = self.policies.for_image(spec.image).max_output_bytes + 1
        self.last = RecordingContainer(self.engine.launch(spec), cap)
        return self.last


@dataclass
class Collected:
    """A status sink that keeps the first terminal status it is given, and tells another
    sink of every status if there is one."""

    then: StatusSink | None = None
    terminal: TaskStatus | None = None

    def submit(self, status: TaskStatus) -> None:
        if status.terminal and self.terminal is None:
            self.terminal = status
        if self.then is not None:
            self.then.submit(status)


@dataclass(frozen=True)
class TaskRunRecord:
    """One task run: its terminal status, and its stdout (None when no container started)."""

    status: TaskStatus
    stdout: bytes | None


class OneShot:
    """Runs single tasks of the settings' images, each to its terminal status."""

    def __init__(self, settings: OneShotSettings, engine: Engine, contracts: Contracts) -> None:
        self.settings = settings
        self.engine = engine
        self.contracts = contracts
        self.stop = StopFlag()
        self.secrets, self.has_secrets = task_secrets(settings, engine)

    def policy(self, image: str) -> TaskPolicy:
        return self.settings.policies.for_image(image)

    def catalog(self, image: str) -> Catalog:
        """The image's tasks, from its checked catalog label; ConfigError if it has none."""
        labels = self.engine.image_labels(image)
        return Catalog(routes_from_label(image, labels, self.contracts.check_catalog))

    def admit(self, catalog: Catalog, namespace: str, task: str, data: Mapping[str, Any]) -> None:
        """TaskRejected naming the unknown task or the bad inputs, before any container."""
        route = catalog.route(namespace, task)
        if route is None:
            raise TaskRejected(f"unknown task {namespace}/{task}: {_declared(catalog)}")
        self.contracts.task_inputs(route, data)

    def run(
        self, catalog: Catalog, instance: TaskInstance, sink: StatusSink | None = None
    ) -> TaskRunRecord:
        """Run one task instance through the executor, as `run` would."""
        launcher = _RecordingLauncher(self.secrets, self.settings.policies)
        collected = Collected(sink)
        TaskExecutor(
            catalog=catalog,
            engine=launcher,
            contracts=self.contracts,
            statuses=redacting(collected, self.has_secrets),
            settings=execution_settings(self.settings),
        ).execute(instance, self.stop)
        # The executor always ends a task with a terminal status, whatever happens.
        status = collected.terminal or error_status(instance.id, "the task did not end")
        recorded = launcher.last
        return TaskRunRecord(status, bytes(recorded.stdout) if recorded else None)

    def close(self) -> None:
        """Remove every container of this run's runner id that is still there."""
        removed = self.engine.remove_labelled({LABEL_RUNNER_ID: self.settings.runner_id})
        if removed:
            log.warning("removed %d container(s) left by this run", len(removed))
        self.secrets.files.clear()


def _declared(catalog: Catalog) -> str:
    names = ", ".join(f"{r.namespace}/{r.name}" for r in catalog)
    return f"the image declares {names}" if names else "the image declares no task"


@contextmanager
def open_oneshot(settings: OneShotSettings) -> Iterator[OneShot]:
    """Connected to the engine, SIGTERM/SIGINT stopping the running task; on the way out,
    this run's containers are removed and the connection closed."""
    engine = DockerEngine(pool_size=_POOL_SIZE)
    try:
        oneshot = OneShot(settings, engine, Contracts())
        try:
            with stop_on_signals(oneshot.stop):
                yield oneshot
        finally:
            oneshot.close()
    finally:
        engine.close()

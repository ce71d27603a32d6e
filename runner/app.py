"""Builds the runner from its settings and runs it: the composition root.

This is the one place that knows every concrete part (Docker engine, platform
client, schema contracts); the loop and the executor only see interfaces.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import partial
from types import FrameType
from typing import Any, Protocol

from runner.backoff import Backoff
from runner.cancellation import CancelWatch
from runner.catalog import Catalog, TaskRoute, routes_from_label
from runner.containers import LABEL_RUNNER_ID, Engine
from runner.contracts import Contracts
from runner.errors import ConfigError, PlatformError, StateError
from runner.executor import TaskExecutor
from runner.model import TaskInstance, error_status
from runner.outbox import Outbox
from runner.platform import PlatformClient
from runner.policy import TaskPolicy, loosened
from runner.reporting import StatusSender
from runner.settings import RunnerSettings
from runner.worker import Worker

log = logging.getLogger(__name__)

_FLUSH_TIMEOUT_S = 10.0  # what is left stays in the outbox for the next start
_FAILING_CAP_S = 10.0


def load_catalog(images: tuple[str, ...], engine: Engine, contracts: Contracts) -> Catalog:
    routes: list[TaskRoute] = []
    for image in images:
        found = routes_from_label(image, engine.image_labels(image), contracts.check_catalog)
        log.info("image %s: %s", image, ", ".join(f"{r.namespace}/{r.name}" for r in found))
        routes += found
    return Catalog(routes)


def check_policies(settings: RunnerSettings, engine: Engine) -> None:
    """Refuse runtimes the engine lacks; log every loosened default, so none is silent."""
    policies = {"runner-wide": settings.policy} | {
        f"image {image}": policy for image, policy in settings.image_policies.items()
    }
    wanted = {p.limits.runtime for p in policies.values()} - {""}
    missing = wanted - engine.runtimes() if wanted else set()
    if missing:
        raise ConfigError(
            f"runtime {', '.join(sorted(missing))} is not registered with the Docker engine "
            "(for gVisor: `make gvisor`, or see the README's security section)"
        )
    for scope, policy in policies.items():
        reference = TaskPolicy() if scope == "runner-wide" else settings.policy
        loose = loosened(policy, reference)
        if loose:
            log.warning("%s task policy loosens the defaults: %s", scope, "; ".join(loose))


class Journal(Protocol):
    def taken(self, instance: TaskInstance) -> None:
        """Record that `instance` was taken off the queue."""


class PlatformQueue:
    """The platform's task queue as the worker loop sees it: TaskInstance or None.

    Every instance handed out is written to the journal before it is returned.
    """

    def __init__(self, client: PlatformClient, contracts: Contracts, journal: Journal) -> None:
        self._client = client
        self._contracts = contracts
        self._journal = journal

    def poll(self, namespace: str) -> TaskInstance | None:
        raw = self._client.poll(namespace)
        if raw is None:
            return None
        instance = self.instance(raw, namespace)
        try:
            self._journal.taken(instance)
        except StateError as exc:  # run it all the same; only a crash now would go unreported
            log.error("%s: %s", instance.ref, exc)
        return instance

    def instance(self, raw: Mapping[str, Any], namespace: str) -> TaskInstance:
        instance_id = raw.get("id")
        if isinstance(instance_id, bool) or not isinstance(instance_id, str | int):
            raise PlatformError(
                f"polling {namespace}: a task instance without a usable id: {str(raw)[:300]}",
                transient=False,
            )
        problem = self._contracts.check("task-instance.schema.json", raw, "task instance")
        input_data = raw.get("inputData")
        timeout_ms = raw.get("timeOutInMillis")
        return TaskInstance(
            id=instance_id,
            namespace=str(raw.get("catalogTaskDefinitionNamespace") or namespace),
            name=str(raw.get("catalogTaskDefinitionName") or "?"),
            input_data=input_data if isinstance(input_data, dict) else {},
            timeout_ms=timeout_ms if isinstance(timeout_ms, int) else None,
            rejection=f"malformed task instance from the platform: {problem}" if problem else None,
        )


INTERRUPTED = (
    "the task was interrupted: the runner stopped (crashed or was killed) while the task "
    "ran, and its container was removed when the runner restarted"
)


class Runner:
    """The runner's parts, built from its settings: `publish()`, `run()`, then `close()`."""

    def __init__(
        self, settings: RunnerSettings, engine: Engine, contracts: Contracts | None = None
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.contracts = contracts or Contracts()
        check_policies(settings, engine)
        self.catalog = load_catalog(settings.images, engine, self.contracts)
        self.client = PlatformClient(
            settings.server_url, settings.api_key, timeout_s=settings.http_timeout_s
        )
        self.outbox = Outbox(
            settings.state_dir, settings.runner_id, max_statuses=settings.outbox_max_statuses
        )
        # Owed statuses of an earlier run start going out now, before anything else.
        self.statuses = StatusSender(self.client.post_status, self.outbox)
        self.cancellations = CancelWatch(
            partial(self.client.is_cancelled, settings.cancel_url) if settings.cancel_url else None,
            settings.cancel_check_s,
        )
        executor = TaskExecutor(
            catalog=self.catalog,
            engine=engine,
            contracts=self.contracts,
            statuses=self.statuses,
            settings=settings,
            cancellations=self.cancellations,
        )
        self.worker = Worker(
            PlatformQueue(self.client, self.contracts, self.outbox),
            executor,
            namespaces=self.catalog.namespaces,
            concurrency=settings.concurrency,
            idle=Backoff(base_s=0.05, cap_s=settings.poll_max_interval_s),
            failing=Backoff(base_s=0.5, cap_s=_FAILING_CAP_S),
            drain_timeout_s=settings.drain_timeout_s,
            ready=self.ready,
        )

    def ready(self) -> str | None:
        """Why no new task should be taken now, or None."""
        return self.statuses.blocked() or self.engine.trouble()

    def publish(self, stop: threading.Event) -> bool:
        """Publish each namespace's catalog, retrying while the platform is unreachable.

        AuthError and other refusals propagate; False if `stop` was set first.
        """
        backoff = Backoff(base_s=0.5, cap_s=_FAILING_CAP_S)
        for namespace in self.catalog.namespaces:
            definitions = self.catalog.definitions(namespace)
            while True:
                try:
                    self.client.publish_catalog(
                        namespace, definitions, remove_previous=self.settings.remove_previous_tasks
                    )
                    break
                except PlatformError as exc:
                    if not exc.transient:
                        raise
                    delay = backoff.next()
                    log.warning("%s; trying again in %.1f s", exc, delay)
                    if stop.wait(delay):
                        return False
            log.info("published %d task(s) of namespace %s", len(definitions), namespace)
        return True

    def recover(self) -> None:
        """After a crash: remove this runner id's containers, end the tasks it was running."""
        self.remove_leftovers("start-up")
        for taken in self.outbox.unfinished():
            log.warning("%s: interrupted by the runner's previous stop; posting Error", taken.ref)
            self.statuses.submit(error_status(taken.instance_id, INTERRUPTED))

    def remove_leftovers(self, when: str) -> None:
        removed = self.engine.remove_labelled({LABEL_RUNNER_ID: self.settings.runner_id})
        if removed:
            log.warning(
                "%s: removed %d container(s) of runner %s: %s",
                when,
                len(removed),
                self.settings.runner_id,
                ", ".join(c[:12] for c in removed),
            )

    def run(self) -> None:
        """Poll and run tasks until the worker is asked to stop; then drain and flush."""
        self.recover()
        log.info(
            "runner %s polling %s with %d slot(s)",
            self.settings.runner_id,
            ", ".join(self.catalog.namespaces),
            self.settings.concurrency,
        )
        try:
            self.worker.run()
        finally:
            self.cancellations.close()
            self.statuses.close(_FLUSH_TIMEOUT_S)
            self.remove_leftovers("shutdown")
            log.info("runner %s stopped", self.settings.runner_id)

    def close(self) -> None:
        """Release the platform connections and the state directory."""
        # After run() these two are already closed (run() flushes before it returns, so
        # whoever waits on run() sees every status); for a runner never run, they are not.
        self.cancellations.close()
        self.statuses.close(_FLUSH_TIMEOUT_S)
        self.client.close()
        self.outbox.close()


@contextmanager
def stop_on_signals(worker: Worker) -> Iterator[None]:
    """SIGTERM/SIGINT: the first drains, the second stops running tasks now."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        worker.request_stop()  # only sets flags: logging is not safe in a handler

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)

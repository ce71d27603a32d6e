"""The runner's parts, built from its settings and wired together: the one place that knows
every concrete part (the engine, Docker or Kubernetes, and its warm pool, the platform
client, the schema contracts, the state store, the operations listener); the worker loop
and the executor see only their interfaces."""

from __future__ import annotations

import logging
from functools import partial
from typing import TYPE_CHECKING

from runner.app.images import ImageWait, ServedImages
from runner.app.operations import build_listener, build_metrics, catalog_tasks, stuck_after_s
from runner.app.parts import image_puller, open_state, pool_targets, usage_source
from runner.app.publication import Publication
from runner.app.recovery import Doctor
from runner.app.secrecy import redacting
from runner.app.startup import (
    end_interrupted,
    execution_settings,
    remove_leftovers,
    task_secrets,
)
from runner.config.settings import RunnerSettings
from runner.contracts import Contracts
from runner.core.backoff import IDLE_POLL_BASE_S, PLATFORM_FAILING, Backoff
from runner.core.catalog import Catalog
from runner.core.observer import NullObserver, Observer
from runner.engine.pool import ContainerPool
from runner.ops.logs import redacted
from runner.scenario.client import PlatformClient
from runner.scenario.queue import PlatformQueue
from runner.worker.cancellation import CancelWatch
from runner.worker.delivery import StatusSender
from runner.worker.executor import TaskExecutor
from runner.worker.faults import RunnerFaults
from runner.worker.loop import Worker
from runner.worker.tasklogs import TaskLogs, TaskLogSender

if TYPE_CHECKING:
    from runner.app.parts import AnyEngine, AnyRegistry

log = logging.getLogger(__name__)

_FLUSH_TIMEOUT_S = 10.0  # what is left stays in the outbox for the next start


class Runner:
    """Built from the settings; then `start()`, `publish()`, `run()`, and `close()` once.
    `await_images`: the images the engine lacks are served once it has them, not refused."""

    def __init__(
        self, settings: RunnerSettings, engine: AnyEngine, registry: AnyRegistry,
        *, await_images: bool = False,
    ) -> None:  # fmt: skip
        self.settings = settings
        self.engine = engine
        self.contracts = Contracts()
        self.secrets, self.has_secrets = task_secrets(settings, engine)
        self.puller = image_puller(settings, engine, registry)
        self.images = self._served_images(self.puller.missing() if await_images else [])
        self.image_wait = ImageWait(self.images)
        self.client = PlatformClient(
            settings.server_url, settings.api_key, timeout_s=settings.http_timeout_s
        )
        self.state = open_state(settings)
        self.metrics = build_metrics(settings, self.catalog)
        self.observer: Observer = self.metrics or NullObserver()
        self.faults = RunnerFaults()
        self.statuses = StatusSender(
            self.client.post_status, self.state.outbox, observer=self.observer
        )
        self.cancellations = CancelWatch(
            partial(self.client.is_cancelled, settings.cancel_url) if settings.cancel_url else None,
            settings.cancel_check_s,
            self.observer,
        )
        self.pool = self._pool()
        self.executor = self._executor()
        self.worker = self._worker()
        self.doctor = self._doctor()
        self.publication = Publication(
            lambda: self.catalog,
            partial(self.client.publish_catalog, remove_previous=settings.remove_previous_tasks),
            self.worker.stopping,
            self.observer.platform_error,
        )
        self.images.on_change = self._catalog_changed
        self.listener = (
            build_listener(settings, self.metrics, self, self.faults) if self.metrics else None
        )

    def _served_images(self, awaited: list[str]) -> ServedImages:
        """The images, pulled as their policies say, and their catalogs (awaited: later)."""
        self.puller.prepare(awaited)
        images = ServedImages(
            self.settings.images, self.engine, self.contracts.check_catalog, awaited
        )
        self.puller.on_pulled, self.puller.serving = images.refresh, images.describe
        return images

    def _pool(self) -> ContainerPool:
        return ContainerPool(
            self.secrets,
            pool_targets(self.settings),
            runner_id=self.settings.runner_id,
            on_moved=self.images.moved,
            observer=self.observer,
            secrets=self.secrets,
            health=self.faults,
        )

    def _doctor(self) -> Doctor:
        return Doctor(
            engine=self.engine,
            launcher=self.secrets,
            faults=self.faults,
            images=self.settings.images,
            policies=self.settings.policies,
            runner_id=self.settings.runner_id,
            repull=self.puller.recover,
        )

    def _executor(self) -> TaskExecutor:
        # Each task's log, to a server that takes them (the local server's cockpit).
        self.task_logs = TaskLogSender(
            self.client.post_task_log, lambda: self.client.takes_task_logs, clean=redacted
        )
        self.usage = usage_source(self.settings)  # what each task used, read as set
        return TaskExecutor(
            catalog=self.catalog,
            engine=self.pool,
            contracts=self.contracts,
            statuses=redacting(self.statuses, self.has_secrets),
            settings=execution_settings(self.settings, self.images),
            cancellations=self.cancellations,
            handouts=self.state.journal,
            observer=self.observer,
            health=self.faults,
            task_logs=TaskLogs(self.settings.runner_id, self.task_logs),
            usage=self.usage.readers(),
        )

    def _worker(self) -> Worker:
        return Worker(
            PlatformQueue(self.client, self.contracts, self.state.journal),
            self.executor,
            namespaces=self.catalog.namespaces,
            concurrency=self.settings.concurrency,
            idle=Backoff(base_s=IDLE_POLL_BASE_S, cap_s=self.settings.poll_max_interval_s),
            failing=PLATFORM_FAILING.backoff(),
            drain_timeout_s=self.settings.drain_timeout_s,
            ready=self.ready,
            paused=self.paused_namespaces,
            observer=self.observer,
            claims=self.settings.policies.caps.claims(self.catalog),
        )

    @property
    def catalog(self) -> Catalog:
        """The served images' catalog, as it is now."""
        return self.images.catalog

    def ready(self) -> str | None:
        """Why no new task should be taken now, or None. From memory: never waits."""
        return self.statuses.blocked() or self.faults.engine_problem()

    def paused_namespaces(self) -> tuple[set[str], str]:
        """The namespaces not to poll now (an image of theirs cannot be launched), and why."""
        problems = self.faults.image_problems()
        if not problems:
            return set(), ""
        namespaces = {route.namespace for route in self.catalog if route.image in problems}
        why = "; ".join(f"image {image} cannot be launched: {d}" for image, d in problems.items())
        return namespaces, why

    def readiness(self) -> str | None:
        """Why the runner does not take all its tasks now, or None (for /readyz). From
        memory: never waits."""
        if self.worker.stopping.is_set():
            return "the runner is stopping"
        if not self.publication.published:
            return f"the catalog is not published yet: {self.publication.problem}"
        paused, why = self.paused_namespaces()
        return (
            self.ready()
            or self.worker.platform_problem()
            or (f"namespace(s) {', '.join(sorted(paused))} not polled: {why}" if paused else None)
        )

    def health(self) -> str | None:
        """Why the poll loop or the status sender has stopped or is stuck, or None."""
        stuck_s = stuck_after_s(self.settings)
        loop = self.worker.heartbeat.trouble("the poll loop", stuck_s)
        return loop or self.statuses.trouble(stuck_s)

    def outbox_pending(self) -> int:
        return self.statuses.pending()

    def served_images(self) -> list[dict[str, str | None]]:
        return self.images.served()

    def start(self) -> None:
        """Listen for operations (first: a port taken stops the runner before anything runs),
        follow the engine's image events, watch the engine, deliver statuses (an earlier
        run's owed ones first) and watch for cancellations."""
        if self.listener is not None:
            self.listener.start()
        self.engine.follow_image_events()
        self.state.start()
        self.doctor.start()
        self.statuses.start()
        self.task_logs.start()
        self.cancellations.start()

    def _catalog_changed(self, catalog: Catalog, namespaces: list[str]) -> None:
        """An image's catalog changed: route and poll with it at once; publish it in the
        background."""
        self.executor.use_catalog(catalog)
        self.worker.use_namespaces(catalog.namespaces, catalog)
        if self.metrics is not None:
            self.metrics.add_tasks(catalog_tasks(catalog))
        if namespaces:
            self.publication.again(namespaces)

    def run(self) -> None:
        """Recover from an earlier crash, fill the warm pool, then poll and run tasks until
        the worker is asked to stop, and drain."""
        self._recover()
        self.pool.start(self.images.ids)
        self.puller.start()
        self.image_wait.start()
        log.info(
            "runner %s polling %s with %d slot(s); warm containers per image: %s",
            self.settings.runner_id,
            ", ".join(self.catalog.namespaces),
            self.settings.concurrency,
            ", ".join(f"{t.image} {t.size}" for t in pool_targets(self.settings)),
        )
        self.worker.run()

    def _recover(self) -> None:
        """End the tasks an earlier run was running, removing their containers, then every
        other container of this runner id (warm ones included), and their secrets' copies."""
        end_interrupted(
            self.state.journal.unfinished(),
            self.engine,
            self.statuses,
            platform=self.state.platform,
            keep=self.state.outbox.put,
        )
        remove_leftovers(self.engine, self.settings.runner_id, "start-up")
        self.secrets.files.clear()

    def close(self) -> None:
        """Stop what `start()` and `run()` started, delivering what is owed for a while;
        remove this runner's containers (the warm ones first); release the connections and
        the state directory."""
        if self.listener is not None:
            self.listener.stop()
        self.cancellations.stop()
        self.image_wait.stop()
        self.puller.stop()
        self.doctor.stop()
        try:
            self.pool.close()
            self.statuses.stop(_FLUSH_TIMEOUT_S)
            self.task_logs.stop()
            self.usage.close()
            remove_leftovers(self.engine, self.settings.runner_id, "shutdown")
            self.secrets.files.clear()
        finally:
            self.client.close()
            self.state.close()
            log.info("runner %s stopped", self.settings.runner_id)

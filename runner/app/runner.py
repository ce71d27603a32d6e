"""The runner's parts, built from its settings and wired together: the one place that knows
every concrete part (the Docker engine and its warm pool, the platform client, the schema
contracts, the state store, the operations listener); the worker loop and the executor see
only their interfaces."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial

from runner.app.images import ServedImages
from runner.app.operations import build_listener, build_metrics, catalog_tasks, stuck_after_s
from runner.app.parts import connect_engine, image_puller, pool_targets
from runner.app.secrecy import redacting
from runner.app.signals import stop_on_signals
from runner.app.startup import (
    INTERRUPTED,
    execution_settings,
    publish_catalogs,
    task_secrets,
)
from runner.config.settings import RunnerSettings
from runner.contracts import Contracts
from runner.core.backoff import IDLE_POLL_BASE_S, PLATFORM_FAILING, Backoff
from runner.core.catalog import Catalog
from runner.core.errors import PlatformError
from runner.core.model import error_status
from runner.core.observer import NullObserver, Observer
from runner.core.taskcontext import about_task
from runner.engine.docker_engine import DockerEngine
from runner.engine.interface import LABEL_RUNNER_ID
from runner.engine.pool import ContainerPool
from runner.engine.registry import DockerRegistry
from runner.ops.logs import redact, redacted
from runner.scenario.client import PlatformClient
from runner.scenario.queue import PlatformQueue
from runner.state.store import StateStore
from runner.worker.cancellation import CancelWatch
from runner.worker.delivery import StatusSender
from runner.worker.executor import TaskExecutor
from runner.worker.loop import Worker
from runner.worker.tasklogs import TaskLogs, TaskLogSender

log = logging.getLogger(__name__)

_FLUSH_TIMEOUT_S = 10.0  # what is left stays in the outbox for the next start


class Runner:
    """Built from the settings; then `start()`, `publish()`, `run()`, and `close()` once."""

    def __init__(
        self, settings: RunnerSettings, engine: DockerEngine, registry: DockerRegistry
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.contracts = Contracts()
        self.secrets, self.has_secrets = task_secrets(settings, engine)
        self.puller = image_puller(settings, engine, registry)
        self.images = self._served_images()
        self.client = PlatformClient(
            settings.server_url, settings.api_key, timeout_s=settings.http_timeout_s
        )
        self.state = StateStore(
            settings.state_dir, settings.runner_id, max_statuses=settings.outbox_max_statuses
        )
        self.metrics = build_metrics(settings, self.catalog)
        self.observer: Observer = self.metrics or NullObserver()
        self.statuses = StatusSender(
            self.client.post_status, self.state.outbox, observer=self.observer
        )
        # Each task's log, to a server that takes them (the local server's cockpit).
        self.task_logs = TaskLogSender(
            self.client.post_task_log, lambda: self.client.takes_task_logs, clean=redacted
        )
        self.cancellations = CancelWatch(
            partial(self.client.is_cancelled, settings.cancel_url) if settings.cancel_url else None,
            settings.cancel_check_s,
            self.observer,
        )
        self.pool = self._pool()
        self.executor = self._executor()
        self.worker = self._worker()
        self.images.on_change = self._catalog_changed
        self.published = False
        self.listener = (
            build_listener(settings, self.metrics, self, lambda: engine.trouble() is None)
            if self.metrics
            else None
        )

    def _served_images(self) -> ServedImages:
        """The images, pulled as their policies say, and their catalogs."""
        self.puller.prepare()
        images = ServedImages(self.settings.images, self.engine, self.contracts.check_catalog)
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
        )

    def _executor(self) -> TaskExecutor:
        return TaskExecutor(
            catalog=self.catalog,
            engine=self.pool,
            contracts=self.contracts,
            statuses=redacting(self.statuses, self.has_secrets),
            settings=execution_settings(self.settings),
            cancellations=self.cancellations,
            handouts=self.state.journal,
            observer=self.observer,
            task_logs=TaskLogs(self.settings.runner_id, self.task_logs),
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
            observer=self.observer,
        )

    @property
    def catalog(self) -> Catalog:
        """The served images' catalog, as it is now."""
        return self.images.catalog

    def ready(self) -> str | None:
        """Why no new task should be taken now, or None."""
        return self.statuses.blocked() or self.engine.trouble()

    def readiness(self) -> str | None:
        """Why the runner takes no task now, or None (for /readyz)."""
        if self.worker.stopping.is_set():
            return "the runner is stopping"
        if not self.published:
            return "the catalog is not published yet"
        return self.ready()

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
        """Listen for operations (first: a port already taken stops the runner before
        anything runs), start delivering statuses (an earlier run's owed ones first) and
        watching for cancellations."""
        if self.listener is not None:
            self.listener.start()
        self.statuses.start()
        self.task_logs.start()
        self.cancellations.start()

    def publish(self, stop: threading.Event, namespaces: list[str] | None = None) -> bool:
        """Publish the catalog (of these namespaces); False if `stop` was set before it could
        be."""
        published = publish_catalogs(
            self.catalog,
            partial(
                self.client.publish_catalog, remove_previous=self.settings.remove_previous_tasks
            ),
            stop,
            namespaces,
            on_error=self.observer.platform_error,
        )
        self.published = self.published or (published and namespaces is None)
        return published

    def _catalog_changed(self, catalog: Catalog, namespaces: list[str]) -> None:
        """An image's catalog changed: route and poll with it at once; publish it in the
        background."""
        self.executor.use_catalog(catalog)
        self.worker.use_namespaces(catalog.namespaces)
        if self.metrics is not None:
            self.metrics.add_tasks(catalog_tasks(catalog))
        if namespaces:
            threading.Thread(
                target=self._republish, args=(namespaces,), name="catalog-publisher", daemon=True
            ).start()

    def _republish(self, namespaces: list[str]) -> None:
        try:
            self.publish(self.worker.stopping, namespaces)
        except PlatformError as exc:
            log.error("the platform refused the changed catalog of %s: %s", namespaces, exc)

    def run(self) -> None:
        """Recover from an earlier crash, fill the warm pool, then poll and run tasks until
        the worker is asked to stop, and drain."""
        self._recover()
        self.pool.start(self.images.ids)
        self.puller.start()
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
        for taken in self.state.journal.unfinished():
            with about_task(taken.namespace, taken.name, taken.instance_id):
                log.warning(
                    "%s: interrupted by the runner's previous stop; posting Error", taken.ref
                )
                if taken.container:
                    log.warning("%s: removing its container %s", taken.ref, taken.container[:12])
                    self.engine.remove_container(taken.container)
                self.statuses.submit(error_status(taken.instance_id, INTERRUPTED))
        self._remove_leftovers("start-up")
        self.secrets.files.clear()

    def _remove_leftovers(self, when: str) -> None:
        removed = self.engine.remove_labelled({LABEL_RUNNER_ID: self.settings.runner_id})
        if removed:
            log.warning(
                "%s: removed %d container(s) of runner %s: %s",
                when,
                len(removed),
                self.settings.runner_id,
                ", ".join(c[:12] for c in removed),
            )

    def close(self) -> None:
        """Stop what `start()` and `run()` started, delivering what is owed for a while;
        remove this runner's containers (the warm ones first); release the connections and
        the state directory."""
        if self.listener is not None:
            self.listener.stop()
        self.cancellations.stop()
        self.puller.stop()
        try:
            self.pool.close()
            self.statuses.stop(_FLUSH_TIMEOUT_S)
            self.task_logs.stop()
            self._remove_leftovers("shutdown")
            self.secrets.files.clear()
        finally:
            self.client.close()
            self.state.close()
            log.info("runner %s stopped", self.settings.runner_id)


@contextmanager
def open_runner(settings: RunnerSettings) -> Iterator[Runner | None]:
    """A started runner whose catalog is published, SIGTERM/SIGINT wired to its worker;
    closed on the way out. None when a signal came before the catalog was published."""
    redact(settings.api_key)  # a line that would show it shows <redacted> instead
    log.info("starting: %s", settings.describe())
    engine = connect_engine(settings)
    try:
        registry = DockerRegistry()
        for credential in registry.credentials():
            redact(credential)
        try:
            runner = Runner(settings, engine, registry)
            try:
                runner.start()
                with stop_on_signals(runner.worker):
                    yield runner if runner.publish(runner.worker.stopping) else None
            finally:
                runner.close()
        finally:
            registry.close()
    finally:
        engine.close()

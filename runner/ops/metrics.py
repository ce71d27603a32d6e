"""The runner's Prometheus metrics, on a registry of their own, fed as an Observer.

Label values stay bounded: namespaces and tasks come from the catalog, and a task the
catalog does not have (the platform may hand out anything) is counted as UNKNOWN; images
come from the settings. Task instance ids are never labels (they are on /status). A task's
series exist once it first ran (then all of them, at 0, so that sums see them), never for
the whole catalog up front: a scrape's size follows the tasks that ran, not the catalog's.
"""

from __future__ import annotations

import platform
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
)

from runner.core.model import ERROR_REASONS, ErrorReason, StatusName, TaskInstance, fault_of
from runner.core.observer import Began, PollResult
from runner.core.usage import Usage
from runner.ops.usagemetrics import UsageMetrics

# No `_created` series (when each counter began): in the text format they would double the
# series scraped, for a time nobody reads. A process-wide switch; these are its only metrics.
disable_created_metrics()  # type: ignore[no-untyped-call]  # the library leaves it unannotated

# The label value of a namespace or task that is not in the catalog: `#` cannot occur in
# a catalog identifier, so it never collides with a real one.
UNKNOWN = "#unknown"
# From a few milliseconds (a task refused before any container starts) to the default
# task timeout of an hour.
DURATION_BUCKETS_S = (
    *(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5),
    *(1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0),
)
STATUSES: tuple[StatusName, ...] = ("Completed", "Error")
STARTS: tuple[Began, ...] = ("warm", "cold", "none")
POLL_RESULTS: tuple[PollResult, ...] = ("task", "empty", "error")


@dataclass(frozen=True)
class Running:
    """A task instance that has started and not ended yet, for /status."""

    instance_id: str
    namespace: str
    task: str
    started: float  # monotonic


class Metrics:
    """Every metric, and the running tasks; implements runner.core.observer.Observer."""

    def __init__(
        self,
        tasks: Iterable[tuple[str, str]],
        *,
        images: Sequence[str],
        slots: int,
        version: str = "",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._tasks = frozenset(tasks)
        self._namespaces = frozenset(namespace for namespace, _ in self._tasks)
        self._images = frozenset(images)
        self._clock = clock
        self._running: dict[str, Running] = {}
        self._ran: set[tuple[str, str]] = set()  # (namespace, task) label values seen
        self._lock = threading.Lock()
        self.registry = CollectorRegistry(auto_describe=True)
        self._define()
        self._slots.set(slots)
        self._build_info.labels(version, platform.python_version()).set(1)
        self._zero(images)
        ProcessCollector(registry=self.registry)

    def _define(self) -> None:
        registry = self.registry
        self._tasks_total = Counter(
            "xc_runner_tasks",
            "Task instances that ended, by terminal status and container start (warm: taken "
            "from the pool of started containers; none: it never got a container)",
            ("namespace", "task", "status", "start"),
            registry=registry,
        )
        self._errors = Counter(
            "xc_runner_task_errors",
            "Task instances that ended in Error, by reason, and whose fault it was (task, "
            "runner or user)",
            ("namespace", "task", "reason", "fault"),
            registry=registry,
        )
        self._duration = Histogram(
            "xc_runner_task_duration_seconds",
            "Time from a task instance's hand-out to its terminal status",
            ("namespace", "task"),
            buckets=DURATION_BUCKETS_S,
            registry=registry,
        )
        self._usage = UsageMetrics(registry)
        running = Gauge("xc_runner_tasks_running", "Task instances running now", registry=registry)
        running.set_function(lambda: len(self._running))
        self._define_state()
        self._define_requests()

    def _define_state(self) -> None:
        """The gauges of the runner's state."""
        registry = self.registry
        self._build_info = Gauge(
            "xc_runner_build_info",
            "Always 1: the runner's version and Python",
            ("version", "python"),
            registry=registry,
        )
        self._ready = Gauge(
            "xc_runner_ready",
            "1 if the runner takes tasks (what /readyz says), else 0",
            registry=registry,
        )
        self._image_up = Gauge(
            "xc_runner_image_available",
            "1 if the runner can launch containers of the served image, else 0",
            ("image",),
            registry=registry,
        )
        self._slots = Gauge("xc_runner_slots", "Tasks run at once at most", registry=registry)
        self._engine_up = Gauge(
            "xc_runner_engine_up",
            "1 if the container engine answers and starts containers, else 0",
            registry=registry,
        )
        self._pool_idle = Gauge(
            "xc_runner_pool_idle_containers",
            "Started containers waiting in the pool for a task, by image",
            ("image",),
            registry=registry,
        )

    def _define_requests(self) -> None:
        """What the platform is asked, and what waits to be sent to it."""
        registry = self.registry
        self._outbox = Gauge(
            "xc_runner_outbox_pending", "Statuses not delivered yet", registry=registry
        )
        self._polls = Counter(
            "xc_runner_polls", "Polls of a task queue, by result", ("result",), registry=registry
        )
        self._platform_errors = Counter(
            "xc_runner_platform_errors",
            "Requests to the platform that failed (catalog publication, polls, status posts, "
            "cancellation checks)",
            registry=registry,
        )

    def add_tasks(self, tasks: Iterable[tuple[str, str]]) -> None:
        """Tasks a changed catalog declares now (those it dropped stay: still bounded)."""
        with self._lock:
            self._tasks |= frozenset(tasks)
            self._namespaces = frozenset(namespace for namespace, _ in self._tasks)

    def _zero(self, images: Sequence[str]) -> None:
        """The label sets known in advance (and small) start at 0, so rates and sums see
        them at once."""
        for result in POLL_RESULTS:
            self._polls.labels(result)
        for image in images:
            self._pool_idle.labels(image).set(0)

    def _ran_once(self, namespace: str, task: str) -> None:
        """A task's first end: its series appear, each at 0, before it is counted."""
        with self._lock:
            if (namespace, task) in self._ran:
                return
            self._ran.add((namespace, task))
        self._duration.labels(namespace, task)
        for status in STATUSES:
            for start in STARTS:
                self._tasks_total.labels(namespace, task, status, start)
        for reason in ERROR_REASONS:
            self._errors.labels(namespace, task, reason, fault_of(reason))
        self._usage.zero(namespace, task)

    def watch(
        self,
        *,
        outbox_pending: Callable[[], int],
        engine_up: Callable[[], bool],
        ready: Callable[[], bool],
        image_up: Callable[[str], bool],
    ) -> None:
        """Gauges read when scraped (from memory: none may wait on the engine or platform)."""
        self._outbox.set_function(lambda: float(outbox_pending()))
        self._engine_up.set_function(lambda: 1.0 if engine_up() else 0.0)
        self._ready.set_function(lambda: 1.0 if ready() else 0.0)
        for image in self._images:
            self._image_up.labels(image).set_function(
                lambda image=image: 1.0 if image_up(image) else 0.0  # type: ignore[misc]
            )

    def labels(self, namespace: str, task: str) -> tuple[str, str]:
        """The (namespace, task) label values of a task instance: UNKNOWN for what the
        catalog does not have."""
        if (namespace, task) in self._tasks:
            return namespace, task
        return (namespace if namespace in self._namespaces else UNKNOWN), UNKNOWN

    def running(self) -> list[Running]:
        """The running task instances, oldest first."""
        with self._lock:
            return sorted(self._running.values(), key=lambda r: r.started)

    def age_s(self, running: Running) -> float:
        return self._clock() - running.started

    # The Observer's events.

    def task_started(self, instance: TaskInstance) -> None:
        key = str(instance.id)
        with self._lock:
            self._running[key] = Running(key, instance.namespace, instance.name, self._clock())

    def task_ended(
        self,
        instance: TaskInstance,
        status: StatusName,
        duration_s: float,
        start: Began,
        reason: ErrorReason | None,
    ) -> None:
        with self._lock:
            self._running.pop(str(instance.id), None)
        namespace, task = self.labels(instance.namespace, instance.name)
        self._ran_once(namespace, task)
        self._tasks_total.labels(namespace, task, status, start).inc()
        self._duration.labels(namespace, task).observe(duration_s)
        if status == "Error":
            why = reason or "internal"
            self._errors.labels(namespace, task, why, fault_of(why)).inc()

    def task_used(self, instance: TaskInstance, usage: Usage) -> None:
        namespace, task = self.labels(instance.namespace, instance.name)
        self._usage.observe(namespace, task, usage)

    def polled(self, result: PollResult) -> None:
        self._polls.labels(result).inc()

    def platform_error(self) -> None:
        self._platform_errors.inc()

    def pool_idle(self, image: str, idle: int) -> None:
        self._pool_idle.labels(image if image in self._images else UNKNOWN).set(idle)

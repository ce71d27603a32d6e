"""The worker loop: poll while slots are free, run tasks, drain on stop.

It orchestrates only: where tasks come from and how they run sit behind the
two small interfaces below, and whether to take tasks at all behind a check.
One thread polls; each running task has a thread of a bounded pool. Task types
and images capped (`max_running`, runner.core.caps) are never polled at their cap.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Protocol

from runner.core.backoff import Backoff
from runner.core.caps import Caps, Claims
from runner.core.catalog import TaskRoute
from runner.core.condition import Condition, Say, log_said
from runner.core.errors import AuthError, PlatformError
from runner.core.heartbeat import Heartbeat, wait_beating
from runner.core.model import TaskInstance
from runner.core.observer import NullObserver, Observer

log = logging.getLogger(__name__)


class TaskSource(Protocol):
    def poll(self, namespace: str, name: str | None = None) -> TaskInstance | None:
        """The next task instance of `namespace` (of its task `name`, if given), or None when
        its queue is empty."""


class Executor(Protocol):
    def execute(self, instance: TaskInstance, stop: threading.Event) -> object:
        """Run the instance to its terminal status; `stop` set means stop it now. What it
        returns (a report of the run) is the executor's business."""


# Why no new task should be taken now (statuses undeliverable, engine down), or None.
ReadyCheck = Callable[[], "str | None"]
# The namespaces not to poll now (their image cannot be launched), and why.
Paused = Callable[[], "tuple[Collection[str], str]"]

_PAUSED_CHECK_S = 1.0
# Polls failing this many times in a row: the runner is not ready (the platform is down).
FAILED_POLLS_NOT_READY = 3


def _nothing_paused() -> tuple[Collection[str], str]:
    return (), ""


class Worker:
    def __init__(  # noqa: PLR0913 -- all but two keyword-only, each a setting of its own
        self,
        source: TaskSource,
        executor: Executor,
        *,
        namespaces: Sequence[str],
        concurrency: int,
        idle: Backoff,
        failing: Backoff,
        drain_timeout_s: float,
        ready: ReadyCheck = lambda: None,
        paused: Paused = _nothing_paused,
        observer: Observer | None = None,
        claims: Claims | None = None,
    ) -> None:
        self._source = source
        self._claims = claims or Claims(Caps())
        self._executor = executor
        self._namespaces = tuple(namespaces)
        self._concurrency = concurrency
        self._slots = threading.BoundedSemaphore(concurrency)
        self._idle = idle
        self._failing = failing
        self._drain_timeout_s = drain_timeout_s
        self._ready = ready
        self._paused_namespaces = paused
        self._observer = observer or NullObserver()
        self.heartbeat = Heartbeat()  # beats at every step and while waiting
        self._paused: str | None = None
        self._skipped: frozenset[str] = frozenset()
        self._polling = Condition(
            "the platform's task queue cannot be polled", "polling the platform works again"
        )
        self._next_namespace = 0
        self.stopping = threading.Event()  # no new tasks; let running ones finish
        self.aborting = threading.Event()  # stop running tasks now
        self._running: set[Future[None]] = set()

    def request_stop(self) -> None:
        """First signal: warm stop. Safe to call from a signal handler."""
        if self.stopping.is_set():
            self.aborting.set()
        self.stopping.set()

    def run(self) -> None:
        try:
            with ThreadPoolExecutor(self._concurrency, thread_name_prefix="task") as pool:
                while not self.stopping.is_set():
                    self._step(pool)
                self._drain()
        finally:
            self.heartbeat.end()

    def _step(self, pool: ThreadPoolExecutor) -> None:
        self.heartbeat.beat()
        if not self._slots.acquire(timeout=0.2):
            return
        try:
            if self._pause_for(self._ready()):
                self._release_and_wait(_PAUSED_CHECK_S)
                return
            instance = self._poll_round()
        except PlatformError as exc:
            self._observer.platform_error()
            delay = self._failing.next()
            hint = ": is XC_SCENARIO_APIKEY still valid?" if isinstance(exc, AuthError) else ""
            log.debug("%s%s; polling again in %.1f s", exc, hint, delay)
            _log(self._polling.failed(f"{exc}{hint}", time.monotonic(), "polling again later"))
            self._release_and_wait(delay)
            return
        except Exception:  # a bug must not end the loop; it is logged and backed off from
            delay = self._failing.next()
            log.exception("polling failed; polling again in %.1f s", delay)
            self._release_and_wait(delay)
            return
        self._failing.reset()
        _log(self._polling.ok(time.monotonic()))
        if instance is None:
            self._release_and_wait(self._idle.next())
            return
        self._idle.reset()
        self._claims.taken(instance.namespace, instance.name)
        future = pool.submit(self._execute, instance)
        self._running.add(future)
        future.add_done_callback(self._running.discard)

    def _pause_for(self, reason: str | None) -> bool:
        """Log when taking tasks pauses and resumes; True while paused."""
        if reason is not None and self._paused is None:
            log.info("not taking new tasks: %s", reason)
        elif reason is None and self._paused is not None:
            log.info("taking new tasks again")
        self._paused = reason
        return reason is not None

    def platform_problem(self) -> str | None:
        """Why the platform is not usable now (polls keep failing), or None. From memory."""
        failed = self._polling.failures
        if failed < FAILED_POLLS_NOT_READY:
            return None
        return f"the platform's task queue cannot be polled ({failed} polls failed in a row): " + (
            self._polling.detail
        )

    def use_namespaces(
        self, namespaces: Sequence[str], routes: Iterable[TaskRoute] | None = None
    ) -> None:
        """Poll these namespaces (and cap these tasks) from the next round on (the catalog
        changed). Safe to call from any thread."""
        if routes is not None:
            self._claims.use_routes(routes)
        self._namespaces = tuple(namespaces)

    def _poll_round(self) -> TaskInstance | None:
        """One poll of each namespace, in turn, until one hands out a task."""
        namespaces = self._pollable()
        for _ in namespaces:
            namespace = namespaces[self._next_namespace % len(namespaces)]
            self._next_namespace = (self._next_namespace + 1) % len(namespaces)
            instance = self._poll_namespace(namespace)
            if instance is not None:
                return instance
        return None

    def _poll_namespace(self, namespace: str) -> TaskInstance | None:
        """Its next task: of any type, or, while some are at their cap, of the others."""
        names = self._claims.names(namespace)
        if names is None:
            return self._poll(namespace)
        for name in names:
            instance = self._poll(namespace, name)
            if instance is not None:
                return instance
        return None

    def _pollable(self) -> tuple[str, ...]:
        """The namespaces to poll now: all but those paused, saying when that changes."""
        namespaces = self._namespaces  # one snapshot: use_namespaces may replace it
        paused, why = self._paused_namespaces()
        skipped = frozenset(paused) & frozenset(namespaces)
        if skipped != self._skipped:
            if skipped - self._skipped:
                log.warning("not polling namespace(s) %s: %s", ", ".join(sorted(skipped)), why)
            if back := self._skipped - skipped:
                log.info("polling namespace(s) %s again", ", ".join(sorted(back)))
            self._skipped = skipped
        return tuple(ns for ns in namespaces if ns not in skipped) if skipped else namespaces

    def _poll(self, namespace: str, name: str | None = None) -> TaskInstance | None:
        self.heartbeat.beat()
        try:
            instance = self._source.poll(namespace, name)
        except Exception:
            self._observer.polled("error")
            raise
        self._observer.polled("empty" if instance is None else "task")
        return instance

    def _release_and_wait(self, delay_s: float) -> None:
        self._slots.release()
        wait_beating(self.stopping, delay_s, self.heartbeat)

    def _execute(self, instance: TaskInstance) -> None:
        try:
            self._executor.execute(instance, self.aborting)
        finally:
            self._claims.ended(instance.namespace, instance.name)
            self._slots.release()

    def _drain(self) -> None:
        running = set(self._running)
        if running:
            log.info(
                "stopping: waiting up to %g s for %d running task(s); signal again to "
                "stop them now",
                self._drain_timeout_s,
                len(running),
            )
        deadline = time.monotonic() + self._drain_timeout_s
        while running and not self.aborting.is_set():
            self.heartbeat.beat()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                log.warning("drain timeout: stopping %d running task(s)", len(running))
                break
            running = wait(running, timeout=min(remaining, 0.2)).not_done
        self.aborting.set()
        wait(running)


def _log(said: Say | None) -> None:
    log_said(log, said)

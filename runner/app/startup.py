"""What the runner does once at start-up: check its task policies and secrets, publish the
catalogs (also when an image's catalog changed), and say how tasks an earlier run left
unfinished end. `run`, `exec` and `check` start their tasks' side the same way."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

from runner.app.secrecy import check_secrets, secret_launcher
from runner.config.oneshot import OneShotSettings
from runner.config.policy import loosened
from runner.config.settings import RunnerSettings
from runner.config.tasksections import unknown_tasks
from runner.core.backoff import PLATFORM_FAILING, Stopped, retry
from runner.core.catalog import Catalog
from runner.core.condition import Condition, log_said
from runner.core.errors import ConfigError, PlatformError
from runner.core.model import TaskStatus, error_status
from runner.core.policy import PolicyTable, TaskPolicy
from runner.core.taskcontext import about_task
from runner.engine.interface import LABEL_RUNNER_ID, Engine
from runner.engine.secrets import SecretLauncher
from runner.state.journal import Taken
from runner.worker.delivery import StatusSink
from runner.worker.executor import ExecutionSettings

log = logging.getLogger(__name__)

INTERRUPTED = (
    "the task was interrupted: the runner stopped (crashed or was killed) while the task "
    "ran, and its container was removed when the runner restarted"
)


class ImageInfo(Protocol):
    def runtimes(self) -> set[str]: ...


def check_policies(policies: PolicyTable, engine: ImageInfo) -> None:
    """Refuse runtimes the engine lacks; log every loosened default, so none is silent."""
    scopes = {"runner-wide": policies.default} | {
        f"image {image}": policy for image, policy in policies.images.items()
    }
    wanted = {p.limits.runtime for p in scopes.values()} - {""}
    missing = wanted - engine.runtimes() if wanted else set()
    if missing:
        raise ConfigError(
            f"runtime {', '.join(sorted(missing))} is not registered with the Docker engine, "
            "nor a RuntimeClass of the Kubernetes cluster (for gVisor: `make gvisor`, or see "
            "the README's security section)"
        )
    for scope, policy in scopes.items():
        reference = TaskPolicy() if scope == "runner-wide" else policies.default
        loose = loosened(policy, reference)
        if loose:
            log.warning("%s task policy loosens the defaults: %s", scope, "; ".join(loose))


# The settings of `run`, and of `exec` and `check`: both say how tasks run.
TaskSettings = RunnerSettings | OneShotSettings


def task_secrets(settings: TaskSettings, engine: Engine) -> tuple[SecretLauncher, bool]:
    """The task policies and every image's secrets checked (ConfigError naming what cannot
    be used); the launcher that gives each container its image's secrets, and whether any
    image has secrets. On Kubernetes the engine gives each Pod its secrets itself (a
    Secret), and nothing is copied on the runner's host."""
    check_policies(settings.policies, engine)
    copies = not isinstance(settings, RunnerSettings) or settings.engine == "docker"
    secrets = secret_launcher(engine, settings.secrets_dir, settings.runner_id, copies=copies)
    files = secrets.files if copies else None
    return secrets, check_secrets(settings.policies, secrets.reader, files)


def check_task_sections(policies: PolicyTable, catalog: Catalog) -> None:
    """Refuse sections of task types no served image declares; log every task type's section
    that loosens its image's policy."""
    declared = {f"{route.namespace}/{route.name}" for route in catalog}
    refused = unknown_tasks({**policies.tasks, **policies.caps.tasks}, declared)
    if refused:
        raise ConfigError(refused)
    for route in catalog:
        task = f"{route.namespace}/{route.name}"
        if task in policies.tasks:
            image = policies.for_image(route.image)
            loose = loosened(policies.for_task(route.image, route.namespace, route.name), image)
            if loose:
                log.warning("task type %s policy loosens its image's: %s", task, "; ".join(loose))


class Served(Protocol):
    catalog: Catalog  # of the images served now
    awaited: list[str]  # images being built, whose catalogs are not read yet


def execution_settings(settings: TaskSettings, served: Served | None = None) -> ExecutionSettings:
    """What the executor needs of the settings; the task type sections checked against the
    `served` images' catalogs, when given (ConfigError naming one no served image declares),
    unless some are still awaited (their tasks are not known yet)."""
    if served is not None and not served.awaited:
        check_task_sections(settings.policies, served.catalog)
    return ExecutionSettings(
        runner_id=settings.runner_id,
        policies=settings.policies,
        exit_grace_s=settings.exit_grace_s,
        stop_grace_s=settings.stop_grace_s,
    )


Publish = Callable[[str, Sequence[Mapping[str, Any]]], None]


def publish_catalogs(
    catalog: Catalog,
    publish: Publish,
    stop: threading.Event,
    namespaces: Sequence[str] | None = None,
    on_error: Callable[[Exception], None] = lambda exc: None,
) -> bool:
    """Publish each namespace's catalog (or these namespaces'), retrying while the platform
    is unreachable (`on_error` is told of each failure).

    AuthError and other refusals propagate; False if `stop` was set first.
    """
    backoff = PLATFORM_FAILING.backoff()
    failing = Condition("the catalog cannot be published", "the catalog can be published")

    def retrying(exc: Exception, delay_s: float) -> None:
        on_error(exc)
        log.debug("%s; trying again in %.1f s", exc, delay_s)
        log_said(log, failing.failed(str(exc), time.monotonic(), "trying again later"))

    for namespace in catalog.namespaces if namespaces is None else namespaces:
        definitions = catalog.definitions(namespace)
        try:
            retry(
                lambda: publish(namespace, definitions),  # noqa: B023 -- called in this iteration
                retryable=lambda exc: isinstance(exc, PlatformError) and exc.transient,
                backoff=backoff,
                wait=stop.wait,
                on_retry=retrying,
            )
        except Stopped:
            return False
        log_said(log, failing.ok(time.monotonic()))
        log.info("published %d task(s) of namespace %s", len(definitions), namespace)
    return True


class Leftovers(Protocol):
    def remove_container(self, container_id: str) -> None: ...
    def remove_labelled(self, labels: Mapping[str, str]) -> list[str]: ...


def end_interrupted(
    unfinished: Iterable[Taken],
    engine: Leftovers,
    statuses: StatusSink,
    *,
    platform: str,
    keep: Callable[[TaskStatus, str], object],
) -> None:
    """End each task an earlier run left unfinished with an Error, removing its container.

    The Error is owed to the platform the task was taken from: submitted when that is
    `platform` (this runner's), else kept for it (`keep(status, its platform)`), to be
    delivered by a runner started against that platform.
    """
    for taken in unfinished:
        with about_task(taken.namespace, taken.name, taken.instance_id):
            ours = taken.platform == platform
            log.warning(
                "%s: interrupted by the runner's previous stop; %s",
                taken.ref,
                "posting Error" if ours else f"its Error is kept for {taken.platform}",
            )
            if taken.container:
                log.warning("%s: removing its container %s", taken.ref, taken.container[:12])
                engine.remove_container(taken.container)
            status = error_status(taken.instance_id, INTERRUPTED)
            if ours:
                statuses.submit(status)
            else:
                keep(status, taken.platform)


def remove_leftovers(engine: Leftovers, runner_id: str, when: str) -> None:
    """Remove every container of this runner id, saying so if there were any."""
    removed = engine.remove_labelled({LABEL_RUNNER_ID: runner_id})
    if removed:
        log.warning(
            "%s: removed %d container(s) of runner %s: %s",
            when,
            len(removed),
            runner_id,
            ", ".join(c[:12] for c in removed),
        )

"""What the runner does once at start-up: check its task policies and secrets, publish the
catalogs (also when an image's catalog changed), and say how tasks an earlier run left
unfinished end. `run`, `exec` and `check` start their tasks' side the same way."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from runner.app.secrecy import check_secrets, secret_launcher
from runner.config.oneshot import OneShotSettings
from runner.config.policy import loosened
from runner.config.settings import RunnerSettings
from runner.core.backoff import PLATFORM_FAILING, Stopped, retry
from runner.core.catalog import Catalog
from runner.core.errors import ConfigError, PlatformError
from runner.core.policy import PolicyTable, TaskPolicy
from runner.engine.interface import Engine
from runner.engine.secrets import SecretLauncher
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
            f"runtime {', '.join(sorted(missing))} is not registered with the Docker engine "
            "(for gVisor: `make gvisor`, or see the README's security section)"
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
    image has secrets."""
    check_policies(settings.policies, engine)
    secrets = secret_launcher(engine, settings.secrets_dir, settings.runner_id)
    return secrets, check_secrets(settings.policies, secrets.reader, secrets.files)


def execution_settings(settings: TaskSettings) -> ExecutionSettings:
    """What the executor needs of the settings."""
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
    on_error: Callable[[], None] = lambda: None,
) -> bool:
    """Publish each namespace's catalog (or these namespaces'), retrying while the platform
    is unreachable (`on_error` is told of each failure).

    AuthError and other refusals propagate; False if `stop` was set first.
    """
    backoff = PLATFORM_FAILING.backoff()
    for namespace in catalog.namespaces if namespaces is None else namespaces:
        definitions = catalog.definitions(namespace)
        try:
            retry(
                lambda: publish(namespace, definitions),  # noqa: B023 -- called in this iteration
                retryable=lambda exc: isinstance(exc, PlatformError) and exc.transient,
                backoff=backoff,
                wait=stop.wait,
                on_retry=lambda exc, delay: _retrying(exc, delay, on_error),
            )
        except Stopped:
            return False
        log.info("published %d task(s) of namespace %s", len(definitions), namespace)
    return True


def _retrying(exc: Exception, delay_s: float, on_error: Callable[[], None]) -> None:
    on_error()
    log.warning("%s; trying again in %.1f s", exc, delay_s)

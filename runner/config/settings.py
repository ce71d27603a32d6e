"""Settings: one frozen object, built once from the environment and the command line.

Every setting has exactly one environment variable and one flag; a flag beats
the environment, which beats the default. Units are in the names. Task
policy settings (limits, network, runtime) may also come from a TOML file,
per image: see runner.config.policy.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from runner.config.engineconfig import ENGINE_OPTIONS
from runner.config.imageconfig import IMAGE_OPTIONS, PULL_INTERVAL_OPTION
from runner.config.options import (
    API_KEY_FILE,
    Option,
    parse_bool,
    parse_count,
    parse_host_port,
    parse_runner_id,
    resolve,
    resolve_file,
    take_key,
)
from runner.config.policy import POLICY_OPTIONS, PolicyFile, build_policies, read_policy_file
from runner.config.usage import USAGE_OPTIONS
from runner.config.values import (
    counts,
    parse_api_key,
    parse_cancel_url,
    parse_image,
    parse_server_url,
    seconds,
)
from runner.core.errors import SettingError
from runner.core.policy import PolicyTable
from runner.core.pulling import DEFAULT_PULL_INTERVAL_S

# How long a task may run on after its terminal message, and between SIGTERM and SIGKILL.
DEFAULT_EXIT_GRACE_S = 2.0
DEFAULT_STOP_GRACE_S = 5.0

DEFAULT_CANCEL_URL = (
    "/polling/api/Cancelled?catalogTaskDefinitionNamespace={namespace}&taskInstanceId={id}"
)


# Bounds of the runner's own counts and durations.
MAX_CONCURRENCY = 256
_SHORT_S = seconds(0.01, 3600.0)  # graces, timeouts of a request, intervals: up to an hour
_DRAIN_S = seconds(0.01, 86400.0)


def parse_images(text: str) -> tuple[str, ...]:
    return tuple(parse_image(part) for part in re.split(r"[\s,]+", text) if part)


def default_state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "xc-scenario-runner"


def default_secrets_dir() -> Path:
    """Memory, not disk, where there is a /dev/shm (a tmpfs on Linux); one per user."""
    shm = Path("/dev/shm")  # noqa: S108 -- a private folder in it, checked before use
    base = shm if shm.is_dir() else default_state_dir()
    return base / f"xc-scenario-runner-secrets-{os.getuid()}"


def default_runner_id() -> str:
    host = re.sub(r"[^a-zA-Z0-9_.-]", "-", socket.gethostname()).strip("-_.") or "host"
    return parse_runner_id(f"xc-runner-{host}"[:63].rstrip("-_."))


@dataclass(frozen=True)
class RunnerSettings:
    server_url: str
    api_key: str = field(repr=False)
    images: tuple[str, ...]
    concurrency: int = 4
    runner_id: str = field(default_factory=default_runner_id)
    exit_grace_s: float = DEFAULT_EXIT_GRACE_S
    stop_grace_s: float = DEFAULT_STOP_GRACE_S
    drain_timeout_s: float = 25.0  # under Kubernetes' default 30 s termination grace
    http_timeout_s: float = 30.0
    poll_max_interval_s: float = 2.0
    remove_previous_tasks: bool = False
    state_dir: Path = field(default_factory=default_state_dir)
    outbox_max_statuses: int = 100_000
    journal_keep: int = 1000  # ended tasks kept in the journal (runner.state.journal)
    cancel_url: str = DEFAULT_CANCEL_URL
    cancel_check_s: float = 5.0
    http_addr: tuple[str, int] | None = None  # the operations listener; None: off
    policies: PolicyTable = field(default_factory=PolicyTable)
    pull_interval_s: float = DEFAULT_PULL_INTERVAL_S  # with the `always` pull policy
    # Where the secrets given to task containers are copied (and bind-mounted from).
    secrets_dir: Path = field(default_factory=default_secrets_dir)
    # What each task used: where it is read from (runner.engine.usage), and the engine host's
    # cgroup hierarchy as this process sees it (runner.engine.cgroups).
    usage: str = "auto"
    cgroup_root: Path = Path("/sys/fs/cgroup")
    engine: str = "docker"  # or "kubernetes": runner.config.engineconfig
    kube_namespace: str | None = None  # None: the cluster configuration's

    def describe(self) -> str:
        """One line for the start-up log; the API key is never printed."""
        key = "set" if self.api_key else "NOT SET"
        return (
            f"server={self.server_url} api_key=<{key}> runner_id={self.runner_id} "
            f"concurrency={self.concurrency} images={','.join(self.images)} "
            f"state_dir={self.state_dir} policy={self.policies.default}"
            + (f" engine={self.engine}" if self.engine != "docker" else "")
            + (f" http_addr={self.http_addr[0]}:{self.http_addr[1]}" if self.http_addr else "")
        )


JOURNAL_KEEP = Option(
    "journal_keep",
    "--journal-keep",
    "XC_RUNNER_JOURNAL_KEEP",
    parse_count,
    "ended tasks kept in the state file's journal, newest first (0: none)",
)
# The runner's settings that the configuration file may also set, in its [runner] section.
FILE_OPTIONS: tuple[Option, ...] = (JOURNAL_KEEP,)

RUNNER_OPTIONS: tuple[Option, ...] = (
    Option(
        "server_url",
        "--server",
        "XC_SCENARIO_SERVER",
        parse_server_url,
        "base URL of the XC Scenario platform",
    ),
    Option(
        "api_key",
        "--api-key",
        "XC_SCENARIO_APIKEY",
        parse_api_key,
        "the platform's API key",
        secret=True,
    ),
    API_KEY_FILE,
    Option(
        "concurrency",
        "--concurrency",
        "XC_RUNNER_CONCURRENCY",
        counts(1, MAX_CONCURRENCY),
        "tasks run at once",
    ),
    Option(
        "runner_id",
        "--runner-id",
        "XC_RUNNER_ID",
        parse_runner_id,
        "label put on this runner's containers",
    ),
    Option(
        "config_path",
        "--config",
        "XC_RUNNER_CONFIG",
        Path,
        "TOML file of task policy defaults and per-image overrides (examples/runner.toml)",
    ),
    Option(
        "exit_grace_s",
        "--exit-grace-s",
        "XC_RUNNER_EXIT_GRACE_S",
        _SHORT_S,
        "how long a task may keep running after its terminal message",
    ),
    Option(
        "stop_grace_s",
        "--stop-grace-s",
        "XC_RUNNER_STOP_GRACE_S",
        _SHORT_S,
        "time between SIGTERM and SIGKILL when a task is stopped",
    ),
    Option(
        "drain_timeout_s",
        "--drain-timeout-s",
        "XC_RUNNER_DRAIN_TIMEOUT_S",
        _DRAIN_S,
        "on SIGTERM/SIGINT, how long running tasks may finish",
    ),
    Option(
        "http_timeout_s",
        "--http-timeout-s",
        "XC_RUNNER_HTTP_TIMEOUT_S",
        _SHORT_S,
        "timeout of each request to the platform",
    ),
    Option(
        "poll_max_interval_s",
        "--poll-max-interval-s",
        "XC_RUNNER_POLL_MAX_INTERVAL_S",
        _SHORT_S,
        "cap of the idle polling backoff",
    ),
    Option(
        "remove_previous_tasks",
        "--remove-previous-tasks",
        "XC_RUNNER_REMOVE_PREVIOUS_TASKS",
        parse_bool,
        "publish the catalog with removePreviousTasks=true",
        switch=True,
    ),
    Option(
        "state_dir",
        "--state-dir",
        "XC_RUNNER_STATE_DIR",
        Path,
        "directory of the status outbox and task journal (keep it on a persistent volume)",
    ),
    Option(
        "outbox_max_statuses",
        "--outbox-max-statuses",
        "XC_RUNNER_OUTBOX_MAX_STATUSES",
        counts(1, 10_000_000),
        "undelivered statuses kept before progress statuses are dropped and polling pauses",
    ),
    JOURNAL_KEEP,
    Option(
        "cancel_url",
        "--cancel-url",
        "XC_RUNNER_CANCEL_URL",
        parse_cancel_url,
        "cancellation check URL template ({namespace}, {id}; relative to the server), or off",
    ),
    Option(
        "cancel_check_s",
        "--cancel-check-s",
        "XC_RUNNER_CANCEL_CHECK_S",
        _SHORT_S,
        "how often a running task's cancellation is checked",
    ),
    PULL_INTERVAL_OPTION,
    Option(
        "secrets_dir",
        "--secrets-dir",
        "XC_RUNNER_SECRETS_DIR",
        Path,
        "private folder where task secrets are copied for their containers (a path the "
        "engine's host sees)",
    ),
    *USAGE_OPTIONS,
    Option(
        "http_addr",
        "--http-addr",
        "XC_RUNNER_HTTP_ADDR",
        parse_host_port,
        "HOST:PORT of the operations listener (/metrics, /healthz, /readyz, /status); off if unset",
    ),
    *ENGINE_OPTIONS,
)


def runner_settings(args: argparse.Namespace, environ: Mapping[str, str]) -> RunnerSettings:
    values = resolve(RUNNER_OPTIONS, args, environ)
    images = _images(args, environ)
    server = values.pop("server_url", None)
    if server is None:
        raise SettingError("XC_SCENARIO_SERVER (or --server) is not set: the platform's URL")
    api_key = take_key(values, "api_key", "api_key_file")
    if not api_key:
        raise SettingError(
            "XC_SCENARIO_APIKEY (or --api-key) is not set, nor XC_SCENARIO_APIKEY_FILE"
        )
    config_path = values.pop("config_path", None)
    file = read_policy_file(config_path) if config_path else PolicyFile()
    policies = build_policies(file, resolve(POLICY_OPTIONS + IMAGE_OPTIONS, args, environ), images)
    values = {**resolve_file(FILE_OPTIONS, file.runner, f"{config_path} [runner]"), **values}
    return RunnerSettings(
        server_url=server, api_key=api_key, images=images, policies=policies, **values
    )


def _images(args: argparse.Namespace, environ: Mapping[str, str]) -> tuple[str, ...]:
    """The positional images, else XC_RUNNER_IMAGES; SettingError names a bad one."""
    given = tuple(getattr(args, "images", None) or ())
    try:
        images = tuple(parse_image(i) for i in given) or parse_images(
            environ.get("XC_RUNNER_IMAGES", "")
        )
    except ValueError as exc:
        raise SettingError(f"{'IMAGE' if given else 'XC_RUNNER_IMAGES'}: {exc}") from None
    if not images:
        raise SettingError("no task image given: name at least one (or set XC_RUNNER_IMAGES)")
    return images

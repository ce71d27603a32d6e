"""Settings: one frozen object, built once from the environment and the command line.

Every setting has exactly one environment variable and one flag; a flag beats
the environment, which beats the default. Units are in the names.
"""

from __future__ import annotations

import argparse
import math
import re
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from runner.errors import ConfigError

_SIZE = re.compile(r"^\s*(\d+)\s*([kmg]?)i?b?\s*$", re.IGNORECASE)
_SIZE_FACTORS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def parse_bytes(text: str) -> int:
    """`"512m"` -> 536870912. Binary units (k, m, g), as the docker CLI reads them."""
    match = _SIZE.match(text)
    if not match:
        raise ValueError(f"not a size: {text!r} (use a whole number with k, m or g, e.g. 512m)")
    return int(match.group(1)) * _SIZE_FACTORS[match.group(2).lower()]


def parse_positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(f"must be at least 1, got {value}")
    return value


def parse_positive_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"must be a positive number, got {text!r}")
    return value


def parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"not a boolean: {text!r} (use true or false)")


def parse_images(text: str) -> tuple[str, ...]:
    return tuple(part for part in re.split(r"[\s,]+", text) if part)


def default_runner_id() -> str:
    host = re.sub(r"[^a-zA-Z0-9_.-]", "-", socket.gethostname()) or "host"
    return f"xc-runner-{host}"


@dataclass(frozen=True)
class Option:
    """One setting: where it comes from and how its text is read."""

    dest: str
    flag: str
    env: str
    parse: Callable[[str], Any]
    help: str


@dataclass(frozen=True)
class ContainerLimits:
    """What every task container is limited to."""

    memory_bytes: int = 512 * 1024**2
    cpus: float = 1.0
    pids: int = 256
    open_files: int = 1024
    tmpfs_bytes: int = 64 * 1024**2
    user: str = "65534:65534"
    network: str = "none"


@dataclass(frozen=True)
class RunnerSettings:
    server_url: str
    api_key: str = field(repr=False)
    images: tuple[str, ...]
    concurrency: int = 4
    runner_id: str = field(default_factory=default_runner_id)
    task_timeout_s: float = 3600.0
    exit_grace_s: float = 2.0
    stop_grace_s: float = 5.0
    drain_timeout_s: float = 25.0  # under Kubernetes' default 30 s termination grace
    http_timeout_s: float = 30.0
    poll_max_interval_s: float = 2.0
    max_output_bytes: int = 16 * 1024**2
    max_line_bytes: int = 1024**2
    remove_previous_tasks: bool = False
    limits: ContainerLimits = field(default_factory=ContainerLimits)

    def describe(self) -> str:
        """One line for the start-up log; the API key is never printed."""
        key = "set" if self.api_key else "NOT SET"
        return (
            f"server={self.server_url} api_key=<{key}> runner_id={self.runner_id} "
            f"concurrency={self.concurrency} images={','.join(self.images)} limits={self.limits}"
        )


RUNNER_OPTIONS: tuple[Option, ...] = (
    Option(
        "server_url", "--server", "XC_SCENARIO_SERVER", str, "base URL of the XC Scenario platform"
    ),
    Option("api_key", "--api-key", "XC_SCENARIO_APIKEY", str, "the platform's API key"),
    Option(
        "concurrency",
        "--concurrency",
        "XC_RUNNER_CONCURRENCY",
        parse_positive_int,
        "tasks run at once",
    ),
    Option(
        "runner_id", "--runner-id", "XC_RUNNER_ID", str, "label put on this runner's containers"
    ),
    Option(
        "task_timeout_s",
        "--task-timeout-s",
        "XC_RUNNER_TASK_TIMEOUT_S",
        parse_positive_float,
        "time limit of a task when neither the instance nor the catalog sets one",
    ),
    Option(
        "exit_grace_s",
        "--exit-grace-s",
        "XC_RUNNER_EXIT_GRACE_S",
        parse_positive_float,
        "how long a task may keep running after its terminal message",
    ),
    Option(
        "stop_grace_s",
        "--stop-grace-s",
        "XC_RUNNER_STOP_GRACE_S",
        parse_positive_float,
        "time between SIGTERM and SIGKILL when a task is stopped",
    ),
    Option(
        "drain_timeout_s",
        "--drain-timeout-s",
        "XC_RUNNER_DRAIN_TIMEOUT_S",
        parse_positive_float,
        "on SIGTERM/SIGINT, how long running tasks may finish",
    ),
    Option(
        "http_timeout_s",
        "--http-timeout-s",
        "XC_RUNNER_HTTP_TIMEOUT_S",
        parse_positive_float,
        "timeout of each request to the platform",
    ),
    Option(
        "poll_max_interval_s",
        "--poll-max-interval-s",
        "XC_RUNNER_POLL_MAX_INTERVAL_S",
        parse_positive_float,
        "cap of the idle polling backoff",
    ),
    Option(
        "max_output_bytes",
        "--max-output-bytes",
        "XC_RUNNER_MAX_OUTPUT_BYTES",
        parse_bytes,
        "cap on a task's stdout+stderr",
    ),
    Option(
        "max_line_bytes",
        "--max-line-bytes",
        "XC_RUNNER_MAX_LINE_BYTES",
        parse_bytes,
        "cap on one stdout line",
    ),
    Option(
        "remove_previous_tasks",
        "--remove-previous-tasks",
        "XC_RUNNER_REMOVE_PREVIOUS_TASKS",
        parse_bool,
        "publish the catalog with removePreviousTasks=true",
    ),
)

LIMIT_OPTIONS: tuple[Option, ...] = (
    Option(
        "memory_bytes",
        "--memory",
        "XC_RUNNER_MEMORY",
        parse_bytes,
        "memory limit per task (swap included)",
    ),
    Option("cpus", "--cpus", "XC_RUNNER_CPUS", parse_positive_float, "CPUs per task"),
    Option("pids", "--pids", "XC_RUNNER_PIDS", parse_positive_int, "process limit per task"),
    Option(
        "open_files",
        "--open-files",
        "XC_RUNNER_OPEN_FILES",
        parse_positive_int,
        "open files per task",
    ),
    Option(
        "tmpfs_bytes",
        "--tmpfs-size",
        "XC_RUNNER_TMPFS_SIZE",
        parse_bytes,
        "size of the writable /tmp",
    ),
    Option("user", "--user", "XC_RUNNER_USER", str, "uid:gid tasks run as"),
    Option("network", "--network", "XC_RUNNER_NETWORK", str, "network of task containers"),
)


def add_options(parser: argparse.ArgumentParser, options: Sequence[Option]) -> None:
    for option in options:
        parser.add_argument(
            option.flag, dest=option.dest, default=None, help=f"{option.help} [env {option.env}]"
        )


def resolve(
    options: Sequence[Option], args: argparse.Namespace, environ: Mapping[str, str]
) -> dict[str, Any]:
    """Values given by a flag or the environment, parsed; absent ones are left out."""
    values: dict[str, Any] = {}
    for option in options:
        flag_value = getattr(args, option.dest, None)
        source, text = (
            (option.flag, flag_value)
            if flag_value is not None
            else (option.env, environ.get(option.env))
        )
        if text is None or (text == "" and source == option.env):
            continue
        try:
            values[option.dest] = option.parse(text)
        except ValueError as exc:
            raise ConfigError(f"{source}: {exc}") from None
    return values


def runner_settings(args: argparse.Namespace, environ: Mapping[str, str]) -> RunnerSettings:
    values = resolve(RUNNER_OPTIONS, args, environ)
    limits = ContainerLimits(**resolve(LIMIT_OPTIONS, args, environ))
    images = tuple(getattr(args, "images", None) or ()) or parse_images(
        environ.get("XC_RUNNER_IMAGES", "")
    )
    if not images:
        raise ConfigError("no task image given: name at least one (or set XC_RUNNER_IMAGES)")
    server = str(values.pop("server_url", "")).rstrip("/")
    if not re.match(r"^https?://[^/\s]+", server):
        raise ConfigError(
            f"XC_SCENARIO_SERVER (or --server) must be an http(s) URL, got {server!r}"
        )
    api_key = str(values.pop("api_key", ""))
    if not api_key:
        raise ConfigError("XC_SCENARIO_APIKEY (or --api-key) is not set")
    return RunnerSettings(
        server_url=server, api_key=api_key, images=images, limits=limits, **values
    )

"""The defaults `--help` shows, by option: read from the settings objects' own defaults
(so that a new setting's default is shown without more work), with words where a value
would not say it well."""

from __future__ import annotations

import dataclasses
from typing import Any

from runner.config.local import LocalSettings
from runner.config.settings import RunnerSettings
from runner.core.policy import ContainerLimits, TaskPolicy

_RUNNER_WORDS = {
    "server_url": "required",
    "api_key": "required, or --api-key-file",
    "runner_id": "xc-runner-<hostname>",
    "http_addr": "off",
    "config_path": "none",
}
_POLICY_WORDS = {
    "pool_size": "the concurrency",
    "runtime": "the engine's default, runc",
}
_LOCAL_WORDS = {
    "api_key": "local-dev-key, which only a loopback address accepts",
    "keep_ended_days": "no age limit",
}
_CLIENT_WORDS = {"server_url": "the local server on --port"}


def field_defaults(cls: type) -> dict[str, Any]:
    """A dataclass's fields and their defaults (a factory's value, as made now)."""
    found: dict[str, Any] = {}
    for field in dataclasses.fields(cls):
        if field.default is not dataclasses.MISSING:
            found[field.name] = field.default
        elif field.default_factory is not dataclasses.MISSING:
            found[field.name] = field.default_factory()
    return found


def runner_defaults() -> dict[str, Any]:
    """`run` and `demo` (and the settings of theirs that `exec` and `check` take)."""
    return {**field_defaults(RunnerSettings), **_RUNNER_WORDS, **policy_defaults()}


def policy_defaults() -> dict[str, Any]:
    return {**field_defaults(ContainerLimits), **field_defaults(TaskPolicy), **_POLICY_WORDS}


def local_defaults(client: bool = False) -> dict[str, Any]:
    """`serve` and the demo's server; with `client`, `submit`, `status` and `watch`."""
    return {**field_defaults(LocalSettings), **_LOCAL_WORDS, **(_CLIENT_WORDS if client else {})}

"""Settings of the task author's commands, `exec` and `check`: the task policy of `run`
(flags, environment, the TOML file) and its time rules, with no platform and no state."""

from __future__ import annotations

import argparse
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from runner.config.options import Option, resolve
from runner.config.policy import POLICY_OPTIONS, PolicyFile, build_policies, read_policy_file
from runner.config.settings import (
    DEFAULT_EXIT_GRACE_S,
    DEFAULT_STOP_GRACE_S,
    RUNNER_OPTIONS,
    default_secrets_dir,
)
from runner.config.values import parse_image
from runner.core.errors import SettingError
from runner.core.policy import PolicyTable

# The options of `run` that still mean something without a platform.
_KEPT = {"config_path", "exit_grace_s", "stop_grace_s", "secrets_dir"}
ONESHOT_OPTIONS: tuple[Option, ...] = tuple(o for o in RUNNER_OPTIONS if o.dest in _KEPT)


def oneshot_runner_id(command: str) -> str:
    """A runner id of this run alone: its containers are told apart from any runner's."""
    return f"xc-{command}-{uuid.uuid4().hex[:12]}"


@dataclass(frozen=True)
class OneShotSettings:
    images: tuple[str, ...]
    runner_id: str
    policies: PolicyTable = field(default_factory=PolicyTable)
    exit_grace_s: float = DEFAULT_EXIT_GRACE_S
    stop_grace_s: float = DEFAULT_STOP_GRACE_S
    secrets_dir: Path = field(default_factory=default_secrets_dir)


def oneshot_settings(
    command: str,
    images: Sequence[str],
    args: argparse.Namespace,
    environ: Mapping[str, str],
) -> OneShotSettings:
    """Built as `run` builds its own, except that the file's sections for other images
    are left out; ConfigError names a bad flag, variable or file."""
    for image in images:
        try:
            parse_image(image)
        except ValueError as exc:
            raise SettingError(f"IMAGE: {exc}") from None
    values = resolve(ONESHOT_OPTIONS, args, environ)
    config_path: Path | None = values.pop("config_path", None)
    file = read_policy_file(config_path) if config_path else PolicyFile()
    mine = PolicyFile(
        file.defaults, {i: v for i, v in file.images.items() if i in images}, tasks=file.tasks
    )
    policies = build_policies(mine, resolve(POLICY_OPTIONS, args, environ), images)
    return OneShotSettings(
        images=tuple(images),
        runner_id=oneshot_runner_id(command),
        policies=policies,
        **values,
    )

"""Image settings beside the task limits: when an image is pulled (`pull`), and the plain
environment (`[images."IMAGE".env]`) and the secrets (`[images."IMAGE".secrets]`) its tasks
get.

Only the names and the paths are read here: whether each secret file can be read is
checked at start-up (runner.app.startup), and its contents are never kept in the settings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from runner.config.options import Option
from runner.config.values import read_choice, seconds
from runner.core.errors import SettingError
from runner.core.policy import PULL_POLICIES, ContainerEnv
from runner.core.secrets import SecretSource, secret_name_problem

_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# The tables of an image's section, beside its keys.
TABLES = ("env", "secrets")


def parse_pull(text: str) -> str:
    return read_choice(text, "pull policy", PULL_POLICIES)


PULL_OPTION = Option(
    "pull",
    "--pull",
    "XC_RUNNER_PULL",
    parse_pull,
    "when task images are pulled from their registry: missing (at start-up, those the engine "
    "lacks), always (also check for a new build every --pull-interval-s), never",
)
# The image options that `run` and `demo` take (and the file, runner-wide and per image);
# `exec` and `check` use the images the engine has.
IMAGE_OPTIONS: tuple[Option, ...] = (PULL_OPTION,)
PULL_INTERVAL_OPTION = Option(
    "pull_interval_s",
    "--pull-interval-s",
    "XC_RUNNER_PULL_INTERVAL_S",
    seconds(1.0, 7 * 86400.0),
    "with --pull always: how often the registry is asked whether a tag names a new build",
)


def container_env(values: Mapping[str, Any], where: str, base: Path) -> ContainerEnv:
    """An image section's env and secrets tables; a relative secret path is relative to the
    configuration file's folder."""
    return ContainerEnv(
        variables=_variables(values.get("env", {}), f"{where}.env"),
        secrets=_secrets(values.get("secrets", {}), f"{where}.secrets", base),
    )


def _variables(table: Any, where: str) -> tuple[tuple[str, str], ...]:
    found = []
    for name, value in _table(table, where).items():
        if not _VARIABLE.fullmatch(name):
            raise SettingError(f"{where}: {name!r} is not an environment variable name")
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise SettingError(f"{where}: {name} must be a string or a number")
        text = str(value)
        if "\0" in text:
            raise SettingError(f"{where}: {name} holds a NUL character")
        found.append((name, text))
    return tuple(found)


def _secrets(table: Any, where: str, base: Path) -> tuple[SecretSource, ...]:
    found = []
    for name, path in _table(table, where).items():
        problem = secret_name_problem(name)
        if problem is not None:
            raise SettingError(f"{where}: {problem}")
        if not isinstance(path, str) or not path:
            raise SettingError(f"{where}: {name} must be the path of a file on this host")
        found.append(SecretSource(name, str(base / Path(path).expanduser())))
    return tuple(found)


def _table(table: Any, where: str) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise SettingError(f'{where} must be a table of NAME = "..." lines')
    return table

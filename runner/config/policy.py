"""The task policy's settings: its options, the TOML file, and what loosens the defaults.

The policy's values and secure defaults are runner.core.policy. The
runner-wide policy is built from the built-in defaults, then the
configuration file's `[defaults]`, then the environment and flags. An image's
section of the file (`[images."name:tag"]`) overrides single keys of it.
Nothing is weakened silently: every override that loosens a built-in default
is listed by `loosened()` and logged at start-up.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runner.config.imageconfig import IMAGE_OPTIONS, TABLES, container_env
from runner.config.options import Option, file_value
from runner.config.tasksections import pop_cap, refuse_default_cap, task_sections
from runner.config.values import Bounded, counts, read_decimal, seconds, sizes
from runner.core.caps import Caps
from runner.core.documents import MAX_DEPTH, TooDeep, check_depth
from runner.core.errors import SettingError
from runner.core.policy import PolicyTable, TaskPolicy
from runner.files import Unreadable, read_capped

_USER = re.compile(r"^[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+)?$")
_ROOT_USERS = {"0", "root"}


def parse_user(text: str) -> str:
    if not _USER.match(text):
        raise ValueError(f"not a user: {text!r} (use uid:gid, e.g. 65534:65534)")
    return text


def parse_network(text: str) -> str:
    if text == "host" or text.startswith("container:"):
        raise ValueError(
            f"network {text!r} would share a namespace with the host or another container; "
            "use none, bridge or a network of your own"
        )
    if not re.match(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", text):
        raise ValueError(f"not a network name: {text!r}")
    return text


def parse_runtime(text: str) -> str:
    if text and not re.match(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", text):
        raise ValueError(f"not a runtime name: {text!r}")
    return "" if text == "runc" else text


MAX_POOL_SIZE = 256
# The configuration file is no larger than this (a few kilobytes are plenty).
MAX_CONFIG_BYTES = 1024 * 1024
# What a task needs at least (`--init` and one process; a few files; a protocol line) and
# what no host offers: 0 means "no limit" to Docker and tmpfs, so it is refused like them.
_LINE_SIZE = sizes(1024, 64 * 1024**2)
POLICY_OPTIONS: tuple[Option, ...] = (
    Option(
        "memory_bytes",
        "--memory",
        "XC_RUNNER_MEMORY",
        sizes(6 * 1024**2, 1024**4),
        "memory limit per task (swap included)",
    ),
    Option("cpus", "--cpus", "XC_RUNNER_CPUS", Bounded(read_decimal, 0.01, 1024), "CPUs per task"),
    Option("pids", "--pids", "XC_RUNNER_PIDS", counts(2, 4_194_304), "process limit per task"),
    Option(
        "open_files",
        "--open-files",
        "XC_RUNNER_OPEN_FILES",
        counts(16, 1024**2),
        "open files per task",
    ),
    Option(
        "tmpfs_bytes",
        "--tmpfs-size",
        "XC_RUNNER_TMPFS_SIZE",
        sizes(1024**2, 1024**4),
        "size of the writable /tmp",
    ),
    Option("user", "--user", "XC_RUNNER_USER", parse_user, "uid:gid tasks run as"),
    Option(
        "network",
        "--network",
        "XC_RUNNER_NETWORK",
        parse_network,
        "network of task containers (none: no network)",
    ),
    Option(
        "runtime",
        "--runtime",
        "XC_RUNNER_RUNTIME",
        parse_runtime,
        "OCI runtime of task containers: runsc for gVisor, empty for the engine's default",
    ),
    Option(
        "timeout_s",
        "--task-timeout-s",
        "XC_RUNNER_TASK_TIMEOUT_S",
        seconds(0.01, 30 * 86400.0),
        "time limit of a task when neither the instance nor the catalog sets one",
    ),
    Option(
        "max_output_bytes",
        "--max-output-bytes",
        "XC_RUNNER_MAX_OUTPUT_BYTES",
        sizes(1024, 1024**3),
        "cap on a task's stdout+stderr",
    ),
    Option(
        "max_line_bytes",
        "--max-line-bytes",
        "XC_RUNNER_MAX_LINE_BYTES",
        _LINE_SIZE,
        "cap on one stdout line",
    ),
    Option(
        "max_result_bytes",
        "--max-result-bytes",
        "XC_RUNNER_MAX_RESULT_BYTES",
        _LINE_SIZE,
        "cap on a task's result message",
    ),
    Option(
        "launch_budget_s",
        "--launch-budget-s",
        "XC_RUNNER_LAUNCH_BUDGET_S",
        seconds(0.0, 86400.0),  # 0 included: no retry
        "how long a task taken is retried when the runner cannot start its container (the "
        "engine fails, the image is missing) before it ends in Error; never past the task's "
        "time limit; 0: not retried",
    ),
    Option(
        "pool_size",
        "--pool-size",
        "XC_RUNNER_POOL_SIZE",
        counts(0, MAX_POOL_SIZE),
        "warm containers kept ready per image (0: none)",
    ),
)
# Settings that are not limits: a higher value loosens nothing.
_NOT_LIMITS = frozenset({"pool_size", "launch_budget_s"})

_BY_KEY = {option.key: option for option in POLICY_OPTIONS + IMAGE_OPTIONS}


@dataclass(frozen=True)
class PolicyFile:
    """The configuration file's contents: overrides as policy field values."""

    defaults: Mapping[str, Any] = field(default_factory=dict)
    images: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # [runner]: settings of the runner itself, as written (runner.config.settings reads them)
    runner: Mapping[str, Any] = field(default_factory=dict)
    # [tasks."NAMESPACE/TASK"]: overrides of a task type, over its image's
    tasks: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    caps: Caps = field(default_factory=Caps)  # max_running of task types and images


def read_policy_file(path: Path) -> PolicyFile:
    """The configuration file: a regular file of at most MAX_CONFIG_BYTES, UTF-8 TOML whose
    tables and arrays nest at most MAX_DEPTH deep."""
    try:
        document = tomllib.loads(read_capped(path, MAX_CONFIG_BYTES).decode("utf-8"))
        check_depth(document)
    except Unreadable as exc:
        raise SettingError(f"cannot read the configuration file {path}: {exc}") from None
    except UnicodeDecodeError as exc:
        raise SettingError(f"{path} is not UTF-8 text (byte {exc.start + 1})") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingError(f"{path} is not valid TOML: {exc}") from None
    except (TooDeep, RecursionError):  # RecursionError: too deep for the parser itself
        raise SettingError(
            f"{path} is nested deeper than the limit of {MAX_DEPTH} levels of tables and arrays"
        ) from None
    return policy_file(document, str(path), path.parent)


def policy_file(document: Mapping[str, Any], source: str, base: Path | None = None) -> PolicyFile:
    """The file's sections; `base` is the folder relative secret paths start from (the
    current folder by default)."""
    unknown = set(document) - {"defaults", "images", "tasks", "runner"}
    if unknown:
        raise SettingError(
            f"{source}: unknown section(s) {', '.join(sorted(unknown))} (expected [defaults], "
            '[images."name:tag"], [tasks."NAMESPACE/TASK"] and [runner])'
        )
    runner = document.get("runner", {})
    if not isinstance(runner, dict):
        raise SettingError(f"{source} [runner] must be a table")
    images = document.get("images", {})
    if not isinstance(images, dict) or not all(isinstance(v, dict) for v in images.values()):
        raise SettingError(f'{source}: images must be tables, e.g. [images."xc-tasks/x:latest"]')
    defaults = document.get("defaults", {})
    if isinstance(defaults, dict):
        refuse_default_cap(defaults, f"{source} [defaults]")
    image_caps: dict[str, int] = {}
    parsed_images = {}
    for image, values in images.items():
        where = f'{source} [images."{image}"]'
        own = dict(values)
        if (cap := pop_cap(own, where)) is not None:
            image_caps[image] = cap
        parsed_images[image] = _image_section(own, where, base or Path())
    tasks, task_caps = task_sections(document.get("tasks", {}), source, _section)
    return PolicyFile(
        defaults=_section(defaults, f"{source} [defaults]"),
        images=parsed_images,
        runner=runner,
        tasks=tasks,
        caps=Caps(task_caps, image_caps),
    )


def _image_section(values: dict[str, Any], where: str, base: Path) -> dict[str, Any]:
    """An image's keys, and its env and secrets tables (an image's own: never defaults)."""
    keys = {key: value for key, value in values.items() if key not in TABLES}
    parsed = _section(keys, where)
    if any(table in values for table in TABLES):
        parsed["env"] = container_env(values, where, base)
    return parsed


def _section(values: Any, where: str) -> dict[str, Any]:
    if not isinstance(values, dict):
        raise SettingError(f"{where} must be a table")
    parsed: dict[str, Any] = {}
    for key, value in values.items():
        if key in TABLES:
            raise SettingError(
                f"{where}: {key} is an image's own: set it in [images.\"IMAGE\".{key}]"
            )
        option = _BY_KEY.get(key)
        if option is None:
            raise SettingError(
                f"{where}: unknown key {key!r} (known: {', '.join(sorted(_BY_KEY))}; and an "
                "image's env and secrets tables)"
            )
        parsed[option.dest] = file_value(option, value, where)
    return parsed


def build_policies(
    file: PolicyFile, overrides: Mapping[str, Any], images: Sequence[str]
) -> PolicyTable:
    """The runner-wide policy and the policy of each image that has a section."""
    base = TaskPolicy().replace({**file.defaults, **overrides})
    per_image = {image: base.replace(values) for image, values in file.images.items()}
    unserved = sorted(set(per_image) - set(images))
    if unserved:
        raise SettingError(
            f"the configuration file has sections for images this runner does not serve: "
            f"{', '.join(unserved)} (served: {', '.join(images)})"
        )
    return PolicyTable(base, per_image, file.tasks, file.caps)


def loosened(policy: TaskPolicy, reference: TaskPolicy) -> list[str]:
    """How `policy` is looser than `reference`, one phrase per setting."""
    found: list[str] = []
    new, old = policy.limits, reference.limits
    if new.network not in (old.network, "none"):
        found.append(f"network {new.network} (instead of {old.network})")
    if _is_root(new.user) and not _is_root(old.user):
        found.append(f"runs as root ({new.user})")
    if old.runtime and new.runtime != old.runtime:
        found.append(f"runtime {new.runtime or 'engine default'} (instead of {old.runtime})")
    for option in POLICY_OPTIONS:  # every limit: higher is looser
        if option.dest in _NOT_LIMITS:
            continue
        value, was = policy.value(option.dest), reference.value(option.dest)
        if isinstance(value, int | float) and value > was:
            show = option.parse.show if isinstance(option.parse, Bounded) else str
            found.append(f"{option.key} {show(value)} (instead of {show(was)})")
    return found


def _is_root(user: str) -> bool:
    return user.partition(":")[0] in _ROOT_USERS

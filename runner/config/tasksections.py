"""The configuration file's task type sections, `[tasks."NAMESPACE/TASK"]`, and `max_running`.

A task type's section sets its resources and time over its image's section (which is over
`[defaults]`): memory, CPUs, processes, open files, /tmp, its time limit and its output
caps. Isolation (user, network, runtime), the warm pool, pulls and secrets stay the
image's: one image's containers are alike, and a warm container is made before its task
is known (a task type whose limits differ from its image's starts cold).

`max_running`, in a task type's section or an image's, caps how many of them run at once
on this runner (runner.core.caps); [defaults] has none (the concurrency is the runner's).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from runner.config.options import Option, file_value
from runner.config.values import counts
from runner.core.errors import SettingError

MAX_RUNNING = Option(
    "max_running",
    "--max-running",
    "",  # the file's alone
    counts(1, 256),
    "how many of this task type (or image) run at once on this runner, at most",
)
# The keys of a task type's section besides max_running: its resources and time.
TASK_KEYS = frozenset(
    {"memory", "cpus", "pids", "open_files", "tmpfs_size", "task_timeout_s"}
    | {"max_output_bytes", "max_line_bytes", "max_result_bytes"}
)
_TASK = re.compile(r"[^/\s]+/[^/\s]+")


def pop_cap(values: dict[str, Any], where: str) -> int | None:
    """The section's `max_running`, taken out of `values` (None if it has none)."""
    if "max_running" not in values:
        return None
    cap: int = file_value(MAX_RUNNING, values.pop("max_running"), where)
    return cap


def refuse_default_cap(defaults: Mapping[str, Any], where: str) -> None:
    if "max_running" in defaults:
        raise SettingError(
            f"{where}: max_running is per task type or per image: set it in "
            '[tasks."NAMESPACE/TASK"] or [images."IMAGE"] (the runner-wide cap is concurrency)'
        )


def task_sections(
    table: Any, source: str, parse: Any
) -> tuple[dict[str, dict[str, Any]], dict[str, int]]:
    """Each task type's overrides (parsed by `parse(values, where)`, as [defaults] is) and
    its cap, by "NAMESPACE/TASK"; SettingError names the first wrong section or key."""
    if not isinstance(table, dict) or not all(isinstance(v, dict) for v in table.values()):
        raise SettingError(f'{source}: tasks must be tables, e.g. [tasks."sample/double"]')
    overrides: dict[str, dict[str, Any]] = {}
    caps: dict[str, int] = {}
    for task, section in table.items():
        where = f'{source} [tasks."{task}"]'
        if not _TASK.fullmatch(task):
            raise SettingError(
                f"{where}: a task type's section is named NAMESPACE/TASK, "
                'e.g. [tasks."sample/double"]'
            )
        values = dict(section)
        cap = pop_cap(values, where)
        if cap is not None:
            caps[task] = cap
        other = sorted(set(values) - TASK_KEYS)
        if other:
            raise SettingError(
                f"{where}: {', '.join(repr(k) for k in other)} cannot be set per task type "
                f"(only {', '.join(sorted(TASK_KEYS | {'max_running'}))}; the rest is the "
                "image's)"
            )
        if values:
            overrides[task] = parse(values, where)
    return overrides, caps


def unknown_tasks(sections: Mapping[str, Any], known: set[str]) -> str | None:
    """The line refusing sections of task types no served image declares, or None."""
    unknown = sorted(set(sections) - known)
    if not unknown:
        return None
    return (
        "the configuration file has sections for task types no served image declares: "
        + ", ".join(unknown)
    )

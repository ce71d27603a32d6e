"""The settings of what each task used: where it is read from, and the cgroup hierarchy."""

from __future__ import annotations

from pathlib import Path

from runner.config.options import Option
from runner.config.values import read_choice
from runner.core.usage import USAGE_SOURCES


def parse_usage(text: str) -> str:
    return read_choice(text, "usage source", USAGE_SOURCES)


USAGE_OPTIONS: tuple[Option, ...] = (
    Option(
        "usage",
        "--usage",
        "XC_RUNNER_USAGE",
        parse_usage,
        "where each task's CPU, peak memory and OOM kills are read: auto (its cgroup's files "
        "if found under --cgroup-root, else the engine's stats), cgroup, engine, or off",
    ),
    Option(
        "cgroup_root",
        "--cgroup-root",
        "XC_RUNNER_CGROUP_ROOT",
        Path,
        "the engine host's /sys/fs/cgroup as this runner sees it (in a container: the host's, "
        "mounted read-only)",
    ),
)

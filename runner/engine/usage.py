"""Where a task container's usage is read from: its cgroup files, or the engine's stats.

The `usage` setting (runner.core.usage.USAGE_SOURCES):

- `auto` (the default): the cgroup files under the cgroup root when the container's
  folder is there (runner.engine.cgroups: a few file reads per reading), else the
  engine's stats (runner.engine.dockerstats: a sample a second, on a thread per
  running task); which one is said once in the log.
- `cgroup`: the cgroup files only (a container without a folder is not measured).
- `engine`: the engine's stats only.
- `off`: nothing is measured; tasks' end lines and the local server have no figures.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Protocol

from runner.core.usage import SAMPLE_EVERY_S, Reading
from runner.engine.cgroups import CgroupFiles, Cgroups
from runner.engine.dockerstats import EngineStats

log = logging.getLogger(__name__)


class Reader(Protocol):
    every_s: float  # how often a reading is worth taking

    def read(self) -> Reading | None:
        """A reading now; None if the figures cannot be had (the container is gone)."""


class _Files:
    """A reader of the cgroup files (runner.engine.cgroups.V1Files or V2Files)."""

    every_s = SAMPLE_EVERY_S

    def __init__(self, files: CgroupFiles) -> None:
        self.read = files.read


class UsageSource:
    """Gives the executor a reader for each task container (runner.worker.metering)."""

    def __init__(
        self, mode: str, cgroup_root: Path, engine_stats: EngineStats | None = None
    ) -> None:
        self.mode = mode
        self._cgroups = Cgroups(cgroup_root) if mode in ("auto", "cgroup") else None
        self._engine = engine_stats if mode in ("auto", "engine") else None
        self._said: set[str] = set()
        self._lock = threading.Lock()

    def readers(self) -> UsageSource | None:
        """What the executor reads tasks' usage through; None when the setting is off."""
        return None if self.mode == "off" else self

    def reader(self, container_id: str) -> Reader | None:
        """How to read this container's usage; None when it cannot be measured."""
        if self._cgroups is not None:
            files = self._cgroups.find(container_id)
            if files is not None:
                self._say(
                    "cgroup",
                    f"task usage is read from {files.version} files under {self._cgroups.root}",
                )
                return _Files(files)
        if self._engine is not None:
            if self._cgroups is not None:
                self._say(
                    "engine",
                    f"no cgroup folder of task containers under "
                    f"{self._cgroups.root} (a runner in a container needs the host's "
                    "/sys/fs/cgroup mounted read-only, and XC_RUNNER_CGROUP_ROOT): task "
                    "usage is read from the engine's stats instead, a sample a second",
                )
            return self._engine.follow(container_id)
        if self._cgroups is not None:
            self._say(
                "none",
                f"no cgroup folder of task containers under {self._cgroups.root}: "
                "task usage is not measured (XC_RUNNER_USAGE=cgroup)",
                logging.WARNING,
            )
        return None

    def _say(self, key: str, text: str, level: int = logging.INFO) -> None:
        """Each way of reading is said once, when it is first used."""
        with self._lock:
            if key in self._said:
                return
            self._said.add(key)
        log.log(level, "%s", text)

    def close(self) -> None:
        if self._engine is not None:
            self._engine.close()

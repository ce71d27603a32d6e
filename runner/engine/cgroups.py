"""A task container's cgroup files, read directly: CPU time, peak memory, OOM kills.

Plain file reads (a few tens of microseconds), no engine request. The cgroup
hierarchy is the engine host's: a runner in a container needs the host's
/sys/fs/cgroup mounted (read-only) and `cgroup_root` pointing at it. Where a
container's folder is depends on the cgroup version and the engine's cgroup
driver; both of Docker's are found:

| version | driver   | folder under the root                         |
| ------- | -------- | --------------------------------------------- |
| v1      | cgroupfs | `<controller>/docker/<id>/`                   |
| v1      | systemd  | `<controller>/system.slice/docker-<id>.scope/` |
| v2      | cgroupfs | `docker/<id>/`                                |
| v2      | systemd  | `system.slice/docker-<id>.scope/`             |

What each version gives (runner.core.usage.Reading):

- v1: `cpuacct.usage` (ns, user + system), `memory.max_usage_in_bytes` (the kernel's
  high-water mark since the cgroup was made), `memory.usage_in_bytes`, and the
  `oom_kill` count of `memory.oom_control` (kernel 4.13 and later).
- v2: `cpu.stat` `usage_usec`, `memory.peak` (kernel 5.19 and later; before, the peak
  is the highest `memory.current` read, which can miss a short spike), and
  `memory.events` `oom_kill`.

A folder that is gone (the container stopped) reads as None: nothing raises.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from runner.core.usage import Reading

DEFAULT_ROOT = Path("/sys/fs/cgroup")
# Where a container's folder is, below a controller (v1) or the root (v2).
_PARENTS = ("docker/{id}", "system.slice/docker-{id}.scope")
_V1_CPU = ("cpuacct", "cpu,cpuacct", "cpuacct,cpu")


def _number(path: Path) -> int | None:
    try:
        with open(path, "rb") as handle:
            text = handle.read()
    except OSError:
        return None
    try:
        return int(text)
    except ValueError:  # "max", or garbage
        return None


def _keyed(path: Path, key: bytes) -> int | None:
    """The value of `key` in a flat keyed file (`name value` lines); None if unreadable."""
    try:
        with open(path, "rb") as handle:
            text = handle.read()
    except OSError:
        return None
    for line in text.splitlines():
        name, _, value = line.partition(b" ")
        if name == key:
            try:
                return int(value)
            except ValueError:
                return None
    return None


@dataclass(frozen=True)
class V1Files:
    """One container's cgroup v1 folders: its cpuacct and memory controllers'."""

    cpu: Path
    memory: Path
    version: str = "cgroup v1"

    def read(self) -> Reading | None:
        cpu = _number(self.cpu / "cpuacct.usage")
        if cpu is None:
            return None  # gone
        return Reading(
            cpu_ns=cpu,
            memory_peak_bytes=_number(self.memory / "memory.max_usage_in_bytes"),
            memory_bytes=_number(self.memory / "memory.usage_in_bytes"),
            oom_kills=_keyed(self.memory / "memory.oom_control", b"oom_kill"),
        )


@dataclass(frozen=True)
class V2Files:
    """One container's cgroup v2 folder."""

    folder: Path
    version: str = "cgroup v2"

    def read(self) -> Reading | None:
        usec = _keyed(self.folder / "cpu.stat", b"usage_usec")
        if usec is None:
            return None  # gone
        return Reading(
            cpu_ns=usec * 1000,
            memory_peak_bytes=_number(self.folder / "memory.peak"),
            memory_bytes=_number(self.folder / "memory.current"),
            oom_kills=_keyed(self.folder / "memory.events", b"oom_kill"),
        )


CgroupFiles = V1Files | V2Files


class Cgroups:
    """Finds a container's cgroup files under `root` (the host's /sys/fs/cgroup)."""

    def __init__(self, root: Path = DEFAULT_ROOT) -> None:
        self.root = root
        self._unified = (root / "cgroup.controllers").is_file()  # v2 only, no v1 controllers
        self._cpu = next((root / c for c in _V1_CPU if (root / c).is_dir()), root / "cpuacct")
        self._parent = _PARENTS[0]  # the layout found last: tried first

    @property
    def version(self) -> str:
        return "cgroup v2" if self._unified else "cgroup v1"

    def find(self, container_id: str) -> CgroupFiles | None:
        """The container's files, or None when it has no folder here (another layout, the
        host's hierarchy not mounted, or the container gone)."""
        for parent in (self._parent, *(p for p in _PARENTS if p != self._parent)):
            relative = parent.format(id=container_id)
            files: CgroupFiles
            if self._unified:
                files = V2Files(self.root / relative)
                present = (files.folder / "cpu.stat").is_file()
            else:
                files = V1Files(self._cpu / relative, self.root / "memory" / relative)
                present = (files.cpu / "cpuacct.usage").is_file()
            if present:
                self._parent = parent
                return files
        return None

"""What a task used, measured from outside its container: pure values and the meter's rules.

The figures come from the container's cgroup (as the kernel or the engine reads it),
never from the task. A cgroup disappears as soon as its container's last process
exits, so the runner reads it while the task runs: when the task is handed its
input (the CPU a warm container spent before it, starting up and waiting, is not
charged), on its output and its read slices (0.25 s) but at most every
`SAMPLE_EVERY_S`, and at once when its terminal message arrives (its work is done
then, its process not yet gone). The last reading that succeeded is the figure.

- CPU: the cgroup's user + system time, from the hand-out for a warm container, from
  its creation for a cold one (so a cold task's figure includes its program's start).
- Peak memory: the cgroup's high-water mark (v1 `memory.max_usage_in_bytes`, v2
  `memory.peak`) where the kernel keeps one, else the highest of the readings.
- OOM: the engine's word that the kernel killed the task's process for memory, or an
  OOM kill the cgroup counted (a child process killed, the task going on). The kernel
  kills at the limit, so an OOM-killed task's peak is at least its limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Start = Literal["warm", "cold"]
# Where the figures are read from (the `usage` setting; runner.engine.usage says how).
USAGE_SOURCES = ("auto", "cgroup", "engine", "off")
SAMPLE_EVERY_S = 0.1  # while a task runs, at most this often (each output, each read slice)
# The attribute of a log record holding fields for the JSON log format (runner.ops.logs).
LOG_FIELDS = "xc_fields"
MIB = 1024**2


@dataclass(frozen=True)
class Reading:
    """One reading of a container's cgroup; None where the source has no such figure."""

    cpu_ns: int | None = None  # user + system, since the cgroup was made
    memory_peak_bytes: int | None = None  # the kernel's high-water mark
    memory_bytes: int | None = None  # in use now
    oom_kills: int | None = None  # processes the kernel killed for memory in it


@dataclass(frozen=True)
class Limits:
    """What the task was allowed, shown beside what it used."""

    memory_bytes: int | None = None
    cpus: float | None = None
    timeout_s: float | None = None


@dataclass(frozen=True)
class Usage:
    """What one task used, as the runner measured it."""

    start: Start
    wall_s: float  # from the hand-out to the terminal status
    cpu_s: float | None  # None: never read (no cgroup found, no engine stats)
    memory_peak_bytes: int | None
    oom_killed: bool
    limits: Limits = Limits()

    def to_wire(self) -> dict[str, Any]:
        """As the local server takes it with the task's log, and answers it (`usage`)."""
        return {
            "cpuSeconds": _rounded(self.cpu_s),
            "memoryPeakBytes": self.memory_peak_bytes,
            "wallSeconds": round(self.wall_s, 3),
            "oomKilled": self.oom_killed,
            "start": self.start,
            "limits": {
                "memoryBytes": self.limits.memory_bytes,
                "cpus": self.limits.cpus,
                "timeoutSeconds": self.limits.timeout_s,
            },
        }

    def log_fields(self) -> dict[str, Any]:
        """The fields of the task's end line in the JSON log format."""
        return {
            "cpu_seconds": _rounded(self.cpu_s),
            "memory_peak_bytes": self.memory_peak_bytes,
            "oom_killed": self.oom_killed,
            "start": self.start,
            "wall_seconds": round(self.wall_s, 3),
        }

    def in_words(self) -> str:
        """`cpu 1.234 s, peak 41.2 MiB of 512 MiB` (and `, OOM-killed`), for the text log."""
        cpu = "cpu ?" if self.cpu_s is None else f"cpu {self.cpu_s:.3f} s"
        peak = "peak ?" if self.memory_peak_bytes is None else f"peak {mib(self.memory_peak_bytes)}"
        if self.limits.memory_bytes and self.memory_peak_bytes is not None:
            peak += f" of {mib(self.limits.memory_bytes)}"
        return f"{cpu}, {peak}" + (", OOM-killed" if self.oom_killed else "")


def mib(size: float) -> str:
    """`41.2 MiB`, `512 MiB`, `1.5 GiB`."""
    if size >= 1024 * MIB:
        return f"{size / 1024**3:.3g} GiB"
    return f"{size / MIB:.3g} MiB" if size < 100 * MIB else f"{size / MIB:.0f} MiB"


def _rounded(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 4)


class UsageMeter:
    """One task's readings, from its hand-out to its end; the caller reads the cgroup when
    `due` says so and hands the reading in (None when the cgroup could not be read)."""

    def __init__(self, start: Start, limits: Limits = Limits()) -> None:
        self.start = start
        self.limits = limits
        self._cpu_base_ns = 0
        self._last: Reading | None = None
        self._peak_seen = 0  # the highest memory in use read, where there is no mark
        self._read_at: float | None = None
        self._final = False  # read after the terminal message: nothing more is needed

    def handed_out(self, reading: Reading | None, now: float) -> None:
        """The first reading, as the task is given its input: a warm container's CPU so far
        is its wait, not the task's."""
        if reading is not None and self.start == "warm" and reading.cpu_ns is not None:
            self._cpu_base_ns = reading.cpu_ns
        self.read(reading, now)

    def due(self, now: float, terminal: bool, every_s: float = SAMPLE_EVERY_S) -> bool:
        """Whether to read now: once at the terminal message, else every `every_s`."""
        if self._final:
            return False
        if terminal:
            return True
        return self._read_at is None or now - self._read_at >= every_s

    def read(self, reading: Reading | None, now: float, *, terminal: bool = False) -> None:
        """A reading taken now (None: the cgroup is gone, or could not be read)."""
        self._read_at = now
        self._final = self._final or terminal
        if reading is None:
            return
        self._last = reading
        if reading.memory_bytes is not None:
            self._peak_seen = max(self._peak_seen, reading.memory_bytes)

    @property
    def oom_seen(self) -> bool:
        """Whether the cgroup counted an OOM kill in a reading so far."""
        return self._last is not None and bool(self._last.oom_kills)

    def usage(self, wall_s: float, *, oom_killed: bool) -> Usage:
        """The task's figures, from the last reading that succeeded."""
        last = self._last
        cpu_s = None
        peak = None
        if last is not None:
            if last.cpu_ns is not None:
                cpu_s = max(0, last.cpu_ns - self._cpu_base_ns) / 1e9
            peak = last.memory_peak_bytes
            if peak is None and self._peak_seen:
                peak = self._peak_seen
            oom_killed = oom_killed or bool(last.oom_kills)
        limit = self.limits.memory_bytes
        if oom_killed and limit and (peak is None or peak < limit):
            peak = limit  # killed at the limit; its cgroup was gone before it could be read
        return Usage(self.start, wall_s, cpu_s, peak, oom_killed, self.limits)

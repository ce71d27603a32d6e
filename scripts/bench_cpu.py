"""`make bench`: where the CPU goes, per task. The machine has 2 cores; at concurrency 4
the engine, the runner and the local server share them, so CPU per task is what bounds
throughput.

The engine's processes are found by name (dockerd, containerd, its shims, runc,
docker-init); on a machine where others run containers too, their share is counted.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass

_TICK_S = 1.0 / os.sysconf("SC_CLK_TCK")
ENGINE_PROCESSES = frozenset(
    {"dockerd", "containerd", "containerd-shim", "containerd-shim-runc-v2", "runc", "docker-init"}
)


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of one process so far."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * _TICK_S


def engine_cpu_s() -> float:
    total = 0.0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/comm") as comm:
                if comm.read().strip() in ENGINE_PROCESSES:
                    total += process_cpu_s(int(entry.name))
        except OSError:  # it ended meanwhile
            continue
    return total


@dataclass
class CpuMeter:
    """CPU seconds of the engine, this process and optionally another, over a span."""

    other_pid: int | None = None

    def __post_init__(self) -> None:
        self._start = self._now()

    def _now(self) -> tuple[float, float, float]:
        other = process_cpu_s(self.other_pid) if self.other_pid else 0.0
        return engine_cpu_s(), time.process_time(), other

    def per_task_ms(self, tasks: int) -> dict[str, float]:
        """Milliseconds of CPU per task since the meter was made: engine, here, other."""
        now = self._now()
        engine, here, other = (
            1000 * (b - a) / tasks for a, b in zip(self._start, now, strict=True)
        )
        return {"engine": engine, "here": here, "other": other}


if __name__ == "__main__":
    from scripts.scripthelp import part_of

    sys.exit(part_of(__doc__, "make bench"))

"""Every task type's figures over the last hours: `GET /local/api/task-types?hours=24` (with
the API key) and the same for the cockpit's page at `/local/api/cockpit/task-types`.

One entry per task type (namespace/task) that ended at least one run in the window, most
runs first: runs, errors and the error rate, the duration p50/p95/p99 (the runner's own
where it sent it, else the server's), CPU p50/p95 and peak memory p95 of the measured
runs, OOM kills, and its memory limit with a sizing hint (runner.core.sizing) judged on
the runs under the limit in force now. Read from two narrow tables (usage.py) in one
query, so 100,000 runs answer in a fraction of a second.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from runner.core.sizing import sizing
from runner.localserver.errors import HttpError
from runner.localserver.records import iso
from runner.localserver.routing import Reply, Request
from runner.localserver.store import Store

DEFAULT_HOURS = 24
MAX_HOURS = 24 * 90
# Oldest first (the index's order), so that the latest limit is the last one seen.
_RUNS = """SELECT namespace, name, status, server_s, wall_s, cpu_s, memory_peak_bytes,
        memory_limit_bytes, oom_killed
    FROM task_ends WHERE ended_at >= ? ORDER BY ended_at"""
# A run: (namespace, name, status, server_s, wall_s, cpu_s, peak, limit, oom_killed).
Run = tuple[str, str, str, float | None, float | None, float | None, int | None, int | None, int]


def quantile(ordered: list[float], q: float) -> float | None:
    """The q-quantile of sorted values (nearest rank), or None for none."""
    if not ordered:
        return None
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


@dataclass
class _Type:
    runs: int = 0
    errors: int = 0
    durations: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    oom_kills: int = 0
    limit: int | None = None  # of the latest measured run
    # Under each memory limit: (peaks, OOM kills), for the hint at the latest one.
    by_limit: dict[int | None, tuple[list[float], list[int]]] = field(default_factory=dict)

    def add(self, run: Run) -> None:
        _, _, status, server_s, wall_s, cpu_s, peak, limit, oom_killed = run
        self.runs += 1
        self.errors += status == "Error"
        if wall_s is None:  # not measured: the server's time
            if server_s is not None:
                self.durations.append(server_s)
            return
        self.durations.append(wall_s)
        if cpu_s is not None:
            self.cpu.append(cpu_s)
        self.limit = limit
        peaks, kills = self.by_limit.setdefault(limit, ([], [0]))
        if peak is not None:
            peaks.append(peak)
        if oom_killed:
            self.oom_kills += 1
            kills[0] += 1

    def summary(self, namespace: str, name: str) -> dict[str, Any]:
        self.durations.sort()
        self.cpu.sort()
        peaks, kills = self.by_limit.get(self.limit, ([], [0]))
        peaks.sort()
        peak_p95 = quantile(peaks, 0.95)
        hint = sizing(len(peaks), None if peak_p95 is None else int(peak_p95), self.limit, kills[0])
        return {
            "namespace": namespace,
            "name": name,
            "runs": self.runs,
            "errors": self.errors,
            "errorRate": round(self.errors / self.runs, 4),
            "durationSeconds": {q: _round(quantile(self.durations, v)) for q, v in _DURATION_QS},
            "measured": sum(len(p) for p, _ in self.by_limit.values()),
            "cpuSeconds": {q: _round(quantile(self.cpu, v)) for q, v in _CPU_QS},
            "memoryPeakBytes": {"p95": None if peak_p95 is None else int(peak_p95)},
            "memoryLimitBytes": self.limit,
            "runsAtLimit": len(peaks),
            "oomKills": self.oom_kills,
            "sizing": {"verdict": hint.verdict, "hint": hint.hint, "memory": hint.memory},
        }


_DURATION_QS = (("p50", 0.5), ("p95", 0.95), ("p99", 0.99))
_CPU_QS = (("p50", 0.5), ("p95", 0.95))


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def task_types(runs: Iterable[Run]) -> list[dict[str, Any]]:
    """Each task type's figures from its runs (oldest first), most runs first."""
    types: dict[tuple[str, str], _Type] = {}
    for run in runs:
        key = (run[0], run[1])
        found = types.get(key)
        if found is None:
            found = types[key] = _Type()
        found.add(run)
    listed = [figures.summary(*key) for key, figures in types.items()]
    listed.sort(key=lambda t: (-t["runs"], t["namespace"], t["name"]))
    return listed


class TaskTypes:
    """The endpoint: `hours` (over 0, at most MAX_HOURS; DEFAULT_HOURS by default)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def get(self, request: Request) -> Reply:
        hours = request.number("hours", DEFAULT_HOURS)
        if not 0 < hours <= MAX_HOURS:
            raise HttpError(
                400, f"query parameter hours={hours:g} is not over 0 and at most {MAX_HOURS}"
            )
        now = datetime.now(UTC)
        with self.store.read() as db:
            cursor = db.cursor()
            cursor.row_factory = None  # plain tuples: a third of the time of named rows
            runs = cursor.execute(_RUNS, (iso(now - timedelta(hours=hours)),)).fetchall()
        listed = task_types(runs)
        return 200, {"hours": hours, "now": iso(now), "runs": len(runs), "taskTypes": listed}

"""What each task used, as its runner measured it: sent with its task log (tasklogs.py), kept
in tables of its own, and answered as `usage` with the task instance.

    "usage": {"cpuSeconds": 0.412, "memoryPeakBytes": 43253760, "wallSeconds": 1.203,
              "oomKilled": false, "start": "warm",
              "limits": {"memoryBytes": 536870912, "cpus": 1.0, "timeoutSeconds": 3600.0}}

`cpuSeconds` and `memoryPeakBytes` are null when the runner could not read them. The
tables (additive, `IF NOT EXISTS`, so an older database gains them at its next start):

- `task_usage`: one row per instance whose runner sent its usage;
- `task_ends`: one row per ended instance, its terminal status, the server's time and its
  usage beside them, kept by triggers as the terminal status and the usage arrive (in
  either order; filled once for a database from before), so that the per-task-type
  figures (tasktypes.py) read one narrow table, no join.

Deleting an instance (retention) deletes both rows, by trigger.
"""

from __future__ import annotations

import math
from typing import Any

from runner.localserver.bodies import object_of
from runner.localserver.database import Row
from runner.localserver.errors import HttpError, quoted

_STARTS = ("warm", "cold")
_MAX_BYTES = 2**53  # what a JSON number holds exactly
_MAX_SECONDS = 10 * 365 * 86400.0

_USAGE = "u.wall_s, u.cpu_s, u.memory_peak_bytes, u.memory_limit_bytes, u.oom_killed"
USAGE_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS task_usage (
        instance_id TEXT PRIMARY KEY,
        cpu_s REAL,
        memory_peak_bytes INTEGER,
        wall_s REAL NOT NULL,
        oom_killed INTEGER NOT NULL,
        start TEXT NOT NULL,
        memory_limit_bytes INTEGER,
        cpus REAL,
        timeout_s REAL)""",
    # One row per ended instance, its usage beside it (null until its runner sent it).
    """CREATE TABLE IF NOT EXISTS task_ends (
        instance_id TEXT NOT NULL UNIQUE,
        status_seq INTEGER NOT NULL,
        namespace TEXT NOT NULL,
        name TEXT NOT NULL,
        status TEXT NOT NULL,
        ended_at TEXT NOT NULL,
        server_s REAL,
        wall_s REAL,
        cpu_s REAL,
        memory_peak_bytes INTEGER,
        memory_limit_bytes INTEGER,
        oom_killed INTEGER)""",
    # Covering: the per-task-type figures read the index alone, in order (a lookup of each
    # row in the table instead takes four times as long).
    """CREATE INDEX IF NOT EXISTS task_ends_by_time ON task_ends (ended_at, namespace, name,
        status, server_s, wall_s, cpu_s, memory_peak_bytes, memory_limit_bytes, oom_killed)""",
    # The server's duration: from the hand-out to the terminal status's reception.
    f"""CREATE TRIGGER IF NOT EXISTS task_end_added AFTER INSERT ON statuses
        WHEN new.status IN ('Completed', 'Error') BEGIN
        INSERT OR IGNORE INTO task_ends
        SELECT new.instance_id, new.seq, new.namespace, new.name, new.status, new.received_at,
            (julianday(new.received_at) - julianday(i.taken_at)) * 86400.0, {_USAGE}
        FROM instances i LEFT JOIN task_usage u ON u.instance_id = i.id
        WHERE i.id = new.instance_id;
    END""",  # noqa: S608 -- constants only
    """CREATE TRIGGER IF NOT EXISTS task_usage_added AFTER INSERT ON task_usage BEGIN
        UPDATE task_ends SET wall_s = new.wall_s, cpu_s = new.cpu_s,
            memory_peak_bytes = new.memory_peak_bytes,
            memory_limit_bytes = new.memory_limit_bytes, oom_killed = new.oom_killed
        WHERE instance_id = new.instance_id;
    END""",
    # A database from before: its ended instances, once (then nothing is left to add).
    f"""INSERT OR IGNORE INTO task_ends
        SELECT s.instance_id, s.seq, s.namespace, s.name, s.status, s.received_at,
            (julianday(s.received_at) - julianday(i.taken_at)) * 86400.0, {_USAGE}
        FROM statuses s JOIN instances i ON i.id = s.instance_id
        LEFT JOIN task_usage u ON u.instance_id = s.instance_id
        WHERE s.status IN ('Completed', 'Error')
          AND s.seq > (SELECT coalesce(max(status_seq), 0) FROM task_ends)""",  # noqa: S608 -- constants only
    """CREATE TRIGGER IF NOT EXISTS task_usage_forgotten AFTER DELETE ON instances BEGIN
        DELETE FROM task_usage WHERE instance_id = old.id;
        DELETE FROM task_ends WHERE instance_id = old.id;
    END""",
)

_STORE = """INSERT OR REPLACE INTO task_usage (instance_id, cpu_s, memory_peak_bytes, wall_s,
    oom_killed, start, memory_limit_bytes, cpus, timeout_s) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"""
_FIELDS = frozenset(
    {"cpuSeconds", "memoryPeakBytes", "wallSeconds", "oomKilled", "start", "limits"}
)
_LIMITS = frozenset({"memoryBytes", "cpus", "timeoutSeconds"})


def checked(value: Any) -> dict[str, Any]:
    """A task log's `usage`, every field in range; 400 naming the first that is not."""
    usage = object_of(value, "log.usage", _FIELDS)
    _seconds(usage.get("cpuSeconds"), "log.usage.cpuSeconds", nullable=True)
    _seconds(usage.get("wallSeconds"), "log.usage.wallSeconds", nullable=False)
    _bytes(usage.get("memoryPeakBytes"), "log.usage.memoryPeakBytes")
    if not isinstance(usage.get("oomKilled"), bool):
        raise HttpError(400, "log.usage.oomKilled: must be true or false")
    if usage.get("start") not in _STARTS:
        raise HttpError(400, f"log.usage.start: {quoted(usage.get('start'))} is not warm or cold")
    limits = usage.get("limits")
    if limits is None:
        return usage
    if not isinstance(limits, dict) or set(limits) - _LIMITS:
        raise HttpError(
            400, "log.usage.limits: must be an object of memoryBytes, cpus, timeoutSeconds"
        )
    _bytes(limits.get("memoryBytes"), "log.usage.limits.memoryBytes")
    _seconds(limits.get("cpus"), "log.usage.limits.cpus", nullable=True)
    _seconds(limits.get("timeoutSeconds"), "log.usage.limits.timeoutSeconds", nullable=True)
    return usage


def _seconds(value: Any, where: str, *, nullable: bool) -> None:
    if value is None and nullable:
        return
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not 0 <= value <= _MAX_SECONDS
    ):
        raise HttpError(400, f"{where}: {quoted(value)} is not a number of 0 or more")


def _bytes(value: Any, where: str) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < _MAX_BYTES:
        raise HttpError(400, f"{where}: {quoted(value)} is not a size in bytes")


def store(db: Any, instance_id: str, usage: dict[str, Any]) -> None:
    """Keep an instance's usage (a later one replaces it, as its log does)."""
    limits = usage.get("limits") or {}
    db.execute(
        _STORE,
        (
            instance_id,
            usage.get("cpuSeconds"),
            usage.get("memoryPeakBytes"),
            usage["wallSeconds"],
            int(usage["oomKilled"]),
            usage["start"],
            limits.get("memoryBytes"),
            limits.get("cpus"),
            limits.get("timeoutSeconds"),
        ),
    )


def usage_of(db: Any, instance_id: str) -> dict[str, Any] | None:
    """An instance's usage as the API answers it, or None if its runner sent none."""
    row = db.execute("SELECT * FROM task_usage WHERE instance_id = ?", (instance_id,)).fetchone()
    return None if row is None else record(row)


def record(row: Row) -> dict[str, Any]:
    return {
        "cpuSeconds": row["cpu_s"],
        "memoryPeakBytes": row["memory_peak_bytes"],
        "wallSeconds": row["wall_s"],
        "oomKilled": bool(row["oom_killed"]),
        "start": row["start"],
        "limits": {
            "memoryBytes": row["memory_limit_bytes"],
            "cpus": row["cpus"],
            "timeoutSeconds": row["timeout_s"],
        },
    }

"""What the cockpit shows, built from stored rows: pure, so it is tested without SQL.

- `task_summary`: one line of the task list (state, progress, last message,
  outputs or error, duration);
- `chart`: task durations and throughput over the last minutes.

A duration is the runner's own (from its hand-out to the container to the task's
end, sent with the task's log) when the server has it, else the server's (from
its hand-out to the terminal status's reception), which grows when statuses
reach it late (after an outage).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from runner.core.model import TERMINAL_STATUSES
from runner.localserver.records import iso

# The states the page shows. An instance handed out to a runner that has not
# posted a status yet ("Taken" in the table) is in progress too.
SHOWN_STATES = {"Queued": "Queued", "Taken": "InProgress", "InProgress": "InProgress"}
CHART_BUCKETS = 30
MAX_CHART_POINTS = 2000


def parse_time(text: str | None) -> datetime | None:
    """A stored ISO 8601 time (`2026-11-27T12:23:34.349Z`); None for none or garbage."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def seconds_between(start: str | None, end: str | None) -> float | None:
    """Seconds from `start` to `end` (millisecond precision); None unless both are times."""
    begun, ended = parse_time(start), parse_time(end)
    if begun is None or ended is None:
        return None
    return round(max(0.0, (ended - begun).total_seconds()), 3)


def progress_fraction(value: Any) -> float | None:
    """The fraction done, from a number or its text as posted; None when there is none."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return min(1.0, max(0.0, number)) if math.isfinite(number) else None


def shown_state(state: str, cancelled: Any = False) -> str:
    """The state the page shows; an instance cancelled before a runner took it is Cancelled."""
    if state == "Queued" and cancelled:
        return "Cancelled"
    return state if state in TERMINAL_STATUSES else SHOWN_STATES.get(state, "InProgress")


def run_record(row: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """How the runner ran the task, from its task log's row (runner.core.tasklog), or None."""
    if row is None:
        return None
    return {
        "runnerId": row["runner_id"],
        "containerId": row["container_id"],
        "startedAt": row["started_at"],
        "endedAt": row["ended_at"],
        "durationS": seconds_between(row["started_at"], row["ended_at"]),
    }


def task_summary(
    row: Mapping[str, Any],
    last: Mapping[str, Any] | None,
    progress: Any,
    run: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One task instance as the list shows it.

    `row` is its instance row, `last` its latest status record (the terminal one
    once it ended: nothing is stored after it), `progress` the latest
    progressPercentage it posted and `run` its `run_record`, if a runner sent one.
    """
    state = shown_state(str(row["state"]), row["cancelled"])
    ended = last["receivedAt"] if last is not None and state in TERMINAL_STATUSES else None
    received_s = seconds_between(row["taken_at"], ended)
    run_s = run["durationS"] if run is not None and ended is not None else None
    return {
        "id": row["id"],
        "ordinal": row["ordinal"],
        "namespace": row["namespace"],
        "name": row["name"],
        "state": state,
        "cancelled": bool(row["cancelled"]),
        "createdAt": row["created_at"],
        "takenAt": row["taken_at"],
        "endedAt": ended,
        "durationS": run_s if run_s is not None else received_s,
        "receivedDurationS": received_s,
        "run": dict(run) if run is not None else None,
        "progress": 1.0 if state == "Completed" else progress_fraction(progress),
        "message": None if last is None else last["message"],
        "outputs": last["outputValues"] if last is not None and state == "Completed" else None,
        "errorLevel": last["errorLevel"] if last is not None and state == "Error" else None,
        "seq": None if last is None else last["seq"],
    }


def window_start(now: datetime, minutes: int) -> datetime:
    """When the chart's window of about `minutes` starts: its CHART_BUCKETS intervals are
    fixed in time (whole multiples of their length since the epoch), the last one holding
    `now`, so that they do not move while nothing new happens."""
    bucket_s = minutes * 60 / CHART_BUCKETS
    last = math.floor(now.timestamp() / bucket_s) * bucket_s
    return datetime.fromtimestamp(last - (CHART_BUCKETS - 1) * bucket_s, UTC)


def chart(ended: Iterable[Mapping[str, Any]], now: datetime, minutes: int) -> dict[str, Any]:
    """Throughput (tasks ended per bucket, Completed and Error) and each task's duration,
    over the window of about `minutes` that holds `now` (window_start).

    `ended` holds one mapping per terminal status: namespace, name, status,
    receivedAt, the instance's takenAt, and `run` (its run_record) or None. A task
    is placed at its end by the runner's clock when that falls in the window.
    """
    start = window_start(now, minutes)
    bucket_s = minutes * 60 / CHART_BUCKETS
    counts = [{"Completed": 0, "Error": 0} for _ in range(CHART_BUCKETS)]
    points: list[dict[str, Any]] = []
    for record in ended:
        moment = _ended_at(record, start, now)
        if moment is None or record["status"] not in counts[0]:
            continue
        index = min(CHART_BUCKETS - 1, int((moment - start).total_seconds() // bucket_s))
        counts[index][record["status"]] += 1
        points.append(_point(record, moment))
    buckets = [
        {"start": iso(start + timedelta(seconds=i * bucket_s)), **count}
        for i, count in enumerate(counts)
    ]
    durations = [p["durationS"] for p in points if p["durationS"] is not None]
    return {
        "now": iso(now),
        "minutes": minutes,
        "bucketSeconds": bucket_s,
        "buckets": buckets,
        "points": points[-MAX_CHART_POINTS:],
        "completed": sum(c["Completed"] for c in counts),
        "errors": sum(c["Error"] for c in counts),
        "medianS": round(statistics.median(durations), 3) if durations else None,
    }


def _ended_at(record: Mapping[str, Any], start: datetime, now: datetime) -> datetime | None:
    """When the task ended, by the runner's clock if it is in the window, else by the
    server's; None when neither is."""
    run = record.get("run")
    for moment in (parse_time(run["endedAt"] if run else None), parse_time(record["receivedAt"])):
        if moment is not None and start <= moment <= now:
            return moment
    return None


def _point(record: Mapping[str, Any], moment: datetime) -> dict[str, Any]:
    run = record.get("run")
    received_s = seconds_between(record["takenAt"], record["receivedAt"])
    run_s = run["durationS"] if run else None
    return {
        "task": f"{record['namespace']}/{record['name']}",
        "status": record["status"],
        "endedAt": iso(moment),
        "durationS": run_s if run_s is not None else received_s,
    }

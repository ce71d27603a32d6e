"""The cockpit's two larger reads: one instance with everything known of it, and the chart.

- `instance`: the store's instance view (its statuses), its task line, the inputs
  the task receives (defaults filled in) and those it was submitted with (for
  "run again"), and the log its runner sent, if any;
- `chart`: durations and throughput over the last minutes (views.chart), with the
  runners' own times where they sent them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from runner.core.catalog import normalize_values
from runner.localserver.cockpit.board import Board
from runner.localserver.cockpit.views import chart as chart_of
from runner.localserver.cockpit.views import run_record, window_start
from runner.localserver.jsontext import stored
from runner.localserver.records import iso
from runner.localserver.store import Store

_SUBMITTED = "SELECT input_data FROM instances WHERE id = ?"
_LOG = "SELECT * FROM task_logs WHERE instance_id = ?"
_ENDED = """SELECT s.namespace, s.name, s.status, s.received_at, i.taken_at,
        l.runner_id, l.container_id, l.started_at, l.ended_at
    FROM statuses s JOIN instances i ON i.id = s.instance_id
    LEFT JOIN task_logs l ON l.instance_id = s.instance_id
    WHERE s.received_at >= ? AND s.status IN ('Completed', 'Error') ORDER BY s.seq"""


def instance(store: Store, board: Board, instance_id: str) -> dict[str, Any] | None:
    """The instance view of the store, its summary, its inputs and its log; None if unknown."""
    view = store.instance_view(instance_id)
    summary = board.summary(instance_id)
    if view is None or summary is None:
        return None
    definition = store.definition(summary["namespace"], summary["name"]) or {}
    with store.read() as db:
        submitted = db.execute(_SUBMITTED, (instance_id,)).fetchone()
        log = db.execute(_LOG, (instance_id,)).fetchone()
    view["summary"] = summary
    view["inputs"] = normalize_values(view["instance"].get("inputData"), definition.get("inputs"))
    view["submittedInputs"] = stored(submitted["input_data"]) if submitted else {}
    view["log"] = None if log is None else _log(log)
    return view


def _log(row: Any) -> dict[str, Any]:
    lines = stored(row["lines"])
    return {
        **(run_record(row) or {}),
        "lines": lines if isinstance(lines, list) else [],
        "droppedLines": row["dropped_lines"],
        "droppedBytes": row["dropped_bytes"],
        "receivedAt": row["received_at"],
    }


def chart(store: Store, board: Board, minutes: int) -> dict[str, Any]:
    now = datetime.now(UTC)
    cutoff = iso(window_start(now, minutes))
    with store.read() as db:
        rows = db.execute(_ENDED, (cutoff,)).fetchall()
    ended = (
        {
            "namespace": r["namespace"],
            "name": r["name"],
            "status": r["status"],
            "receivedAt": r["received_at"],
            "takenAt": r["taken_at"],
            "run": run_record(r) if r["runner_id"] is not None else None,
        }
        for r in rows
    )
    return {**chart_of(ended, now, minutes), "states": board.tiles(None)["states"]}

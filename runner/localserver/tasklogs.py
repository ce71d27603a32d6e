"""Task logs: an extension of the local server's API that the platform does not have.

Every answer of the local server carries `X-XC-Task-Logs: 1`; a runner that sees
it sends, once each task ended, `POST /local/api/task-logs` (with the API key):

    {"taskInstanceId": "...", "runnerId": "...", "containerId": "..." or null,
     "startedAt": "2026-01-02T03:04:05.678Z" or null, "endedAt": "...",
     "lines": [["stderr", "Traceback ..."], ["stdout", "..."]],
     "droppedLines": 0, "droppedBytes": 0, "usage": {...}}

`lines` is what the task wrote that was no protocol message (the runner keeps the
last 64 KiB), in order; the times are the runner's own: the task handed to its
container, and its end, each kept within the instance's hand-out and the log's receipt
(a runner's clock may be off; a log cannot make a task seem to run for ages). The
cockpit shows them. A later log for the same instance replaces the earlier one (the
runner may send it again); only the runner that was handed the instance may send it,
with its hand-out's `taskLogToken` (logtokens.py). `usage`, what the task used as its
runner measured it, is optional (usage.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from runner.localserver import usage as task_usage
from runner.localserver.bodies import object_of
from runner.localserver.errors import HttpError, quoted
from runner.localserver.logtokens import LOG_TOKEN, check_log_token
from runner.localserver.records import dumps, iso, utc_now
from runner.localserver.routing import Reply, Request
from runner.localserver.store import Store

HEADER = ("X-XC-Task-Logs", "1")
PATH = "/local/api/task-logs"
MAX_LOG_CHARS = 256 * 1024  # all lines together (the runner sends at most 64 KiB)
MAX_LINES = 20_000
MAX_ID_CHARS = 200
_STREAMS = ("stdout", "stderr")
_FIELDS = frozenset(
    {"taskInstanceId", "runnerId", "containerId", "startedAt", "endedAt", "lines"}
    | {"droppedLines", "droppedBytes", "usage", LOG_TOKEN}
)
_STORE = """INSERT OR REPLACE INTO task_logs (instance_id, runner_id, container_id, started_at,
    ended_at, lines, dropped_lines, dropped_bytes, received_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"""


class TaskLogs:
    def __init__(self, store: Store) -> None:
        self.store = store

    def post(self, request: Request) -> Reply:
        log = checked(request.json("log"))
        instance_id = log["taskInstanceId"]
        with self.store.write() as db:
            row = db.execute(
                "SELECT state, taken_at FROM instances WHERE id = ?", (instance_id,)
            ).fetchone()
            if row is None:
                raise HttpError(404, f"unknown task instance {quoted(instance_id)}")
            if row["state"] == "Queued":
                raise HttpError(
                    409, f"task instance {quoted(instance_id)} was never handed out (it is Queued)"
                )
            check_log_token(db, instance_id, log.get(LOG_TOKEN))
            _within(log, row["taken_at"], utc_now())
            cursor = db.execute(
                _STORE,
                (
                    instance_id,
                    log["runnerId"],
                    log.get("containerId"),
                    log.get("startedAt"),
                    log["endedAt"],
                    dumps(log["lines"]),
                    log.get("droppedLines") or 0,
                    log.get("droppedBytes") or 0,
                    utc_now(),
                ),
            )
            if log.get("usage") is not None:
                task_usage.store(db, instance_id, log["usage"])
        return 200, {"seq": cursor.lastrowid}


def checked(body: Any) -> dict[str, Any]:
    """The task log with every field in range, times as the server writes them; 400 if not."""
    log = dict(object_of(body, "log", _FIELDS))
    instance_id = log.get("taskInstanceId")
    if isinstance(instance_id, int) and not isinstance(instance_id, bool):
        log["taskInstanceId"] = instance_id = str(instance_id)
    _text(instance_id, "log.taskInstanceId")
    _text(log.get("runnerId"), "log.runnerId")
    if log.get("containerId") is not None:
        _text(log["containerId"], "log.containerId")
    log["endedAt"] = zoned_time(log.get("endedAt"), "log.endedAt")
    if log.get("startedAt") is not None:
        log["startedAt"] = zoned_time(log["startedAt"], "log.startedAt")
    for field in ("droppedLines", "droppedBytes"):
        value = log.get(field)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**53
        ):
            raise HttpError(400, f"log.{field}: {quoted(value)} is not a count")
    log["lines"] = _lines(log.get("lines"))
    if log.get("usage") is not None:
        task_usage.checked(log["usage"])
    return log


def _within(log: dict[str, Any], handed_out: str | None, received: str) -> None:
    """The log's times moved into [hand-out, receipt], started before ended. The times are
    ISO 8601 UTC with milliseconds, as `iso` writes them: as text, they sort in time."""
    earliest = handed_out or ""
    log["endedAt"] = max(earliest, min(log["endedAt"], received))
    if log.get("startedAt") is not None:
        log["startedAt"] = max(earliest, min(log["startedAt"], log["endedAt"]))


def _text(value: Any, where: str) -> None:
    if not isinstance(value, str) or not 0 < len(value) <= MAX_ID_CHARS:
        raise HttpError(400, f"{where}: must be text of 1 to {MAX_ID_CHARS} characters")


def zoned_time(value: Any, where: str) -> str:
    """An ISO 8601 time with its zone, as the server writes times (UTC, milliseconds)."""
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None or len(value) > 40:
        raise HttpError(
            400, f"{where}: {quoted(value)} is not an ISO 8601 time with a zone (…Z)"
        )
    return iso(moment.astimezone(UTC))


def _lines(value: Any) -> list[list[str]]:
    if not isinstance(value, list) or len(value) > MAX_LINES:
        raise HttpError(400, f"log.lines: must be a list of at most {MAX_LINES} lines")
    size = 0
    for index, line in enumerate(value):
        if (
            not isinstance(line, list)
            or len(line) != 2
            or line[0] not in _STREAMS
            or not isinstance(line[1], str)
        ):
            raise HttpError(400, f'log.lines[{index}]: must be ["stdout" or "stderr", text]')
        size += len(line[1])
    if size > MAX_LOG_CHARS:
        raise HttpError(400, f"log.lines: {size} characters, over the limit of {MAX_LOG_CHARS}")
    return value

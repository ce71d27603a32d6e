"""Export: the task instances that pass the list's filters, in its order, as CSV or JSON
lines, streamed.

- `GET /local/api/cockpit/export?format=csv` (or `jsonl`) and the list's query
  parameters (query.py), with the key, or the page's header on loopback: the file;
- `POST /local/api/cockpit/exports?format=...&...`: a link, `/local/api/cockpit/exports/
  <ticket>`, that needs no key, for one download within TICKET_S. A browser sends no
  header when it follows a link, and the page never puts the key in a URL; so the page
  asks for a ticket, and the browser writes the download to disk as it arrives.

The file is read PAGE rows at a time, each page its own short read (no other request
waits long behind an export), and written out as it is read: 100,000 rows are never in
memory at once. What was submitted after the export began is not in it. At most
MAX_AT_ONCE exports are written at once (429 beyond). An export the server cannot finish
(it stops) is cut short: its connection closes before the end of the chunked body, so
its client sees an incomplete download, never a short file that looks whole.

CSV: a header line, then one line per instance (COLUMNS); outputs and inputs as JSON
text. A cell that a spreadsheet would read as a formula (=, +, -, @, a tab or a carriage
return first) gets a `'` before it (OWASP's advice on CSV injection): task text is
untrusted. JSON lines: each instance's task line as the list has it, plus its `inputs`,
values as they are.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Generator, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from runner.localserver.cockpit.access import DOWNLOADS
from runner.localserver.cockpit.board import Board
from runner.localserver.cockpit.listing import Filters, Page
from runner.localserver.cockpit.query import sort_in
from runner.localserver.errors import HttpError, quoted
from runner.localserver.jsontext import stored
from runner.localserver.routing import Reply, Request, Route, Stream
from runner.localserver.store import Store

FORMATS = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}
PAGE = 500
MAX_AT_ONCE = 2
TICKET_S = 60.0
MAX_TICKETS = 32
COLUMNS = (
    "id", "namespace", "name", "state", "cancelled", "submittedAt", "handedOutAt", "endedAt",
    "durationS", "progress", "errorLevel", "message", "outputs", "inputs", "runnerId",
    "containerId",
)  # fmt: skip
_FORMULA = ("=", "+", "-", "@", "\t", "\r")
_DROPPED = ("key", "cursor")  # a line's place in the list: nothing to a file
_INPUTS = "SELECT id, input_data FROM instances WHERE id IN ({marks})"


class Exports:
    def __init__(
        self,
        store: Store,
        board: Board,
        filters_of: Callable[[Mapping[str, str]], Filters],
        base: str,
    ) -> None:
        self._store = store
        self._board = board
        self._filters_of = filters_of
        self._slots = threading.BoundedSemaphore(MAX_AT_ONCE)
        self._tickets: dict[str, tuple[float, dict[str, str]]] = {}
        self._lock = threading.Lock()
        self.routes = (
            Route("GET", re.compile(f"{base}/export"), self.export),
            Route("POST", re.compile(f"{base}/exports"), self.ticket),
            Route("GET", re.compile(f"{DOWNLOADS}([^/]+)"), self.download),
        )

    def export(self, request: Request) -> Reply:
        return 200, self._stream(request.query)

    def ticket(self, request: Request) -> Reply:
        self._stream_checks(request.query)  # a bad query is refused now, not at the download
        token = secrets.token_urlsafe(32)
        with self._lock:
            now = time.monotonic()
            self._tickets = {t: v for t, v in self._tickets.items() if v[0] > now}
            if len(self._tickets) >= MAX_TICKETS:
                raise HttpError(429, f"{MAX_TICKETS} export links wait to be used; use one first")
            self._tickets[token] = (now + TICKET_S, dict(request.query))
        return 201, {"url": DOWNLOADS + token, "expiresInSeconds": TICKET_S}

    def download(self, request: Request) -> Reply:
        with self._lock:
            found = self._tickets.pop(request.args[0], None)
        if found is None or found[0] <= time.monotonic():
            raise HttpError(404, "no such export link: each works once, within a minute")
        return 200, self._stream(found[1])

    def _stream_checks(self, query: Mapping[str, str]) -> tuple[str, Filters]:
        fmt = query.get("format") or "csv"
        if fmt not in FORMATS:
            raise HttpError(400, f"query parameter format={quoted(fmt)} is not csv or jsonl")
        sort_in(query)
        return fmt, self._filters_of(query)

    def _stream(self, query: Mapping[str, str]) -> Stream:
        fmt, filters = self._stream_checks(query)
        if not self._slots.acquire(blocking=False):
            raise HttpError(
                429, f"{MAX_AT_ONCE} exports are being written; try again when one ends"
            )
        filters = dataclasses.replace(filters, up_to=self._board.marks().ordinal)
        lines = self._lines(fmt, filters, query)
        moment = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        return Stream(FORMATS[fmt], f"task-instances-{moment}.{fmt}", _Chunks(lines, self._slots))

    def _lines(
        self, fmt: str, filters: Filters, query: Mapping[str, str]
    ) -> Generator[bytes, None, None]:
        sort = sort_in(query)
        if fmt == "csv":
            yield _csv([COLUMNS])
        cursor = None
        while True:
            found, following = self._board.rows(Page(filters, PAGE, sort, cursor))
            inputs = self._inputs([task["id"] for task in found])
            if fmt == "csv":
                yield _csv(_csv_row(task, inputs.get(task["id"])) for task in found)
            else:
                yield "".join(_json_line(task, inputs.get(task["id"])) for task in found).encode()
            if following is None:
                return
            cursor = sort.cursor(str(following))

    def _inputs(self, ids: list[str]) -> dict[str, Any]:
        if not ids:
            return {}
        with self._store.read() as db:
            rows = db.execute(_INPUTS.format(marks=", ".join("?" * len(ids))), ids)
            return {row["id"]: stored(row["input_data"]) for row in rows}


class _Chunks:
    """The chunks of one export; closing them (at the end, or when the client goes) frees
    its slot, once."""

    def __init__(
        self, lines: Generator[bytes, None, None], slots: threading.BoundedSemaphore
    ) -> None:
        self._lines = lines
        self._slots: threading.BoundedSemaphore | None = slots

    def __iter__(self) -> Iterator[bytes]:
        return self._lines

    def close(self) -> None:
        try:
            self._lines.close()
        finally:
            slots, self._slots = self._slots, None
            if slots is not None:
                slots.release()


def _csv(rows: Any) -> bytes:
    text = io.StringIO()
    csv.writer(text, lineterminator="\r\n").writerows(rows)
    return text.getvalue().encode("utf-8", "replace")


def _csv_row(task: Mapping[str, Any], inputs: Any) -> list[Any]:
    run = task.get("run") or {}
    values = (
        task["id"], task["namespace"], task["name"], task["state"], task["cancelled"],
        task["createdAt"], task["takenAt"], task["endedAt"], task["durationS"], task["progress"],
        task["errorLevel"], task["message"], _json(task["outputs"]), _json(inputs),
        run.get("runnerId"), run.get("containerId"),
    )  # fmt: skip
    return [_cell(value) for value in values]


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return value


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)


def _json_line(task: Mapping[str, Any], inputs: Any) -> str:
    line = {k: v for k, v in task.items() if k not in _DROPPED}
    return json.dumps({**line, "inputs": inputs}) + "\n"

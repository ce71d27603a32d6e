"""The export on a real SQLite file (no HTTP): CSV and JSON lines of what the filters select
in the list's order, read a page at a time as it is written, safe to open in a
spreadsheet; its one-use download links; at most two at once."""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path
from typing import Any

import pytest

from runner.localserver.cockpit import export
from runner.localserver.cockpit.board import Board
from runner.localserver.cockpit.export import COLUMNS, Exports
from runner.localserver.cockpit.query import filters_in
from runner.localserver.errors import HttpError
from runner.localserver.routing import Request, Stream
from runner.localserver.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store(tmp_path / "scenario.db")
    for k in range(7):
        instance_id = str(store.submit("sample", "t", {"k": k, "text": f"=1+{k}"})["id"])
        store.poll("sample")
        message = '=HYPERLINK("http://x")' if k == 3 else f"done {k}"
        store.record_status({
            "taskInstanceId": instance_id,
            "status": "Error" if k % 2 else "Completed",
            "message": message,
            **({} if k % 2 else {"outputValues": {"out": f"-{k}"}}),
        })  # fmt: skip
    store.submit("sample", "t", {"k": 7})  # queued
    return store


@pytest.fixture
def exports(store: Store) -> Exports:
    return Exports(store, Board(store), filters_in, "/x")


def stream(exports: Exports, **query: str) -> Stream:
    status, body = exports.export(Request((), query, b""))
    assert status == 200 and isinstance(body, Stream)
    return body


def text(body: Stream) -> str:
    try:
        return b"".join(body.chunks).decode()
    finally:
        body.chunks.close()  # as the server closes it


def test_csv_holds_what_the_filters_select_in_the_lists_order(exports: Exports) -> None:
    body = stream(exports, format="csv", state="Error", order="asc")
    assert body.content_type == "text/csv; charset=utf-8" and body.filename.endswith(".csv")
    rows = list(csv.reader(io.StringIO(text(body))))
    assert rows[0] == list(COLUMNS)
    assert [json.loads(r[COLUMNS.index("inputs")])["k"] for r in rows[1:]] == [1, 3, 5]
    first = dict(zip(COLUMNS, rows[1], strict=True))
    assert first["state"] == "Error" and first["cancelled"] == "false"
    assert first["message"] == "done 1" and first["outputs"] == ""
    assert first["submittedAt"] and first["endedAt"] and float(first["durationS"]) >= 0


def test_csv_cells_that_a_spreadsheet_would_run_are_quoted_away(exports: Exports) -> None:
    rows = list(csv.reader(io.StringIO(text(stream(exports, format="csv", order="asc")))))
    by_k = {
        json.loads(r[COLUMNS.index("inputs")])["k"]: dict(zip(COLUMNS, r, strict=True))
        for r in rows[1:]
    }
    assert by_k[3]["message"] == '\'=HYPERLINK("http://x")'
    assert by_k[0]["inputs"] == '{"k": 0, "text": "=1+0"}'  # JSON: starts with {, left as it is
    assert json.loads(by_k[2]["outputs"]) == {"out": "-2"}


def test_json_lines_hold_each_task_line_and_its_inputs_as_they_are(exports: Exports) -> None:
    body = stream(exports, format="jsonl", sort="state", order="asc")
    assert body.content_type == "application/x-ndjson"
    lines = [json.loads(line) for line in text(body).splitlines()]
    assert [line["state"] for line in lines] == ["Queued"] + ["Completed"] * 4 + ["Error"] * 3
    assert lines[0]["inputs"] == {"k": 7} and "key" not in lines[0] and "cursor" not in lines[0]
    assert next(x for x in lines if x["inputs"]["k"] == 3)["message"] == '=HYPERLINK("http://x")'


def test_it_is_read_a_page_at_a_time_as_it_is_written(
    store: Store, exports: Exports, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export, "PAGE", 3)
    reads: list[int] = []
    real = Board.rows

    def counted(self: Board, page: Any) -> Any:
        reads.append(page.limit)
        return real(self, page)

    monkeypatch.setattr(Board, "rows", counted)
    chunks = iter(stream(exports, format="jsonl").chunks)
    first = next(chunks)
    assert reads == [3] and first.count(b"\n") == 3  # one page read, one page written
    store.submit("sample", "t", {"k": "late"})  # after the export began: not in it
    rest = b"".join(chunks)
    assert reads == [3, 3, 3] and (first + rest).count(b"\n") == 8
    assert b"late" not in rest


def test_a_download_link_works_once_within_a_minute(
    exports: Exports, monkeypatch: pytest.MonkeyPatch
) -> None:
    status, answer = exports.ticket(Request((), {"format": "jsonl", "state": "Queued"}, b""))
    assert status == 201 and answer["url"].startswith("/local/api/cockpit/exports/")
    token = answer["url"].rsplit("/", 1)[1]
    assert len(token) >= 40
    status, body = exports.download(Request((token,), {}, b""))
    assert status == 200 and [json.loads(x)["state"] for x in text(body).splitlines()] == ["Queued"]
    with pytest.raises(HttpError) as again:
        exports.download(Request((token,), {}, b""))
    assert again.value.status == 404 and "each works once, within a minute" in again.value.message
    _, answer = exports.ticket(Request((), {}, b""))
    later = time.monotonic() + export.TICKET_S + 1
    monkeypatch.setattr(export.time, "monotonic", lambda: later)
    with pytest.raises(HttpError) as expired:
        exports.download(Request((answer["url"].rsplit("/", 1)[1],), {}, b""))
    assert expired.value.status == 404


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ({"format": "xlsx"}, "format='xlsx' is not csv or jsonl"),
        ({"sort": "size"}, "sort='size' is not one of"),
        ({"state": "Lost"}, "state='Lost' is not one of"),
    ],
)
def test_a_bad_query_is_refused_before_a_link_is_made(
    exports: Exports, query: dict[str, str], words: str
) -> None:
    for ask in (exports.ticket, exports.export):
        with pytest.raises(HttpError) as refused:
            ask(Request((), query, b""))
        assert refused.value.status == 400 and words in refused.value.message


def test_at_most_two_exports_at_once_and_a_closed_one_frees_its_place(exports: Exports) -> None:
    first, second = stream(exports), stream(exports)
    with pytest.raises(HttpError) as busy:
        stream(exports)
    assert busy.value.status == 429 and "try again when one ends" in busy.value.message
    first.chunks.close()  # the client went away
    first.chunks.close()  # closed twice frees it once
    text(stream(exports))
    second.chunks.close()
    text(stream(exports))

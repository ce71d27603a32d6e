"""The cockpit's orders and time ranges: sorting by submission, end, duration and state
either way, each page continuing after the last (cursors), those not ended last both
ways, times kept by triggers (the runner's duration once its log came), ranges; on a real
SQLite file (no HTTP), and the pure cursor rules."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from runner.localserver.cockpit.board import Board
from runner.localserver.cockpit.listing import Between, Filters, Page
from runner.localserver.cockpit.query import filters_in
from runner.localserver.cockpit.sorting import Cursor, Sort, sort_of
from runner.localserver.errors import HttpError
from runner.localserver.sql import INSERT_STATUS, SCHEMA
from runner.localserver.store import Store

PLATFORM_TABLES = SCHEMA[: next(i for i, s in enumerate(SCHEMA) if "statuses_received" in s) + 1]
T0 = "2026-12-01T10:00:00.000Z"


def at(seconds: float) -> str:
    """A stored time, `seconds` after T0."""
    whole, milli = divmod(round(seconds * 1000), 1000)
    minutes, second = divmod(whole, 60)
    return f"2026-12-01T10:{minutes:02d}:{second:02d}.{milli:03d}Z"


def end(store: Store, instance_id: str, status: str, taken_s: float, ended_s: float) -> None:
    """The instance handed out at T0 + taken_s and ended at T0 + ended_s, as the server saw
    it: its status written as the store writes one, at that time (the triggers do the rest)."""
    with store.write() as db:
        db.execute(
            "UPDATE instances SET taken_at = ?, state = ? WHERE id = ?",
            (at(taken_s), status, instance_id),
        )
        values = (instance_id, "sample", "t", status, "m", None, None, None, at(ended_s))
        db.execute(INSERT_STATUS, values)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "scenario.db")


def seed(store: Store) -> list[str]:
    """Eight instances: five ended (durations 5, 1, 9, 1, 3 s; ended at 20, 12, 30, 11, 25 s),
    one running, one queued, one queued and cancelled."""
    ids = [str(store.submit("sample", "t")["id"]) for _ in range(8)]
    for _ in range(6):
        store.poll("sample")
    for index, (taken, ended) in enumerate(((15, 20), (11, 12), (21, 30), (10, 11), (22, 25))):
        end(store, ids[index], "Error" if index == 2 else "Completed", taken, ended)
    store.record_status({"taskInstanceId": ids[5], "status": "InProgress", "message": "go"})
    store.cancel(ids[7])
    return ids


def every(board: Board, sort: Sort, filters: Filters | None = None, limit: int = 3) -> list[str]:
    """Every instance in `sort`, read `limit` at a time, each page after the last."""
    seen: list[str] = []
    cursor: Cursor | None = None
    while True:
        found, _, following = board.page(Page(filters or Filters(), limit, sort, cursor))
        seen += [task["id"] for task in found]
        if following is None:
            return seen
        cursor = sort.cursor(str(following))


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        (Sort("ended"), [2, 4, 0, 1, 3, 7, 6, 5]),  # ended last first; not ended last, newest first
        (Sort("ended", descending=False), [3, 1, 0, 4, 2, 5, 6, 7]),
        (Sort("duration"), [2, 0, 4, 3, 1, 7, 6, 5]),  # ties (1 s) by submission, newest first
        (Sort("duration", descending=False), [1, 3, 4, 0, 2, 5, 6, 7]),
        (Sort("state", descending=False), [6, 5, 0, 1, 3, 4, 2, 7]),
        (Sort("state"), [7, 2, 4, 3, 1, 0, 5, 6]),
        (Sort(), [7, 6, 5, 4, 3, 2, 1, 0]),
        (Sort(descending=False), [0, 1, 2, 3, 4, 5, 6, 7]),
    ],
)
def test_every_order_either_way_pages_through_every_instance_once(
    store: Store, sort: Sort, order: list[int]
) -> None:
    ids = seed(store)
    board = Board(store)
    assert every(board, sort) == [ids[k] for k in order]
    assert every(board, sort, limit=100) == [ids[k] for k in order]


def test_a_task_line_says_its_place_and_where_the_next_page_starts(store: Store) -> None:
    ids = seed(store)
    found, _, following = Board(store).page(Page(Filters(), 2, Sort("duration")))
    assert [t["key"] for t in found] == [[9000, 3], [5000, 1]]
    assert [t["cursor"] for t in found] == ["9000,3", "5000,1"] and following == "5000,1"
    found, _, _ = Board(store).page(Page(Filters(state="Queued"), 5, Sort("ended", False)))
    assert found[0]["id"] == ids[6] and found[0]["key"] == ["~", 7]  # not ended: last
    submitted, _, following = Board(store).page(Page(Filters(), 1))
    assert submitted[0]["cursor"] == 8 and following == 8  # an ordinal, as before sorting


def test_the_runners_duration_replaces_the_servers_when_its_log_comes(store: Store) -> None:
    instance_id = str(store.submit("sample", "t")["id"])
    store.poll("sample")
    store.record_status({"taskInstanceId": instance_id, "status": "Completed", "message": ""})

    def times() -> tuple[Any, ...]:
        with store.read() as db:
            row = db.execute("SELECT ended_at, duration_ms FROM instance_times").fetchone()
        return tuple(row)

    ended, server_ms = times()
    assert ended is not None and server_ms is not None and server_ms >= 0
    with store.write() as db:
        db.execute(
            "INSERT INTO task_logs (instance_id, runner_id, started_at, ended_at, lines,"
            " received_at) VALUES (?, 'r', ?, ?, '[]', ?)",
            (instance_id, at(1), at(22.5), at(30)),
        )
    assert times() == (ended, 21_500)
    summary = Board(store).summary(instance_id)
    assert summary is not None and summary["durationS"] == 21.5  # the list says the same


def test_a_database_from_before_gains_the_times_of_its_instances(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        for statement in PLATFORM_TABLES:
            db.execute(statement)
        for k, state in enumerate(("Completed", "Queued")):
            db.execute(
                "INSERT INTO instances (id, namespace, name, input_data, workflow_instance_id,"
                " created_at, state, taken_at) VALUES (?, 'n', 't', '{}', 'w', ?, ?, ?)",
                (f"old-{k}", T0, state, at(1) if state != "Queued" else None),
            )
        db.execute(
            "INSERT INTO statuses (instance_id, namespace, name, status, message, received_at)"
            " VALUES ('old-0', 'n', 't', 'Completed', '', ?)",
            (at(3.25),),
        )
    with Store(path) as store, store.read() as db:
        rows = [tuple(r) for r in db.execute("SELECT * FROM instance_times ORDER BY ordinal")]
    assert rows == [(1, at(3.25), 2250), (2, None, None)]


def test_deleting_an_instance_deletes_its_times(store: Store) -> None:
    ids = seed(store)
    with store.write() as db:
        db.execute("DELETE FROM statuses WHERE instance_id = ?", (ids[0],))
        db.execute("DELETE FROM instances WHERE id = ?", (ids[0],))
        left = db.execute("SELECT count(*) FROM instance_times").fetchone()[0]
    assert left == 7


def test_time_ranges_select_by_submission_or_end(store: Store) -> None:
    ids = seed(store)
    with store.write() as db:
        db.executemany(
            "UPDATE instances SET created_at = ? WHERE id = ?",
            [(at(k), instance_id) for k, instance_id in enumerate(ids)],
        )
    board = Board(store)

    def ids_of(filters: Filters) -> list[str]:
        return [t["id"] for t in board.page(Page(filters, 100, Sort(descending=False)))[0]]

    assert ids_of(Filters(submitted=Between(at(2), at(5)))) == ids[2:5]
    assert ids_of(Filters(submitted=Between(start=at(6)))) == ids[6:]
    assert ids_of(Filters(ended=Between(at(12), at(26)))) == [ids[0], ids[1], ids[4]]
    assert ids_of(Filters(ended=Between(end=at(12)))) == [ids[3]]  # not ended: never in a range
    assert ids_of(Filters(ended=Between(start=at(25)), state="Error")) == [ids[2]]


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ({"submittedFrom": "yesterday"}, "submittedFrom: 'yesterday' is not an ISO 8601 time"),
        ({"endedTo": "2026-12-01T10:00"}, "'2026-12-01T10:00' is not an ISO 8601 time with a zone"),
        ({"endedFrom": T0, "endedTo": T0}, "endedFrom and endedTo: the range is empty"),
        ({"failure": "ZeroDivisionError"}, "failure='ZeroDivisionError' is not a failure group"),
    ],
)
def test_a_bad_range_or_group_is_refused_naming_it(query: dict[str, str], words: str) -> None:
    with pytest.raises(HttpError) as refused:
        filters_in(query)
    assert refused.value.status == 400 and words in refused.value.message


def test_times_in_any_zone_are_read_as_the_server_writes_them() -> None:
    found = filters_in(
        {"submittedFrom": "2026-12-01T11:00:00+01:00", "endedTo": "2026-12-01T10:00:00.5Z"}
    )
    assert found.submitted == Between(T0, None)
    assert found.ended == Between(None, "2026-12-01T10:00:00.500Z")


@pytest.mark.parametrize(
    ("sort", "text", "cursor"),
    [
        (Sort(), "42", Cursor(None, 42)),
        (Sort("ended"), "2026-12-01T10:00:00.000Z,7", Cursor("2026-12-01T10:00:00.000Z", 7)),
        (Sort("ended"), "~,7", Cursor("~", 7)),
        (Sort("duration"), "-1,3", Cursor(-1, 3)),
        (Sort("duration", False), f"{2**63 - 1},3", Cursor(2**63 - 1, 3)),
        (Sort("state"), "4,12", Cursor(4, 12)),
    ],
)
def test_cursors_are_read_back(sort: Sort, text: str, cursor: Cursor) -> None:
    assert sort.cursor(text) == cursor


@pytest.mark.parametrize(
    ("sort", "text"),
    [
        (Sort(), "7,8"),
        (Sort(), "-3"),
        (Sort("ended"), "42"),
        (Sort("duration"), "fast,3"),
        (Sort("duration"), f"{2**63},3"),
        (Sort("state"), "1,٣"),  # a digit, but not an ASCII one
        (Sort("state"), "1," + "9" * 19),
    ],
)
def test_a_cursor_of_another_order_or_out_of_range_is_refused(sort: Sort, text: str) -> None:
    with pytest.raises(HttpError) as refused:
        sort.cursor(text)
    assert refused.value.status == 400 and f"a list sorted by {sort.key}" in refused.value.message


def test_sorts_are_named_so_and_wrong_ones_refused() -> None:
    assert sort_of(None, None) == Sort()
    assert sort_of("duration", "asc") == Sort("duration", descending=False)
    assert sort_of("submitted", "oldest") == Sort(descending=False)  # the words of before
    for key, order, words in (
        ("size", None, "sort='size' is not one of submitted, ended, duration, state"),
        ("ended", "up", "order='up' is not desc or asc"),
    ):
        with pytest.raises(HttpError, match=words):
            sort_of(key, order)

"""The cockpit's list: its filters, search, order and paging, what changed for a long poll,
and the task logs a runner sends, on a real SQLite file (no HTTP); and the cockpit's
tables added to a database made before them."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from runner.localserver.cockpit.board import Board, Marks
from runner.localserver.cockpit.listing import Filters, Page
from runner.localserver.cockpit.sorting import Sort
from runner.localserver.errors import HttpError
from runner.localserver.sql import SCHEMA
from runner.localserver.store import Store
from runner.localserver.tasklogs import checked

# The local server's tables before the cockpit added its own.
PLATFORM_TABLES = SCHEMA[: next(i for i, s in enumerate(SCHEMA) if "statuses_received" in s) + 1]


def seed(store: Store, count: int = 12) -> list[str]:
    """`count` instances of sample/a and sample/b by turns; every third ended in Error
    ("boom k"), others Completed with {"echo": "wk"}; the last two queued, one cancelled."""
    ids = []
    for k in range(count):
        name = "a" if k % 2 == 0 else "b"
        ids.append(str(store.submit("sample", name, {"word": f"w{k}", "text": "naïve"})["id"]))
    for k, instance_id in enumerate(ids[:-2]):
        store.poll("sample")
        if k % 3 == 0:
            body: dict[str, Any] = {"status": "Error", "message": f"boom {k}"}
        else:
            body = {"status": "Completed", "message": "", "outputValues": {"echo": f"w{k}"}}
        store.record_status({"taskInstanceId": instance_id, **body})
    store.cancel(ids[-1])
    return ids


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "scenario.db")


NEWEST = Sort()
OLDEST = Sort(descending=False)


def listed(
    board: Board,
    filters: Filters,
    *,
    limit: int = 100,
    sort: Sort = NEWEST,
    cursor: int | str | None = None,
) -> tuple[list[str], int, int | str | None]:
    after = None if cursor is None else sort.cursor(str(cursor))
    found, total, following = board.page(Page(filters, limit, sort, after))
    return [t["id"] for t in found], total, following


def test_filters_by_state_task_and_namespace(store: Store) -> None:
    ids = seed(store)
    board = Board(store)
    errors = [ids[k] for k in range(10) if k % 3 == 0]
    assert listed(board, Filters(state="Error")) == (errors[::-1], 4, None)
    assert listed(board, Filters(state="Queued"))[0] == [ids[10]]
    assert listed(board, Filters(state="Cancelled"))[0] == [ids[11]]
    assert listed(board, Filters(namespace="sample", name="b"))[1] == 6
    assert listed(board, Filters(namespace="other")) == ([], 0, None)
    assert listed(board, Filters(name="a", state="Error"))[0] == [ids[6], ids[0]]


def test_pages_newest_or_oldest_first_reach_every_instance(store: Store) -> None:
    ids = seed(store)
    board = Board(store)
    seen: list[str] = []
    cursor = None
    while True:
        page, total, cursor = listed(board, Filters(), limit=5, cursor=cursor)
        seen += page
        if cursor is None:
            break
    assert seen == ids[::-1] and total == 12
    page, _, cursor = listed(board, Filters(), limit=5, sort=OLDEST)
    assert page == ids[:5]
    assert listed(board, Filters(), limit=5, sort=OLDEST, cursor=cursor)[0] == ids[5:10]


def test_search_matches_an_id_start_or_text_in_inputs_outputs_and_messages(
    store: Store,
) -> None:
    ids = seed(store)
    board = Board(store)
    assert listed(board, Filters(text=ids[4][:8]))[0] == [ids[4]]
    assert listed(board, Filters(text="BOOM 9"))[0] == [ids[9]]  # ASCII letters in any case
    assert listed(board, Filters(text="echo"))[1] == 6  # an output's name
    assert listed(board, Filters(text="w11"))[0] == [ids[11]]  # an input's value
    assert listed(board, Filters(text="naïve"))[1] == 12  # decoded, not as JSON escapes
    assert listed(board, Filters(text="sample/b"))[1] == 6  # the task
    assert listed(board, Filters(text="w1_"))[0] == []  # _ and % are themselves
    store.submit("sample", "a", {"word": "100% w1_x"})
    assert len(listed(board, Filters(text="w1_"))[0]) == 1
    assert len(listed(board, Filters(text="00%"))[0]) == 1
    assert listed(board, Filters(text="zz"))[0] == []  # short text: ids only


def test_changes_follow_the_filters(store: Store) -> None:
    ids = seed(store)
    board = Board(store)
    marks = board.marks()
    store.poll("sample")  # ids[10] handed out: it leaves "Queued"
    new = str(store.submit("sample", "a")["id"])
    found = board.changed(marks, Filters(state="Queued"), 100)
    assert [t["id"] for t in found.tasks] == [new]
    assert found.gone == []  # a hand-out is no status yet
    store.record_status({"taskInstanceId": ids[10], "status": "InProgress", "message": "go"})
    found = board.changed(marks, Filters(state="Queued"), 100)
    assert found.gone == [ids[10]]
    store.cancel(new)  # a change that is no status
    later = board.changed(board.marks()._replace(change=marks.change), Filters(), 100)
    assert [t["id"] for t in later.tasks] == [new]
    assert later.tasks[0]["state"] == "Cancelled"


def test_a_database_from_before_the_cockpit_gains_its_tables_and_search(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        for statement in PLATFORM_TABLES:
            db.execute(statement)
        db.execute(
            "INSERT INTO instances (id, namespace, name, input_data, workflow_instance_id,"
            " created_at, state) VALUES ('old-1', 'n', 't', '{\"x\": \"needle\"}', 'w',"
            " '2026-01-01T00:00:00.000Z', 'Error')"
        )
        db.execute(
            "INSERT INTO statuses (instance_id, namespace, name, status, message, received_at)"
            " VALUES ('old-1', 'n', 't', 'Error', 'haystack', '2026-01-01T00:00:01.000Z')"
        )
    with Store(path) as store:
        board = Board(store)
        assert listed(board, Filters(text="needle"))[0] == ["old-1"]
        assert listed(board, Filters(text="haystack"))[0] == ["old-1"]
        assert board.marks() == Marks(1, 1, 0)
    with Store(path) as store, store.read() as db:  # and again: nothing indexed twice
        assert db.execute("SELECT count(*) FROM instance_text").fetchone()[0] == 1


def test_deleting_an_instance_deletes_what_the_cockpit_keeps_of_it(store: Store) -> None:
    ids = seed(store, 3)
    with store.write() as db:
        db.execute(
            "INSERT INTO task_logs (instance_id, runner_id, ended_at, lines, received_at)"
            " VALUES (?, 'r', 'x', '[]', 'x')",
            (ids[0],),
        )
        db.execute("DELETE FROM statuses WHERE instance_id = ?", (ids[0],))
        db.execute("DELETE FROM instances WHERE id = ?", (ids[0],))
        left = [
            db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
            for table in ("instance_text", "task_logs", "instance_changes")
        ]
    assert left == [2, 0, 1]  # the cancellation of ids[-1] stays


def log(**changes: Any) -> dict[str, Any]:
    return {
        "taskInstanceId": "i1",
        "runnerId": "r1",
        "containerId": "c1",
        "startedAt": "2026-11-27T12:00:01.000+01:00",
        "endedAt": "2026-11-27T11:00:02.500Z",
        "lines": [["stderr", "Traceback"], ["stdout", "x"]],
        **changes,
    }


def test_a_task_log_is_checked_and_its_times_written_as_the_server_writes_them() -> None:
    good = checked(log())
    assert good["startedAt"] == "2026-11-27T11:00:01.000Z"
    assert good["endedAt"] == "2026-11-27T11:00:02.500Z"
    assert checked(log(taskInstanceId=42))["taskInstanceId"] == "42"
    assert checked(log(startedAt=None, containerId=None))["startedAt"] is None


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"endedAt": "yesterday"}, "log.endedAt: 'yesterday' is not an ISO 8601 time"),
        ({"endedAt": "2026-11-27T11:00:02"}, "with a zone"),
        ({"runnerId": ""}, "log.runnerId: must be text of 1 to 200 characters"),
        ({"lines": [["stdin", "x"]]}, 'log.lines[0]: must be ["stdout" or "stderr", text]'),
        ({"lines": [["stderr", "x" * 300_000]]}, "over the limit of 262144"),
        ({"droppedBytes": -1}, "log.droppedBytes: -1 is not a count"),
        ({"color": "red"}, "unknown field(s) 'color'"),
    ],
)
def test_a_bad_task_log_is_refused_naming_the_field(changes: dict[str, Any], words: str) -> None:
    with pytest.raises(HttpError) as refused:
        checked(log(**changes))
    assert refused.value.status == 400 and words in refused.value.message

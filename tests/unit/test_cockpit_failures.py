"""Failures grouped by message: the folding (numbers, ids, times and quoted values away, so
one bug is one group), in linear time; the groups of a database (count, first and last
seen, the tasks hit, the newest message), kept up to date as failures come, and the
list filtered to one group exactly."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runner.contracts import Contracts
from runner.localserver.cockpit.board import Board
from runner.localserver.cockpit.endpoints import Cockpit
from runner.localserver.cockpit.failuregroups import FailureGroups
from runner.localserver.cockpit.failures import FOLDED_CHARS, NO_MESSAGE, fold, key_of
from runner.localserver.cockpit.listing import Filters, Page
from runner.localserver.routing import LongPolls, Request
from runner.localserver.store import Store


@pytest.mark.parametrize(
    ("message", "folded"),
    [
        ("ZeroDivisionError: division by zero", "ZeroDivisionError: division by zero"),
        ("Incorrect value 'x7' for nbr_in", "Incorrect value '…' for nbr_in"),
        ('KeyError: "width"', 'KeyError: "…"'),
        ("can't open file '/app/x.py': [Errno 2]", "can't open file '…': [Errno <n>]"),
        ("task 6f1c0a2e-1b2c-4d5e-8f90-123456789abc not found", "task <id> not found"),
        ("container 4777b29b67b9 exited 137", "container <id> exited <n>"),
        ("at 0x7f3a2b1c", "at <id>"),
        ("timed out after 12345678 ms", "timed out after <n> ms"),  # decimal: a number
        ("due 2026-12-01T10:00:03.123Z, at 10:00:04", "due <time>, at <time>"),
        ("value -3.5e10 too big", "value <n> too big"),
        ("w12 and task42", "w<n> and task<n>"),
        ("  two\n\tlines  ", "two lines"),
        ("", NO_MESSAGE),
        (None, NO_MESSAGE),
    ],
)
def test_what_changes_from_one_occurrence_to_the_next_is_folded(
    message: str | None, folded: str
) -> None:
    assert fold(message) == folded


def test_one_bug_is_one_group_and_two_bugs_are_two() -> None:
    same = {key_of(fold(f"Incorrect value '{v}' for nbr_in")) for v in ("a", "12", "x y")}
    assert len(same) == 1
    assert key_of(fold("boom 1")) != key_of(fold("bang 1"))
    assert len(key_of("x")) == 16


@given(st.text(max_size=300))
@settings(max_examples=300, deadline=None)
def test_folding_twice_is_folding_once(message: str) -> None:
    assert fold(fold(message)) == fold(message)


def test_folding_takes_time_linear_in_the_message() -> None:
    """Only the first FOLDED_CHARS characters count, and each pass is linear in them, so the
    worst message costs about what a plain one does."""
    pieces = ["'", "0", "a1", "1.", "12:", '"a', "f" * 7 + " "]
    adversarial = [piece * FOLDED_CHARS for piece in pieces]
    plain = "ZeroDivisionError: division by zero " * 20
    for text in [plain, *adversarial]:
        began = time.perf_counter()
        for _ in range(200):
            fold(text * 100)  # 100 times the limit: cut first
        took = time.perf_counter() - began
        assert took < 2.0, f"{text[:10]!r}: {took:.2f} s for 200"


def fail(store: Store, namespace: str, name: str, message: str | None) -> str:
    instance_id = str(store.submit(namespace, name)["id"])
    store.poll(namespace, name)
    store.record_status({"taskInstanceId": instance_id, "status": "Error", "message": message})
    return instance_id


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "scenario.db")


def test_groups_say_how_many_when_and_which_tasks(store: Store) -> None:
    for _ in range(3):
        fail(store, "sample", "zero_division", "ZeroDivisionError: division by zero")
    wrong = [fail(store, "sample", "double", f"Incorrect value '{v}' for nbr_in") for v in "abcd"]
    wrong.append(fail(store, "other", "double", "Incorrect value '9' for nbr_in"))
    done = str(store.submit("sample", "double")["id"])
    store.poll("sample", "double")
    store.record_status({"taskInstanceId": done, "status": "Completed", "message": "boom 1"})
    found = FailureGroups(store).groups(Filters())
    assert (found["count"], found["failures"]) == (2, 8)
    first, second = found["groups"]
    assert first["message"] == "Incorrect value '…' for nbr_in" and first["count"] == 5
    assert first["tasks"] == [
        {"task": "sample/double", "count": 4},
        {"task": "other/double", "count": 1},
    ]
    assert first["example"] == "Incorrect value '9' for nbr_in"  # the newest, as it was
    with store.read() as db:
        times = [
            r[0]
            for r in db.execute(
                "SELECT received_at FROM statuses WHERE status = 'Error' ORDER BY seq"
            )
        ]
    assert (first["firstSeen"], first["lastSeen"]) == (times[3], times[7])
    assert (second["count"], second["firstSeen"], second["lastSeen"]) == (3, times[0], times[2])

    # The list of one group: exactly its failures, whatever else matches its words.
    board = Board(store)
    listed = board.page(Page(Filters(failure=first["key"]), 100))
    assert sorted(t["id"] for t in listed[0]) == sorted(wrong) and listed[1] == 5
    assert board.page(Page(Filters(failure=second["key"], namespace="sample"), 100))[1] == 3
    # The list's filters apply to the groups, their state and group aside.
    only = FailureGroups(store).groups(Filters(namespace="other", state="Completed"))
    assert [(g["message"], g["count"]) for g in only["groups"]] == [
        ("Incorrect value '…' for nbr_in", 1)
    ]


def test_new_failures_join_their_groups_and_each_is_folded_once(store: Store) -> None:
    groups = FailureGroups(store)
    fail(store, "sample", "t", "boom 1")
    assert groups.groups(Filters())["groups"][0]["count"] == 1
    fail(store, "sample", "t", "boom 2")
    fail(store, "sample", "t", None)
    found = groups.groups(Filters())
    shown = [(g["message"], g["count"]) for g in found["groups"]]
    assert shown == [("boom <n>", 2), (NO_MESSAGE, 1)]
    with store.read() as db:
        assert db.execute("SELECT count(*) FROM failure_keys").fetchone()[0] == 3
    # Another reader of the same file (a restart) folds only what it lacks.
    assert FailureGroups(store).groups(Filters())["failures"] == 3


def test_a_deleted_instance_leaves_its_group(store: Store) -> None:
    gone = fail(store, "sample", "t", "boom 1")
    fail(store, "sample", "t", "boom 2")
    groups = FailureGroups(store)
    groups.keep_up()
    with store.write() as db:
        db.execute("DELETE FROM statuses WHERE instance_id = ?", (gone,))
        db.execute("DELETE FROM instances WHERE id = ?", (gone,))
    assert groups.groups(Filters())["failures"] == 1


def test_no_failure_no_group(store: Store) -> None:
    store.submit("sample", "t")
    assert FailureGroups(store).groups(Filters()) == {"groups": [], "count": 0, "failures": 0}


def test_a_failure_during_a_long_poll_on_its_group_comes_in_that_list(store: Store) -> None:
    """A failure that comes while the list of its group waits for changes joins the group
    before the poll looks, so it is sent as one of the list's, not as gone (and then lost:
    the next poll starts after it)."""
    fail(store, "sample", "t", "boom 1")
    cockpit = Cockpit(store, Contracts(), LongPolls(1))
    key = cockpit.failure_groups.groups(Filters())["groups"][0]["key"]
    first = cockpit.tasks(Request((), {"failure": key}, b""))[1]
    assert first["total"] == 1
    query = {
        "failure": key,
        "after": str(first["last"]),
        "since": str(first["lastInstance"]),
        "changes": str(first["lastChange"]),
        "waitSeconds": "10",
    }
    answers: list[dict[str, Any]] = []
    poll = threading.Thread(
        target=lambda: answers.append(cockpit.tasks(Request((), query, b""))[1])
    )
    poll.start()
    time.sleep(0.3)  # the poll is waiting
    newer = fail(store, "sample", "t", "boom 2")
    poll.join(15)
    (answer,) = answers
    assert newer in [t["id"] for t in answer["tasks"]] and newer not in answer["gone"]
    assert answer["total"] == 2


def test_a_bulk_action_on_a_group_takes_its_failures_not_yet_folded(store: Store) -> None:
    cockpit = Cockpit(store, Contracts(), LongPolls(1))
    fail(store, "sample", "t", "boom 1")
    key = cockpit.failure_groups.groups(Filters())["groups"][0]["key"]
    fail(store, "sample", "t", "boom 2")  # not folded by any read since
    body = json.dumps({"action": "cancel", "match": {"failure": key}})
    status, answer = cockpit.bulk.start(Request((), {}, body.encode()))
    assert status == 202 and answer["action"]["total"] == 2

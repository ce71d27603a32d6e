"""Bulk actions on a real SQLite file (no HTTP): cancelling or running again the instances
picked or all that match, in one request, with progress and a result in words; bounded in
size and to one at a time; each wrong body a 400 that names the field."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from runner.contracts import Contracts
from runner.localserver.cockpit import bulk
from runner.localserver.cockpit.board import Board
from runner.localserver.cockpit.bulk import BulkActions
from runner.localserver.cockpit.listing import Filters, Page
from runner.localserver.cockpit.query import filters_in
from runner.localserver.database import StoreError
from runner.localserver.errors import HttpError
from runner.localserver.routing import Request
from runner.localserver.store import Store

RECTANGLE = {
    "name": "rectangle",
    "schemaVersion": 0,
    "inputs": [{"name": "width", "baseType": "Number"}, {"name": "height", "baseType": "Number"}],
}


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "scenario.db")


@pytest.fixture
def actions(store: Store) -> BulkActions:
    return BulkActions(store, Contracts(), filters_in, "/b")


def start(actions: BulkActions, body: dict[str, Any]) -> dict[str, Any]:
    status, answer = actions.start(Request((), {}, json.dumps(body).encode()))
    assert status == 202
    return dict(answer["action"])


def finished(actions: BulkActions, action: dict[str, Any]) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        shown = dict(actions.show(Request((action["id"],), {}, b""))[1]["action"])
        if shown["state"] != "running" or time.monotonic() > deadline:
            return shown
        time.sleep(0.01)


def states(store: Store, ids: list[str]) -> list[tuple[str, bool]]:
    with store.read() as db:
        rows = {
            r["id"]: (r["state"], bool(r["cancelled"]))
            for r in db.execute("SELECT id, state, cancelled FROM instances")
        }
    return [rows[i] for i in ids]


def test_cancel_all_that_match_says_what_became_of_each(store: Store, actions: BulkActions) -> None:
    ids = [str(store.submit("sample", "rectangle", {"width": k})["id"]) for k in range(6)]
    store.poll("sample")  # ids[0] running
    store.poll("sample")  # ids[1] running, then ended
    store.record_status({"taskInstanceId": ids[1], "status": "Completed", "message": ""})
    store.cancel(ids[2])
    later = str(store.submit("sample", "rectangle")["id"])  # after the count the user saw
    up_to = Board(store).marks().ordinal - 1
    action = start(actions, {"action": "cancel", "match": {"namespace": "sample"}, "upTo": up_to})
    done = finished(actions, action)
    assert done["state"] == "done" and done["total"] == done["done"] == 6
    assert done["counts"] == {
        "cancelled": 3,
        "stopping": 1,
        "alreadyEnded": 1,
        "alreadyCancelled": 1,
    }
    assert done["result"] == (
        "4 cancelled (1 of them running: their runners stop them), 1 had already ended, "
        "1 was already cancelled."
    )
    assert states(store, ids) == [
        ("Taken", True), ("Completed", False), ("Queued", True),
        ("Queued", True), ("Queued", True), ("Queued", True),
    ]  # fmt: skip
    assert states(store, [later]) == [("Queued", False)]
    # The live list learns of each cancellation.
    changed = Board(store).changed(Board(store).marks()._replace(change=0), Filters(), 100)
    assert {t["id"] for t in changed.tasks} >= set(ids[2:6]) | {ids[0]}


def test_run_again_queues_each_with_its_inputs_once_they_pass_the_checks(
    store: Store, actions: BulkActions
) -> None:
    store.publish_catalog("sample", [RECTANGLE])
    good = [
        str(store.submit("sample", "rectangle", {"width": k, "height": 2}, 5000)["id"])
        for k in range(3)
    ]
    bad = [
        str(store.submit("sample", "rectangle", {"width": w, "height": 1})["id"])
        for w in ("x", "y")
    ]
    gone = str(store.submit("elsewhere", "task", {})["id"])
    action = start(actions, {"action": "rerun", "ids": [*good, *bad, gone, "no-such-id"]})
    done = finished(actions, action)
    assert done["counts"] == {"queued": 3, "refused": 3, "gone": 1}
    assert done["refusals"] == [
        {"reason": "sample/rectangle: input.width: '…' is not a number (or its text)", "count": 2},
        {"reason": "elsewhere/task is not in the published catalog", "count": 1},
    ]
    assert done["result"] == (
        "3 queued again, 3 refused (their inputs fail the checks now), 1 no longer exists."
    )
    with store.read() as db:
        again = db.execute(
            "SELECT input_data, timeout_ms, state FROM instances WHERE ordinal > 6 ORDER BY ordinal"
        ).fetchall()
    assert [json.loads(r["input_data"])["width"] for r in again] == [0, 1, 2]
    assert {(r["timeout_ms"], r["state"]) for r in again} == {(5000, "Queued")}


def test_nothing_selected_is_said_so(store: Store, actions: BulkActions) -> None:
    action = start(actions, {"action": "cancel", "match": {"state": "Queued"}})
    assert (
        action["state"] == "done"
        and action["result"] == "Nothing to do: no task instance was selected."
    )


def test_a_bug_in_an_action_ends_it_and_not_the_next(
    store: Store, actions: BulkActions, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.submit("sample", "t")
    monkeypatch.setattr(bulk.bulkwrites, "cancel", lambda *_: 1 / 0)
    done = finished(actions, start(actions, {"action": "cancel", "match": {}}))
    assert done["state"] == "failed" and "internal error" in done["result"]
    monkeypatch.undo()
    assert finished(actions, start(actions, {"action": "cancel", "match": {}}))["state"] == "done"


def test_a_large_action_goes_in_batches_and_shows_its_progress(
    store: Store, actions: BulkActions, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bulk, "BATCH", 10)
    for k in range(95):
        store.submit("sample", "t", {"k": k})
    seen: list[int] = []
    real = bulk.bulkwrites.cancel

    def slow(store_: Store, batch: Any) -> Any:
        seen.append(len(batch))
        return real(store_, batch)

    monkeypatch.setattr(bulk.bulkwrites, "cancel", slow)
    done = finished(actions, start(actions, {"action": "cancel", "match": {}}))
    assert seen == [10] * 9 + [5] and done["counts"] == {"cancelled": 95}


def test_one_action_at_a_time_and_each_bounded(
    store: Store, actions: BulkActions, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bulk, "MAX_INSTANCES", 5)
    for _ in range(6):
        store.submit("sample", "t")
    with pytest.raises(HttpError) as refused:
        start(actions, {"action": "cancel", "match": {"namespace": "sample"}})
    assert refused.value.status == 400
    assert "over 5 task instances match: a bulk action takes at most 5" in refused.value.message
    monkeypatch.setattr(bulk.bulkwrites, "cancel", lambda *_: time.sleep(0.5) or Counter())
    first = start(actions, {"action": "cancel", "match": {"namespace": "sample"}, "upTo": 5})
    with pytest.raises(HttpError) as busy:
        start(actions, {"action": "rerun", "match": {"namespace": "sample"}, "upTo": 1})
    assert (
        busy.value.status == 409 and "another bulk action is running (cancel" in busy.value.message
    )
    assert finished(actions, first)["state"] == "done"


def test_an_action_the_store_stops_says_how_far_it_went(
    store: Store, actions: BulkActions, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bulk, "BATCH", 2)
    for _ in range(5):
        store.submit("sample", "t")
    real = bulk.bulkwrites.cancel
    batches: list[Any] = []

    def failing(store_: Store, batch: Any) -> Any:
        batches.append(batch)
        if len(batches) == 2:
            raise StoreError("disk I/O error")
        return real(store_, batch)

    monkeypatch.setattr(bulk.bulkwrites, "cancel", failing)
    done = finished(actions, start(actions, {"action": "cancel", "match": {}}))
    assert done["state"] == "failed" and done["error"] == "storage error: disk I/O error"
    assert done["result"] == "Stopped after 2 of 5 (2 cancelled): storage error: disk I/O error."


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ([], "body: must be a JSON object"),
        ({"action": "delete", "ids": []}, "body.action: 'delete' is not cancel or rerun"),
        ({"action": "cancel"}, "give either ids (a list) or match"),
        ({"action": "cancel", "ids": [], "match": {}}, "give either ids (a list) or match"),
        ({"action": "cancel", "ids": "abc"}, "body.ids: must be a list of at most 10,000 ids"),
        ({"action": "cancel", "ids": [""]}, "body.ids[0]: must be an id"),
        ({"action": "cancel", "match": {"state": 3}}, "body.match: must be an object of texts"),
        (
            {"action": "cancel", "match": {"colour": "red"}},
            "body.match: unknown filter(s) 'colour'",
        ),
        ({"action": "cancel", "match": {"state": "Lost"}}, "state='Lost' is not one of"),
        ({"action": "cancel", "match": {}, "upTo": -1}, "body.upTo: -1 is not an ordinal"),
        ({"action": "cancel", "match": {}, "upTo": True}, "body.upTo: True is not an ordinal"),
        ({"action": "cancel", "match": {}, "when": 1}, "body: unknown field(s) 'when'"),
    ],
)
def test_a_wrong_body_is_refused_naming_the_field(
    actions: BulkActions, body: Any, words: str
) -> None:
    with pytest.raises(HttpError) as refused:
        actions.start(Request((), {}, json.dumps(body).encode()))
    assert refused.value.status == 400 and words in refused.value.message


def test_an_unknown_action_is_a_404(actions: BulkActions) -> None:
    with pytest.raises(HttpError) as refused:
        actions.show(Request(("nope",), {}, b""))
    assert refused.value.status == 404


def test_the_selection_is_the_lists(store: Store) -> None:
    """`match` selects what the list with those filters shows (its total), no more."""
    for k in range(4):
        store.submit("sample", "a" if k % 2 else "b")
    board = Board(store)
    filters = Filters(name="a")
    total = board.page(Page(filters, 1))[1]
    assert len(bulk.bulkwrites.ordinals_matching(store, filters, 100)) == total == 2

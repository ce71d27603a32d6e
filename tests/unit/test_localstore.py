"""The local server's SQLite store, on a temporary file (no HTTP)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runner.localserver.records import annotate_inputs, next_version
from runner.localserver.rules import StatusConflict
from runner.localserver.store import PAGE_BYTES, Store, StoreClosed

SIMPLE = {
    "namespace": "sample",
    "name": "simple",
    "schemaVersion": 0,
    "inputs": [{"name": "arg", "baseType": "String"}],
    "outputs": [{"name": "msg"}],
}
DOUBLE = {
    "namespace": "sample",
    "name": "double",
    "schemaVersion": 0,
    "timeOutInMillis": 60000,
    "invariants": ["pure"],
    "inputs": [{"name": "str_in"}, {"name": "nbr_in", "baseType": "Integer"}],
}


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "scenario.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    with Store(db_path) as opened:
        yield opened


def status(instance_id: str, state: str, **extra: Any) -> dict[str, Any]:
    return {"taskInstanceId": instance_id, "status": state, **extra}


def handed_out(store: Store, name: str = "simple", namespace: str = "sample") -> str:
    """Submit an instance and take it off the queue, as a runner would; its id."""
    instance_id = str(store.submit(namespace, name, {})["id"])
    taken = store.poll(namespace, name)
    assert taken is not None and taken["id"] == instance_id
    return instance_id


# -- pure helpers ----------------------------------------------------------------


def test_annotations_only_for_declared_inputs_present() -> None:
    annotated = annotate_inputs({"str_in": "a", "nbr_in": "2", "extra": 1}, DOUBLE)
    assert annotated == {
        "str_in": "a",
        "str_in#type": "String",
        "nbr_in": "2",
        "nbr_in#type": "Integer",
        "extra": 1,
    }


def test_version_ignores_version_number() -> None:
    assert next_version(None, SIMPLE) == 1
    assert next_version({**SIMPLE, "versionNumber": 4}, {**SIMPLE, "versionNumber": 1}) == 4
    assert next_version({**SIMPLE, "versionNumber": 4}, {**SIMPLE, "description": "x"}) == 5


# -- catalog ---------------------------------------------------------------------


def test_catalog_versions_by_content(store: Store) -> None:
    first = store.publish_catalog("sample", [SIMPLE, DOUBLE])
    assert [(d["name"], d["versionNumber"]) for d in first] == [("simple", 1), ("double", 1)]
    again = store.publish_catalog("sample", [{**SIMPLE, "versionNumber": 99}])
    assert again[0]["versionNumber"] == 1
    changed = store.publish_catalog("sample", [{**SIMPLE, "description": "new"}])
    assert changed[0]["versionNumber"] == 2
    assert store.definition("sample", "simple") == {
        **SIMPLE,
        "description": "new",
        "versionNumber": 2,
    }
    assert {d["name"] for d in store.catalog("sample")} == {"simple", "double"}


def test_remove_previous_tasks(store: Store) -> None:
    store.publish_catalog("sample", [SIMPLE, DOUBLE])
    store.publish_catalog("other", [{**SIMPLE, "namespace": "other"}])
    store.publish_catalog("sample", [DOUBLE], remove_previous=False)
    assert len(store.catalog("sample")) == 2
    store.publish_catalog("sample", [DOUBLE], remove_previous=True)
    assert [d["name"] for d in store.catalog("sample")] == ["double"]
    assert store.definition("sample", "simple") is None
    assert len(store.catalog("other")) == 1, "another namespace is left alone"


def test_catalog_of_every_namespace(store: Store) -> None:
    store.publish_catalog("sample", [SIMPLE, DOUBLE])
    store.publish_catalog("other", [{**SIMPLE, "namespace": "other"}])
    every = [(d["namespace"], d["name"]) for d in store.catalog()]
    assert every == [("other", "simple"), ("sample", "double"), ("sample", "simple")]
    assert [d["name"] for d in store.catalog("sample")] == ["double", "simple"]


# -- queue -----------------------------------------------------------------------


def test_poll_hands_out_oldest_first(store: Store) -> None:
    ids = [store.submit("sample", "simple", {"arg": str(i)})["id"] for i in range(3)]
    assert [store.poll("sample")["id"] for _ in range(3)] == ids  # type: ignore[index]
    assert store.poll("sample") is None


def test_poll_filters_by_namespace_and_name(store: Store) -> None:
    simple = store.submit("sample", "simple", {"arg": "x"})
    double = store.submit("sample", "double", {})
    store.submit("other", "simple", {})
    taken = store.poll("sample", "double")
    assert taken is not None and taken["id"] == double["id"]
    assert store.poll("sample", "double") is None
    taken = store.poll("sample")
    assert taken is not None and taken["id"] == simple["id"]
    assert store.poll("sample") is None
    assert store.poll("other", "simple") is not None


def test_polled_instance_fields(store: Store) -> None:
    store.publish_catalog("sample", [DOUBLE])
    created = store.submit("sample", "double", {"str_in": "ab", "other": "x"})
    assert created["status"] == "Queued"
    taken = store.poll("sample")
    assert taken is not None
    assert taken["id"] == created["id"]
    assert taken["status"] == "Taken"
    assert taken["catalogTaskDefinitionVersion"] == 1
    assert taken["inputData"] == {"str_in": "ab", "str_in#type": "String", "other": "x"}
    assert taken["timeOutInMillis"] == 60000
    assert taken["invariants"] == ["pure"]
    assert taken["workflowDefinitionWorkspaceName"] == "local"
    assert taken["creationDate"].endswith("Z")
    assert taken["outputData"] is None


def test_instance_timeout_beats_catalog(store: Store) -> None:
    store.publish_catalog("sample", [DOUBLE])
    store.submit("sample", "double", {}, timeout_ms=5)
    taken = store.poll("sample")
    assert taken is not None and taken["timeOutInMillis"] == 5


def test_unknown_task_has_no_annotations(store: Store) -> None:
    store.submit("sample", "nope", {"arg": "x"})
    taken = store.poll("sample")
    assert taken is not None
    assert taken["inputData"] == {"arg": "x"}
    assert taken["catalogTaskDefinitionVersion"] is None
    assert taken["invariants"] == []
    assert taken["timeOutInMillis"] is None


def test_each_instance_handed_out_once(store: Store) -> None:
    submitted = {store.submit("sample", "simple", {"arg": str(i)})["id"] for i in range(50)}
    taken: list[str] = []
    lock = threading.Lock()

    def poller() -> None:
        while (instance := store.poll("sample")) is not None:
            with lock:
                taken.append(instance["id"])

    threads = [threading.Thread(target=poller) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(taken) == 50, "no instance handed out twice"
    assert set(taken) == submitted


def test_many_connections_hand_each_instance_out_once(db_path: Path, store: Store) -> None:
    """Threads on four connections to one file: SQLite, not an in-process lock, decides."""
    submitted = {store.submit("sample", "simple", {"arg": str(i)})["id"] for i in range(300)}
    stores = [Store(db_path) for _ in range(4)]
    taken: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(16)

    def poller(mine: Store) -> None:
        start.wait(10)
        while (instance := mine.poll("sample")) is not None:
            with lock:
                taken.append(instance["id"])

    threads = [threading.Thread(target=poller, args=(stores[i % 4],)) for i in range(16)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        for opened in stores:
            opened.close()
    assert len(taken) == len(submitted), "no instance handed out twice"
    assert set(taken) == submitted, "every instance handed out"
    views = [store.instance_view(i) for i in submitted]
    assert all(v is not None and v["state"] == "Taken" and v["takenAt"] for v in views)


def test_two_stores_on_one_file_share_the_queue(db_path: Path, store: Store) -> None:
    ids = {store.submit("sample", "simple", {})["id"] for _ in range(20)}
    taken: list[str] = []
    with Store(db_path) as second:
        for index in range(20):
            instance = (store if index % 2 else second).poll("sample")
            assert instance is not None
            taken.append(instance["id"])
        assert second.poll("sample") is None
    assert sorted(taken) == sorted(ids)


# -- statuses and state ----------------------------------------------------------


def test_state_transitions(store: Store) -> None:
    instance_id = store.submit("sample", "simple", {})["id"]
    assert store.instance_view(instance_id)["state"] == "Queued"  # type: ignore[index]
    store.poll("sample")
    assert store.instance_view(instance_id)["state"] == "Taken"  # type: ignore[index]
    store.record_status(status(instance_id, "InProgress", progressPercentage="0.5"))
    assert store.instance_view(instance_id)["state"] == "InProgress"  # type: ignore[index]
    store.record_status(status(instance_id, "Completed", outputValues={"msg": "ok"}))
    view = store.instance_view(instance_id)
    assert view is not None
    assert view["state"] == "Completed"
    assert view["instance"]["status"] == "Completed"
    assert [s["status"] for s in view["statuses"]] == ["InProgress", "Completed"]
    assert view["statuses"][0]["progressPercentage"] == "0.5"
    assert view["statuses"][1]["outputValues"] == {"msg": "ok"}


def test_status_after_terminal_is_refused_and_not_stored(store: Store) -> None:
    instance_id = handed_out(store)
    first = store.record_status(status(instance_id, "Error", message="boom", errorLevel="Fatal"))
    for late in (status(instance_id, "Completed"), status(instance_id, "InProgress")):
        with pytest.raises(StatusConflict, match=r"already ended with Error \(seq \d+\)"):
            store.record_status(late)
    with pytest.raises(StatusConflict, match="already ended"):
        store.record_status(status(instance_id, "Error", message="another message"))
    view = store.instance_view(instance_id)
    assert view is not None
    assert view["state"] == "Error"
    assert [s["status"] for s in view["statuses"]] == ["Error"]
    assert view["statuses"][0]["seq"] == first
    assert view["statuses"][0]["errorLevel"] == "Fatal"


def test_repeated_terminal_status_is_answered_with_its_first_seq(store: Store) -> None:
    instance_id = handed_out(store)
    done = status(instance_id, "Completed", message="", outputValues={"msg": "ok", "n": [1, 2]})
    first = store.record_status(done)
    again = store.record_status(
        {**done, "outputValues": {"n": [1, 2], "msg": "ok"}}  # same value, other key order
    )
    assert first is not None and again == first
    assert [r["seq"] for r in store.statuses_since(0)] == [first], "recorded once"
    with pytest.raises(StatusConflict):
        store.record_status({**done, "outputValues": {"msg": "other"}})


def test_status_for_an_instance_never_handed_out_is_refused(store: Store) -> None:
    queued = store.submit("sample", "simple", {})["id"]
    with pytest.raises(StatusConflict, match="never handed out"):
        store.record_status(status(queued, "InProgress"))
    store.cancel(queued)
    with pytest.raises(StatusConflict, match="never handed out"):
        store.record_status(status(queued, "Error", message="cancelled"))
    view = store.instance_view(queued)
    assert view is not None and view["state"] == "Queued" and view["statuses"] == []
    assert store.statuses_since(0) == []


def test_status_for_unknown_instance(store: Store) -> None:
    assert store.record_status(status("no-such-id", "InProgress")) is None
    assert store.statuses_since(0) == []


def test_statuses_since(store: Store) -> None:
    a = handed_out(store, "simple")
    b = handed_out(store, "double")
    seqs = [
        store.record_status(status(a, "InProgress", message="1")) or 0,
        store.record_status(status(b, "InProgress", message="2")) or 0,
        store.record_status(status(a, "Completed", message="3")) or 0,
    ]
    assert 0 < seqs[0] < seqs[1] < seqs[2]
    records = store.statuses_since(0)
    assert [r["seq"] for r in records] == seqs
    assert [r["message"] for r in records] == ["1", "2", "3"]
    assert records[1]["name"] == "double" and records[1]["namespace"] == "sample"
    assert records[0]["receivedAt"].endswith("Z") and "." in records[0]["receivedAt"]
    assert [r["message"] for r in store.statuses_since(seqs[0])] == ["2", "3"]
    assert [r["message"] for r in store.statuses_since(0, limit=2)] == ["1", "2"]
    assert store.statuses_since(seqs[-1]) == []


def test_statuses_since_waits_for_a_new_status(store: Store) -> None:
    instance_id = handed_out(store)
    timer = threading.Timer(0.2, store.record_status, [status(instance_id, "InProgress")])
    started = time.monotonic()
    timer.start()
    try:
        records = store.statuses_since(0, wait_s=10)
    finally:
        timer.join()
    assert [r["taskInstanceId"] for r in records] == [instance_id]
    assert time.monotonic() - started < 5


def test_statuses_since_gives_up_after_wait(store: Store) -> None:
    started = time.monotonic()
    assert store.statuses_since(0, wait_s=0.3) == []
    assert 0.25 <= time.monotonic() - started < 3


def test_cancel(store: Store) -> None:
    running = store.submit("sample", "simple", {})["id"]
    queued = store.submit("sample", "simple", {})["id"]
    store.poll("sample")
    assert store.is_cancelled(running) is False
    assert store.cancel(running) is True
    assert store.cancel(queued) is True
    assert store.is_cancelled(running) is True
    assert store.is_cancelled(running, "sample") is True
    assert store.is_cancelled(running, "other") is None
    assert store.instance_view(running)["cancelled"] is True  # type: ignore[index]
    assert store.poll("sample") is None, "a cancelled queued instance is never handed out"
    assert store.cancel("no-such-id") is False


def test_an_ended_instance_cannot_be_cancelled(store: Store) -> None:
    store.publish_catalog("sample", [SIMPLE])
    done = store.submit("sample", "simple", {"arg": "1"})["id"]
    store.poll("sample")
    store.record_status(status(done, "Completed"))
    with pytest.raises(StatusConflict, match="already ended"):
        store.cancel(done)
    assert store.is_cancelled(done) is False
    assert store.is_cancelled("no-such-id") is None


def test_restart_keeps_everything(db_path: Path) -> None:
    with Store(db_path) as first:
        first.publish_catalog("sample", [SIMPLE])
        done = first.submit("sample", "simple", {"arg": "1"})["id"]
        queued = first.submit("sample", "simple", {"arg": "2"})["id"]
        first.poll("sample")
        seq = first.record_status(status(done, "Completed"))
        cancelled = first.submit("sample", "simple", {"arg": "3"})["id"]
        first.cancel(cancelled)
    with Store(db_path) as second:
        assert second.definition("sample", "simple") is not None
        assert second.instance_view(done)["state"] == "Completed"  # type: ignore[index]
        assert second.is_cancelled(cancelled) is True
        assert [r["seq"] for r in second.statuses_since(0)] == [seq]
        taken = second.poll("sample")
        assert taken is not None and taken["id"] == queued
        new_seq = second.record_status(status(queued, "InProgress"))
        assert new_seq is not None and seq is not None and new_seq > seq


def test_close_wakes_a_long_poll(db_path: Path) -> None:
    store = Store(db_path)
    answers: list[list[dict[str, Any]]] = []
    waiter = threading.Thread(target=lambda: answers.append(store.statuses_since(0, wait_s=20)))
    waiter.start()
    time.sleep(0.2)
    started = time.monotonic()
    store.close()
    waiter.join(10)
    assert answers == [[]]
    assert time.monotonic() - started < 2
    store.close()  # idempotent
    with pytest.raises(StoreClosed):
        store.poll("sample")


def test_a_page_of_statuses_is_bounded_in_bytes(store: Store) -> None:
    instance_id = handed_out(store)
    big = "x" * (PAGE_BYTES // 3)
    seqs = [
        store.record_status(status(instance_id, "InProgress", message=big)) for _ in range(7)
    ]
    pages: list[list[int]] = []
    after = 0
    while records := store.statuses_since(after):
        pages.append([r["seq"] for r in records])
        after = records[-1]["seq"]
    assert [seq for page in pages for seq in page] == seqs, "every status, once, in order"
    assert max(len(page) for page in pages) < 7, "pages stop growing past PAGE_BYTES"
    huge = "y" * (PAGE_BYTES * 2)
    last = store.record_status(status(instance_id, "InProgress", message=huge))
    assert [r["seq"] for r in store.statuses_since(after)] == [last], "one record always fits"

"""The local server's retention: ended instances beyond the newest N, or too old, go with
their statuses; queued and running ones stay."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from runner.localserver import retention
from runner.localserver.retention import Retention, apply
from runner.localserver.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "scenario.db") as opened:
        yield opened


def ended(store: Store, state: str = "Completed") -> str:
    instance_id = str(store.submit("ns", "task", {})["id"])
    assert store.poll("ns") is not None
    store.record_status({"taskInstanceId": instance_id, "status": "InProgress"})
    store.record_status({"taskInstanceId": instance_id, "status": state})
    return instance_id


def ids(store: Store) -> list[str]:
    with store.read() as db:
        return [r["id"] for r in db.execute("SELECT id FROM instances ORDER BY ordinal")]


def status_owners(store: Store) -> set[str]:
    with store.read() as db:
        return {r["instance_id"] for r in db.execute("SELECT instance_id FROM statuses")}


def test_the_newest_ended_instances_are_kept_with_their_statuses(store: Store) -> None:
    old = [ended(store), ended(store, "Error"), ended(store)]
    running = str(store.submit("ns", "task", {})["id"])
    assert store.poll("ns") is not None
    store.record_status({"taskInstanceId": running, "status": "InProgress"})
    new = [ended(store), ended(store)]
    queued = str(store.submit("ns", "task", {})["id"])
    assert apply(store, Retention(keep=2)) == 3
    assert ids(store) == [running, *new, queued]
    assert status_owners(store) == {running, *new}
    assert apply(store, Retention(keep=2)) == 0
    assert store.instance_view(old[0]) is None


def test_ended_instances_older_than_the_age_limit_go_whatever_their_number(
    store: Store,
) -> None:
    first = ended(store)
    assert apply(store, Retention(keep=10, max_age_days=1)) == 0
    tomorrow = datetime.now(UTC) + timedelta(days=1, minutes=1)
    second = str(store.submit("ns", "task", {})["id"])  # queued: never deleted
    assert apply(store, Retention(keep=10, max_age_days=1), now=tomorrow) == 1
    assert ids(store) == [second]
    assert store.instance_view(first) is None


def test_many_are_deleted_in_batches(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retention, "BATCH", 3)
    for _ in range(10):
        ended(store)
    assert apply(store, Retention(keep=1)) == 9
    assert len(ids(store)) == 1 and len(status_owners(store)) == 1

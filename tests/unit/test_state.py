"""The runner's state on disk: the journal of taken tasks, and one owner per runner id."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from runner.core.errors import ConfigError
from runner.core.model import TaskInstance, TaskStatus
from runner.state.store import StateStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StateStore]:
    state = StateStore(tmp_path, "r1", max_statuses=100)
    yield state
    state.close()


def test_the_journal_knows_which_taken_tasks_never_finished(tmp_path: Path) -> None:
    state = StateStore(tmp_path, "r1", max_statuses=100)
    for instance_id in ("done", 42):
        state.journal.taken(TaskInstance(instance_id, "ns", "task"))
    state.outbox.put(TaskStatus("done", "InProgress", "half"))
    state.outbox.put(TaskStatus("done", "Error", "boom"))
    state.close()
    again = StateStore(tmp_path, "r1", max_statuses=100)
    [left] = again.journal.unfinished()
    assert (left.instance_id, left.ref) == (42, "ns/task#42")
    again.close()


def test_one_runner_id_owns_a_state_directory(store: StateStore, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="runner id r1 is already running"):
        StateStore(tmp_path, "r1", max_statuses=10)
    StateStore(tmp_path, "r2", max_statuses=10).close()


def test_the_journal_forgets_finished_tasks_but_never_unfinished_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = StateStore(tmp_path, "r1", max_statuses=100)
    state.journal.taken(TaskInstance("finished", "ns", "task"))
    state.journal.taken(TaskInstance("running", "ns", "task"))
    state.outbox.put(TaskStatus("finished", "Completed"))
    state.close()
    monkeypatch.setattr("runner.state.journal._KEEP_FINISHED_S", -1.0)
    again = StateStore(tmp_path, "r1", max_statuses=100)
    with sqlite3.connect(again.path) as db:
        rows = db.execute("SELECT instance FROM journal").fetchall()
    assert rows == [('"running"',)]
    again.close()

"""The runner's state on disk: the journal of taken tasks, and one owner per runner id."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from runner.core.errors import ConfigError
from runner.core.model import TaskInstance, TaskStatus
from runner.state.database import CHECKPOINT_AFTER_TASKS
from runner.state.store import StateStore

PLATFORM = "http://platform.test"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StateStore]:
    state = StateStore(tmp_path, "r1", server_url=PLATFORM, max_statuses=100)
    yield state
    state.close()


def test_the_journal_knows_which_taken_tasks_never_finished(tmp_path: Path) -> None:
    state = StateStore(tmp_path, "r1", server_url=PLATFORM, max_statuses=100)
    for instance_id in ("done", 42):
        state.journal.taken(TaskInstance(instance_id, "ns", "task"))
    state.outbox.put(TaskStatus("done", "InProgress", "half"))
    state.outbox.put(TaskStatus("done", "Error", "boom"))
    state.close()
    again = StateStore(tmp_path, "r1", server_url=PLATFORM, max_statuses=100)
    [left] = again.journal.unfinished()
    assert (left.instance_id, left.ref) == (42, "ns/task#42")
    again.close()


def test_one_runner_id_owns_a_state_directory(store: StateStore, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="runner id r1 is already running"):
        StateStore(tmp_path, "r1", server_url=PLATFORM, max_statuses=10)
    StateStore(tmp_path, "r2", server_url=PLATFORM, max_statuses=10).close()


def test_the_journal_forgets_finished_tasks_but_never_unfinished_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = StateStore(tmp_path, "r1", server_url=PLATFORM, max_statuses=100)
    state.journal.taken(TaskInstance("finished", "ns", "task"))
    state.journal.taken(TaskInstance("running", "ns", "task"))
    state.outbox.put(TaskStatus("finished", "Completed"))
    state.outbox.delivered(state.outbox.head()[0])  # type: ignore[index]
    state.close()
    monkeypatch.setattr("runner.state.journal.KEEP_ENDED_S", -1.0)
    again = StateStore(tmp_path, "r1", server_url=PLATFORM, max_statuses=100)
    with sqlite3.connect(again.path) as db:
        rows = db.execute("SELECT instance FROM journal").fetchall()
    assert rows == [('"running"',)]
    again.close()


def test_the_journal_names_the_container_a_task_was_handed_to(tmp_path: Path) -> None:
    state = StateStore(tmp_path, "r1", server_url=PLATFORM, max_statuses=100)
    state.journal.taken(TaskInstance(1, "ns", "task"))
    state.journal.taken(TaskInstance(2, "ns", "task"))
    state.journal.handed_out(TaskInstance(1, "ns", "task"), "c0ffee")
    state.close()
    again = StateStore(tmp_path, "r1", server_url=PLATFORM, max_statuses=100)
    assert [(t.instance_id, t.container) for t in again.journal.unfinished()] == [
        (1, "c0ffee"),
        (2, None),
    ]
    again.close()


def test_a_state_file_from_before_the_container_column_is_upgraded(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "r1.db") as db:
        db.execute(
            "CREATE TABLE journal (instance TEXT PRIMARY KEY, namespace TEXT NOT NULL, "
            "name TEXT NOT NULL, taken_at REAL NOT NULL, finished_at REAL)"
        )
        db.execute("INSERT INTO journal VALUES ('7', 'ns', 'task', 1.0, NULL)")
    state = StateStore(tmp_path, "r1", server_url=PLATFORM, max_statuses=100)
    [taken] = state.journal.unfinished()
    assert (taken.instance_id, taken.container) == (7, None)
    state.journal.handed_out(TaskInstance(7, "ns", "task"), "beef")
    assert state.journal.unfinished()[0].container == "beef"
    state.close()


def run_tasks(state: StateStore, count: int) -> None:
    """What the runner writes for `count` tasks: taken, handed out, status kept, delivered."""
    for number in range(count):
        instance = TaskInstance(f"t{number}", "ns", "task")
        state.journal.taken(instance)
        state.journal.handed_out(instance, "c" * 64)
        state.outbox.put(TaskStatus(instance.id, "Completed", "", {"out": "x" * 40}))
        head = state.outbox.head()
        assert head is not None
        state.outbox.delivered(head[0])


def test_no_write_checkpoints_the_state_file_itself(store: StateStore) -> None:
    """A checkpoint waits on the disk: a task's writes leave it to the background thread
    (SQLite's own, every 1000 pages of log, came every 80 tasks or so)."""
    size = store.path.stat().st_size
    run_tasks(store, 300)
    assert store.path.stat().st_size == size  # everything still in the write-ahead log
    store._database.checkpoint()
    assert store.path.stat().st_size > size


def test_the_background_thread_checkpoints_every_second(store: StateStore) -> None:
    size = store.path.stat().st_size
    store.start()
    run_tasks(store, 100)
    deadline = time.monotonic() + 5
    while store.path.stat().st_size == size:
        assert time.monotonic() < deadline, "no checkpoint within 5 s"
        time.sleep(0.05)


def test_no_checkpoint_is_due_while_a_task_runs_until_many_were_taken(store: StateStore) -> None:
    database = store._database
    assert not database.checkpoint_due(), "nothing written yet"
    store.journal.taken(TaskInstance("running", "ns", "task"))
    assert not database.checkpoint_due(), "a task runs"
    store.outbox.put(TaskStatus("running", "Completed"))
    assert database.checkpoint_due(), "none runs now"
    database.checkpoint()
    store.journal.taken(TaskInstance("long", "ns", "task"))
    for number in range(CHECKPOINT_AFTER_TASKS - 2):
        store.journal.taken(TaskInstance(number, "ns", "task"))
        store.outbox.put(TaskStatus(number, "Completed"))
    assert not database.checkpoint_due(), "one still runs"
    store.journal.taken(TaskInstance("last", "ns", "task"))
    assert database.checkpoint_due(), f"{CHECKPOINT_AFTER_TASKS} taken since the last"


def test_a_checkpoint_starts_the_log_afresh_itself(store: StateStore) -> None:
    """The first write after a complete checkpoint starts the log again and syncs its
    header: the checkpoint does that write itself, so that no task's write waits on the
    disk for it."""
    run_tasks(store, 20)
    store._database.checkpoint()
    with closing(sqlite3.connect(store.path)) as db:
        pages = db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1]
    assert pages == 1, "the log was started afresh by one write of the checkpoint's"

"""The state file stays bounded (the journal keeps so many ended tasks), and what is owed
belongs to the platform it is owed to, also in a state file written before that was so."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest

from runner.core.model import TaskInstance, TaskStatus
from runner.state.database import SCHEMA_VERSION
from runner.state.store import StateStore, platform_key

STAGING = "https://staging.example.com"
PRODUCTION = "https://production.example.com"


def journal_rows(state: StateStore) -> list[tuple[str, str, float | None]]:
    with sqlite3.connect(state.path) as db:
        return db.execute(
            "SELECT platform, instance, finished_at FROM journal ORDER BY taken_at"
        ).fetchall()


def run(state: StateStore, instance_id: str, *, deliver: bool = True) -> None:
    """Take, run and end one task; its statuses delivered, unless not `deliver`."""
    state.journal.taken(TaskInstance(instance_id, "ns", "task"))
    state.outbox.put(TaskStatus(instance_id, "Completed"))
    while deliver and (head := state.outbox.head()) is not None:
        state.outbox.delivered(head[0])


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("https://Platform.Example.com/", "https://platform.example.com"),
        ("https://platform.example.com:443", "https://platform.example.com"),
        ("http://platform.example.com:80/scenario//", "http://platform.example.com/scenario"),
        ("http://user:secret@platform.example.com:8080", "http://platform.example.com:8080"),
        ("http://[::1]:8077", "http://[::1]:8077"),
        ("http://127.0.0.1:8077?x=1", "http://127.0.0.1:8077"),
    ],
)
def test_a_platform_is_keyed_by_its_normalised_url(url: str, key: str) -> None:
    assert platform_key(url) == key


def test_the_journal_keeps_the_newest_ended_tasks_and_every_running_or_owed_one(
    tmp_path: Path,
) -> None:
    state = StateStore(tmp_path, "r1", server_url=STAGING, max_statuses=100, journal_keep=3)
    for number in range(8):
        run(state, f"done-{number}")
    run(state, "owed", deliver=False)
    state.journal.taken(TaskInstance("running", "ns", "task"))
    assert state.journal.prune() == 6
    kept = [row[1] for row in journal_rows(state)]
    assert kept == ['"done-6"', '"done-7"', '"owed"', '"running"']
    state.close()


def test_pruning_is_left_to_the_pruner_and_done_once_more_at_close(tmp_path: Path) -> None:
    state = StateStore(tmp_path, "r1", server_url=STAGING, max_statuses=100, journal_keep=0)
    for number in range(5):  # fewer than it waits for: the task path does not prune
        run(state, f"done-{number}")
    assert len(journal_rows(state)) == 5
    state.start()
    state.close()
    again = StateStore(tmp_path, "r1", server_url=STAGING, max_statuses=100)
    assert journal_rows(again) == []
    again.close()


def test_a_runner_started_against_another_platform_keeps_the_first_ones_statuses(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    staging = StateStore(tmp_path, "r1", server_url=STAGING, max_statuses=100)
    staging.journal.taken(TaskInstance("s1", "ns", "task"))
    staging.outbox.put(TaskStatus("s1", "InProgress", "half"))
    staging.outbox.put(TaskStatus("s1", "Completed"))
    staging.close()
    caplog.set_level(logging.WARNING)
    production = StateStore(tmp_path, "r1", server_url=PRODUCTION + "/", max_statuses=100)
    assert production.outbox.head() is None
    assert production.outbox.pending() == 0
    assert production.outbox.owed_elsewhere() == {STAGING: 2}
    [line] = [r.getMessage() for r in caplog.records]
    assert f"keeping 2 status(es) owed to {STAGING} in {production.path}" in line
    assert f"not sent to {PRODUCTION} (this runner's platform)" in line
    production.journal.taken(TaskInstance("s1", "ns", "task"))  # the same id, elsewhere
    production.outbox.put(TaskStatus("s1", "Completed"))
    [(_, status)] = [production.outbox.head()]  # type: ignore[misc]
    assert status.task_instance_id == "s1"
    production.close()
    back = StateStore(tmp_path, "r1", server_url=STAGING, max_statuses=100)
    assert back.outbox.pending() == 2
    head = back.outbox.head()
    assert head is not None and head[1].status == "InProgress"
    assert [row[0] for row in journal_rows(back)] == [STAGING, PRODUCTION]
    back.close()


def test_an_interrupted_task_of_another_platform_stays_unfinished_until_its_error_is_kept(
    tmp_path: Path,
) -> None:
    staging = StateStore(tmp_path, "r1", server_url=STAGING, max_statuses=100)
    staging.journal.taken(TaskInstance(7, "ns", "task"))
    staging.close()
    production = StateStore(tmp_path, "r1", server_url=PRODUCTION, max_statuses=100)
    [taken] = production.journal.unfinished()
    assert (taken.instance_id, taken.platform) == (7, STAGING)
    production.outbox.put(TaskStatus(7, "Error", "interrupted"), platform=taken.platform)
    assert production.journal.unfinished() == []
    assert production.outbox.head() is None
    assert production.outbox.owed_elsewhere() == {STAGING: 1}
    production.close()


def test_a_state_file_from_before_platforms_is_adopted_by_the_platform_it_is_opened_for(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with sqlite3.connect(tmp_path / "r1.db") as db:
        db.executescript(
            """CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT,
                instance TEXT NOT NULL, terminal INTEGER NOT NULL, body TEXT NOT NULL,
                queued_at REAL NOT NULL);
            CREATE TABLE journal (instance TEXT PRIMARY KEY, namespace TEXT NOT NULL,
                name TEXT NOT NULL, taken_at REAL NOT NULL, finished_at REAL, container TEXT);
            INSERT INTO journal VALUES ('"a"', 'ns', 'task', 1.0, NULL, 'c0ffee');
            INSERT INTO outbox (instance, terminal, body, queued_at) VALUES
                ('"b"', 1, '{"taskInstanceId": "b", "status": "Completed"}', 1.0);"""
        )
    caplog.set_level(logging.WARNING)
    state = StateStore(tmp_path, "r1", server_url=STAGING, max_statuses=100)
    [line] = [r.getMessage() for r in caplog.records]
    assert "1 undelivered status(es) and 1 journaled task(s) are taken to be" in line
    assert STAGING in line
    [taken] = state.journal.unfinished()
    assert (taken.instance_id, taken.container, taken.platform) == ("a", "c0ffee", STAGING)
    assert state.outbox.pending() == 1
    state.close()
    with sqlite3.connect(tmp_path / "r1.db") as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    caplog.clear()
    StateStore(tmp_path, "r1", server_url=PRODUCTION, max_statuses=100).close()
    assert "owed to https://staging.example.com" in caplog.text  # adopted once, for good

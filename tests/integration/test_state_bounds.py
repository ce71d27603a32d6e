"""The runner's state file over many tasks and across platforms, with the runner as its own
process against real local servers: the journal keeps no more ended tasks than it is told,
and statuses owed to one platform are never posted to another."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from runner.localserver import LocalServer
from runner.localserver.client import LocalClient
from tests.conftest import SAMPLE_IMAGE, free_port
from tests.integration.processes import ended, runner_process, wait_for

pytestmark = pytest.mark.integration

KEY = "state-key"
TASKS = 40
KEEP = 5


def journal(state_dir: Path) -> list[tuple[str, float | None]]:
    """(instance, finished_at) of each journal entry, read beside the running runner."""
    [path] = state_dir.glob("*.db")
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        rows: list[tuple[str, float | None]] = db.execute(
            "SELECT instance, finished_at FROM journal"
        ).fetchall()
    return rows


def test_the_journal_keeps_no_more_ended_tasks_than_it_is_told(
    task_images: list[str], runner_id: str, tmp_path: Path
) -> None:
    state_dir = tmp_path / "state"
    env = {"XC_RUNNER_STATE_DIR": str(state_dir), "XC_RUNNER_JOURNAL_KEEP": str(KEEP)}
    with (
        LocalServer(tmp_path / "scenario.db", port=0, api_key=KEY) as server,
        runner_process(server.url, KEY, [SAMPLE_IMAGE], runner_id, env=env) as runner,
    ):
        client = LocalClient(server.url, KEY)
        ids = [str(client.submit("sample", "simple", {"arg": "x"})["id"]) for _ in range(TASKS)]
        wait_for(lambda: ended(client, *ids), 240, f"{TASKS} tasks to end", runner)
        while_running = len(journal(state_dir))
        assert runner.stop() == 0
    rows = journal(state_dir)
    print(f"journal after {TASKS} tasks: {while_running} entries running, {len(rows)} stopped")
    assert while_running < TASKS  # pruned as it ran, not only at the end
    assert len(rows) == KEEP
    assert all(finished is not None for _, finished in rows)


def test_statuses_owed_to_one_platform_are_kept_for_it_not_posted_to_another(
    task_images: list[str], runner_id: str, tmp_path: Path
) -> None:
    state_dir = tmp_path / "state"
    env = {"XC_RUNNER_STATE_DIR": str(state_dir)}
    staging_port = free_port()
    staging = LocalServer(tmp_path / "staging.db", port=staging_port, api_key=KEY).start()
    staging_url = staging.url
    client = LocalClient(staging_url, KEY)
    with runner_process(staging_url, KEY, [SAMPLE_IMAGE], runner_id, env=env) as runner:
        owed = str(client.submit("sample", "reporting_task", {"n": "3", "param": "p"})["id"])
        wait_for(lambda: len(client.instance(owed)["statuses"]) > 0, 60, "the task", runner)
        staging.stop()  # staging goes away while its task runs: its statuses stay owed
        assert runner.stop() == 0
        assert f"status(es) not delivered yet; they stay in {state_dir}" in runner.log()

    with LocalServer(tmp_path / "production.db", port=0, api_key=KEY) as production:
        production_client = LocalClient(production.url, KEY)
        with runner_process(production.url, KEY, [SAMPLE_IMAGE], runner_id, env=env) as runner:
            own = str(production_client.submit("sample", "simple", {"arg": "x"})["id"])
            wait_for(lambda: ended(production_client, own), 60, "production's task", runner)
            assert runner.stop() == 0
            log = runner.log()
    print([line for line in log.splitlines() if "keeping" in line])
    assert "status dropped" not in log
    assert f"status(es) owed to {staging_url} in {state_dir}" in log
    assert f"they are not sent to {production.url} (this runner's platform)" in log

    with LocalServer(tmp_path / "staging.db", port=staging_port, api_key=KEY):
        with runner_process(staging_url, KEY, [SAMPLE_IMAGE], runner_id, env=env) as runner:
            wait_for(lambda: ended(client, owed), 60, "staging's owed statuses", runner)
            assert runner.stop() == 0
        statuses = [s["status"] for s in client.instance(owed)["statuses"]]
    assert statuses[-1] == "Completed"
    assert statuses.count("InProgress") == 5  # 0 %, 1, 2, 3 s, waking up: none lost

"""`xc-runner serve --keep-ended N` (XC_LOCAL_KEEP_ENDED): the local server keeps the newest N
ended task instances and their statuses, and deletes the others in the background."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests

from tests.integration.local_process import ServerProcess, server_process

pytestmark = pytest.mark.integration

KEY = "retention-key"


def run_tasks(server: ServerProcess, count: int) -> list[str]:
    """`count` instances submitted, handed out and ended, as a runner would."""
    session = server.session()
    ended = []
    for number in range(count):
        body = {"namespace": "ns", "name": "task", "inputData": {}}
        created = session.post(server.url + "/local/api/task-instances", json=body, timeout=10)
        assert created.status_code == 201, created.text
        poll = server.url + "/polling/api/namespaces/ns/task-instances/poll"
        instance_id = session.post(poll, timeout=10).json()["id"]
        for status in ("InProgress", "Completed" if number % 2 else "Error"):
            body = {"taskInstanceId": instance_id, "status": status, "message": "m"}
            posted = session.post(
                server.url + "/taskstatus/api/task-statuses", json=body, timeout=10
            )
            assert posted.status_code == 200, posted.text
        ended.append(instance_id)
    return ended


def kept(server: ServerProcess, ids: list[str]) -> list[str]:
    session: requests.Session = server.session()
    url = server.url + "/local/api/task-instances/"
    return [i for i in ids if session.get(url + i, timeout=10).status_code == 200]


def wait_for_log(server: ServerProcess, text: str, timeout_s: float = 20) -> None:
    """The retention runs in the background, from start-up on."""
    deadline = time.monotonic() + timeout_s
    while text not in server.log():
        assert time.monotonic() < deadline, f"no {text!r} in the log:\n{server.log()}"
        time.sleep(0.1)


def statuses(server: ServerProcess) -> int:
    page = server.session().get(server.url + "/local/api/statuses?after=0", timeout=10).json()
    return len(page["statuses"])


def test_the_local_server_keeps_the_newest_ended_instances_it_is_told_to(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "scenario.db"
    with server_process(db, KEY) as server:
        ids = run_tasks(server, 8)
        queued = (
            server.session()
            .post(
                server.url + "/local/api/task-instances",
                json={"namespace": "ns", "name": "task", "inputData": {}},
                timeout=10,
            )
            .json()["id"]
        )
        assert kept(server, ids) == ids  # the default keeps 10,000
    with server_process(db, KEY, "--keep-ended", "3") as server:
        wait_for_log(server, "deleted 5 ended task instance(s) and their statuses")
        assert kept(server, ids) == ids[-3:]
        assert kept(server, [queued]) == [queued]  # never ended: never deleted
        assert statuses(server) == 6
    monkeypatch.setenv("XC_LOCAL_KEEP_ENDED", "1")
    with server_process(db, KEY) as server:
        wait_for_log(server, "deleted 2 ended task instance(s)")
        assert kept(server, ids) == ids[-1:]
        assert statuses(server) == 2

"""Two local server processes on one SQLite file, polled at once by many threads.

Each task instance must be handed out exactly once, whichever server a poll
reaches; what one server stores, the other serves.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from tests.integration.local_process import ServerProcess, server_process

pytestmark = pytest.mark.integration

KEY = "replica-key"
POLL = "/polling/api/namespaces/replicas/task-instances/poll"


def poll_until_empty(server: ServerProcess, taken: list[str], lock: threading.Lock) -> None:
    with server.session() as http:
        while (answer := http.post(server.url + POLL, timeout=30)).status_code == 200:
            with lock:
                taken.append(answer.json()["id"])
        assert answer.status_code == 204, answer.text


def test_every_instance_is_handed_out_once_across_two_servers(tmp_path: Path) -> None:
    db_path = tmp_path / "shared.db"
    with server_process(db_path, KEY) as first, server_process(db_path, KEY) as second:
        with first.session() as http:
            body = {"namespace": "replicas", "name": "t"}
            submitted = {
                http.post(first.url + "/local/api/task-instances", json=body, timeout=10).json()[
                    "id"
                ]
                for _ in range(300)
            }
        taken: list[str] = []
        lock = threading.Lock()
        pollers = [
            threading.Thread(target=poll_until_empty, args=(server, taken, lock))
            for server in [first, second] * 8
        ]
        for thread in pollers:
            thread.start()
        for thread in pollers:
            thread.join(120)
        assert len(taken) == len(submitted), f"{len(taken) - len(set(taken))} handed out twice"
        assert set(taken) == submitted
        assert first.alive() and second.alive()


def test_a_status_stored_by_one_server_wakes_a_long_poll_on_the_other(tmp_path: Path) -> None:
    db_path = tmp_path / "shared.db"
    with server_process(db_path, KEY) as first, server_process(db_path, KEY) as second:
        with first.session() as http:
            body = {"namespace": "replicas", "name": "t"}
            instance_id = http.post(
                first.url + "/local/api/task-instances", json=body, timeout=10
            ).json()["id"]
            assert http.post(first.url + POLL, timeout=10).json()["id"] == instance_id
        pages: list[dict[str, object]] = []

        def long_poll() -> None:
            with first.session() as http:
                url = first.url + "/local/api/statuses?after=0&waitSeconds=20"
                pages.append(http.get(url, timeout=60).json())

        waiter = threading.Thread(target=long_poll)
        waiter.start()
        time.sleep(0.3)
        with second.session() as http:
            status = {"taskInstanceId": instance_id, "status": "Completed", "message": "done"}
            assert http.post(
                second.url + "/taskstatus/api/task-statuses", json=status, timeout=10
            ).ok
        waiter.join(30)
        assert not waiter.is_alive()
        assert [s["message"] for s in pages[0]["statuses"]] == ["done"]  # type: ignore[index]

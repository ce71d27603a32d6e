"""LocalServer in the runner's own process: start-up errors, stop, and the thread budget."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from runner.core.errors import ConfigError
from runner.localserver import LocalServer
from runner.localserver.http import LONG_POLLS

pytestmark = pytest.mark.integration

KEY = "lifecycle-key"
AUTH = {"Authorization": f"bearer {KEY}"}


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "local" / "scenario.db"


@pytest.fixture
def server(db_path: Path) -> Iterator[LocalServer]:
    with LocalServer(db_path, port=0, api_key=KEY) as running:
        yield running


@pytest.mark.parametrize("port", [70000, -1, 65536])
def test_port_out_of_range(db_path: Path, port: int) -> None:
    with pytest.raises(ConfigError, match=f"port {port} is not a port number"):
        LocalServer(db_path, port=port, api_key=KEY)


def test_port_that_is_not_a_number(db_path: Path) -> None:
    with pytest.raises(ConfigError, match="'abc' is not a port number"):
        LocalServer(db_path, port="abc", api_key=KEY)  # type: ignore[arg-type]


def test_unusable_database_path(tmp_path: Path) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("")
    for path in (tmp_path, a_file / "scenario.db"):
        with pytest.raises(ConfigError, match="cannot open the local server's database"):
            LocalServer(path, port=0, api_key=KEY).start()


def test_host_that_cannot_be_listened_on(db_path: Path) -> None:
    for host in ("no-such-host.invalid", "192.0.2.1"):
        server = LocalServer(db_path, host=host, port=0, api_key=KEY)
        with pytest.raises(ConfigError, match=f"cannot listen on {host}:0"):
            server.start()
    assert LocalServer(db_path, port=0, api_key=KEY).start().url.startswith("http://127.0.0.1:")


def test_stop_ends_connections_and_long_polls(server: LocalServer) -> None:
    host, port = server.url.removeprefix("http://").split(":")
    idle = socket.create_connection((host, int(port)), timeout=10)
    answers: list[Any] = []

    def long_poll() -> None:
        try:
            url = server.url + "/local/api/statuses?waitSeconds=30"
            answers.append(requests.get(url, headers=AUTH, timeout=60).status_code)
        except requests.ConnectionError as exc:
            answers.append(exc)

    waiter = threading.Thread(target=long_poll)
    waiter.start()
    time.sleep(0.3)
    started = time.monotonic()
    server.stop()
    waiter.join(20)
    assert not waiter.is_alive() and len(answers) == 1
    assert time.monotonic() - started < 15, "stop() waited for the long poll's 30 s"
    with idle:
        assert idle.recv(1) == b"", "the idle connection was closed"
    with pytest.raises(requests.ConnectionError):
        requests.get(server.url + "/local/api/statuses", headers=AUTH, timeout=5)


def test_long_polls_never_take_every_thread(server: LocalServer) -> None:
    """More long polls than may wait: the extra ones answer at once, short requests still run."""
    ended: list[float] = []
    lock = threading.Lock()
    started = time.monotonic()

    def long_poll() -> None:
        url = server.url + "/local/api/statuses?waitSeconds=8"
        assert requests.get(url, headers=AUTH, timeout=60).status_code == 200
        with lock:
            ended.append(time.monotonic() - started)

    waiters = [threading.Thread(target=long_poll) for _ in range(LONG_POLLS + 3)]
    for thread in waiters:
        thread.start()
    time.sleep(1)
    with requests.Session() as http:
        for _ in range(20):
            answer = http.post(
                server.url + "/polling/api/namespaces/x/task-instances/poll",
                headers=AUTH,
                timeout=30,
            )
            assert answer.status_code == 204
    short_done = time.monotonic() - started
    for thread in waiters:
        thread.join(60)
    assert short_done < 6, "short requests waited for the long polls"
    assert sum(1 for t in ended if t < 6) == 3, f"the extra long polls answered at once: {ended}"
    assert sum(1 for t in ended if t >= 7) == LONG_POLLS, ended

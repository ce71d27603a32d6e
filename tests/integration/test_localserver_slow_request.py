"""A kept-alive connection whose first request outlasts the time allowed to send one
(idle.FIRST_REQUEST_S) stays open: on a busy machine, the server's maintenance may not
run while the request is served, and it closed such a connection as one that never sent
a request, resetting the client's next request on it (a bulk submit's next batch)."""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from runner.localserver import LocalServer, idle

pytestmark = pytest.mark.integration

KEY = "slow-key"


@pytest.fixture
def starved(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """While set, the server's maintenance does nothing, as on a machine too busy to run it."""
    starving = threading.Event()
    close_idle = idle.close_idle

    def maybe(*args: Any) -> None:
        if not starving.is_set():
            close_idle(*args)

    monkeypatch.setattr(idle, "close_idle", maybe)
    yield starving


def test_a_first_request_longer_than_the_first_request_limit_keeps_its_connection(
    tmp_path: Path, starved: threading.Event
) -> None:
    with LocalServer(tmp_path / "scenario.db", port=0, api_key=KEY) as server:
        port = urlsplit(server.url).port
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Authorization": f"bearer {KEY}"}
        starved.set()
        wait_s = idle.FIRST_REQUEST_S + 1
        connection.request("GET", f"/local/api/statuses?waitSeconds={wait_s}", headers=headers)
        first = connection.getresponse()
        assert first.status == 200 and first.read()
        starved.clear()
        time.sleep(2.5)  # the maintenance runs again, twice
        connection.request("GET", "/local/api/statuses", headers=headers)
        answer = connection.getresponse()
        assert answer.status == 200, answer.read()
        connection.close()

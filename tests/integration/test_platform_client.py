"""The platform client and its environment: proxies and CA bundle read once per server, as
requests reads them, and never a ~/.netrc entry in place of the API key."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from runner.scenario.client import PlatformClient
from tests.conftest import free_port

pytestmark = pytest.mark.integration


class Recorder(BaseHTTPRequestHandler):
    """Answers every request 204 (an empty queue), keeping its request line and headers."""

    seen: ClassVar[list[tuple[str, str]]] = []

    def do_POST(self) -> None:
        Recorder.seen.append((self.requestline, self.headers.get("Authorization", "")))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[str]:
    Recorder.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_the_environment_s_proxy_carries_the_requests(
    recorder: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", recorder)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    platform = f"http://127.0.0.1:{free_port()}"  # nothing listens there: only the proxy answers
    client = PlatformClient(platform, "the-key")
    try:
        assert client.poll("sample") is None
        assert client.poll("sample") is None
    finally:
        client.close()
    line = f"POST {platform}/polling/api/namespaces/sample/task-instances/poll HTTP/1.1"
    assert Recorder.seen == [(line, "bearer the-key")] * 2


def test_a_netrc_entry_for_the_server_never_replaces_the_api_key(
    recorder: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine 127.0.0.1 login someone password secret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    monkeypatch.setenv("HOME", str(tmp_path))
    client = PlatformClient(recorder, "the-key")
    try:
        assert client.poll("sample") is None
    finally:
        client.close()
    assert [auth for _, auth in Recorder.seen] == ["bearer the-key"]

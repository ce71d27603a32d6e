"""The fault injectors themselves: they forward faithfully, and fail when told to."""

from __future__ import annotations

import gc
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
import requests

from runner.core.errors import EngineError
from runner.core.protocol import Stream, encode_envelope
from runner.engine.docker_engine import DockerEngine
from runner.engine.interface import LABEL_RUNNER_ID, ContainerSpec
from runner.localserver import LocalServer
from runner.localserver.client import LocalClient
from tests.integration.faults import (
    POLL_PATH,
    STATUS_PATH,
    EngineProxy,
    FaultyPlatform,
)

pytestmark = pytest.mark.integration

KEY = "faults-key"
AUTH = {"Authorization": f"bearer {KEY}"}
POLL = "/polling/api/namespaces/sample/task-instances/poll"

# docker's UnixHTTPConnection.connect leaks its socket when connect() fails (as
# it must while the engine is cut); the leak's ResourceWarning is not ours.
leaky_docker_connect = pytest.mark.filterwarnings("ignore::ResourceWarning")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalServer]:
    with LocalServer(tmp_path / "scenario.db", port=0, api_key=KEY) as local:
        yield local


@pytest.fixture
def platform(server: LocalServer) -> Iterator[FaultyPlatform]:
    with FaultyPlatform(server.url) as proxy:
        yield proxy


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as http:
        http.headers.update(AUTH)
        yield http


def status_body(instance_id: str, message: str) -> dict[str, str]:
    return {"taskInstanceId": instance_id, "status": "InProgress", "message": message}


def test_the_proxy_forwards_polls_statuses_and_the_key(
    server: LocalServer, platform: FaultyPlatform, session: requests.Session
) -> None:
    client = LocalClient(server.url, KEY)
    assert session.post(platform.url + POLL, timeout=5).status_code == 204
    instance_id = client.submit("sample", "simple", {"arg": "x"})["id"]
    answer = session.post(platform.url + POLL, timeout=5)
    assert answer.status_code == 200
    assert answer.json()["id"] == instance_id
    posted = session.post(
        platform.url + STATUS_PATH, json=status_body(instance_id, "via proxy"), timeout=5
    )
    assert posted.status_code == 200
    assert [s["message"] for s in client.instance(instance_id)["statuses"]] == ["via proxy"]
    wrong = requests.post(platform.url + POLL, headers={"Authorization": "bearer nope"}, timeout=5)
    assert wrong.status_code == 401
    assert "wrong API key" in wrong.json()["error"]

    log = platform.log()
    assert [(e.method, e.path, e.status, e.action) for e in log] == [
        ("POST", POLL, 204, "forwarded"),
        ("POST", POLL, 200, "forwarded"),
        ("POST", STATUS_PATH, 200, "forwarded"),
        ("POST", POLL, 401, "forwarded"),
    ]
    assert log[2].json() == status_body(instance_id, "via proxy")
    assert platform.count(path=POLL_PATH) == 3


def test_refuse_closes_the_port_and_restore_reopens_the_same_one(
    platform: FaultyPlatform, session: requests.Session
) -> None:
    port = platform.port
    assert session.post(platform.url + POLL, timeout=5).status_code == 204
    platform.refuse()
    assert platform.refusing
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    # The kept-alive connection of the session is gone too.
    with pytest.raises(requests.ConnectionError):
        session.post(platform.url + POLL, timeout=5)
    platform.restore()
    assert platform.port == port
    assert session.post(platform.url + POLL, timeout=5).status_code == 204
    assert [e.status for e in platform.log()] == [204, 204]


def test_fail_answers_errors_for_a_count_or_until_healed(
    platform: FaultyPlatform, session: requests.Session
) -> None:
    platform.fail(503, count=2, paths=[POLL_PATH])
    assert session.post(platform.url + STATUS_PATH, json={}, timeout=5).status_code == 400
    codes = [session.post(platform.url + POLL, timeout=5).status_code for _ in range(3)]
    assert codes == [503, 503, 204]
    platform.fail(429)
    codes = [session.post(platform.url + POLL, timeout=5).status_code for _ in range(3)]
    assert codes == [429, 429, 429]
    platform.heal()
    assert session.post(platform.url + POLL, timeout=5).status_code == 204
    assert [e.status for e in platform.log(path=POLL_PATH)] == [503, 503, 204, 429, 429, 429, 204]
    assert [e.action for e in platform.log(path=STATUS_PATH)] == ["forwarded"]


def test_delay_holds_requests_and_never_forwards_one_whose_client_gave_up(
    server: LocalServer, platform: FaultyPlatform, session: requests.Session
) -> None:
    client = LocalClient(server.url, KEY)
    instance_id = client.submit("sample", "simple", {"arg": "x"})["id"]
    platform.delay(3.0)
    started = time.monotonic()
    with pytest.raises(requests.Timeout):
        session.post(platform.url + POLL, timeout=0.5)
    assert time.monotonic() - started < 2
    time.sleep(0.3)  # the proxy notices the hang-up
    assert [e.action for e in platform.log()] == ["abandoned"]
    assert client.instance(instance_id)["state"] == "Queued", "an abandoned poll took a task"

    platform.delay(0.8, count=1)
    started = time.monotonic()
    answer = session.post(platform.url + POLL, timeout=5)
    assert answer.status_code == 200
    assert answer.json()["id"] == instance_id
    assert time.monotonic() - started >= 0.8


def test_drop_closes_the_connection_without_an_answer(
    platform: FaultyPlatform, session: requests.Session
) -> None:
    platform.drop(count=1)
    with pytest.raises(requests.ConnectionError):
        session.post(platform.url + POLL, timeout=5)
    assert session.post(platform.url + POLL, timeout=5).status_code == 204
    assert [(e.action, e.status) for e in platform.log()] == [
        ("dropped", None),
        ("forwarded", 204),
    ]


@leaky_docker_connect
def test_the_engine_proxy_answers_ping_and_fails_after_cut(engine: DockerEngine) -> None:
    with EngineProxy() as proxy:
        client = docker.DockerClient(base_url=proxy.url, timeout=10)
        try:
            assert client.ping() is True
            proxy.cut()
            with pytest.raises((requests.ConnectionError, docker.errors.DockerException)):
                client.ping()
            proxy.restore()
            assert client.ping() is True
            assert proxy.accepted >= 2
        finally:
            client.close()
            gc.collect()  # the leaked socket's warning, here rather than in a later test


@leaky_docker_connect
def test_the_engine_proxy_carries_attach_streams_and_cut_ends_them(
    probe_image: str, runner_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    labels = {LABEL_RUNNER_ID: runner_id}
    with EngineProxy() as proxy:
        monkeypatch.setenv("DOCKER_HOST", proxy.url)
        engine = DockerEngine()
        try:
            # A whole task through the proxy: stdin, its half-close, stdout.
            container = engine.launch(ContainerSpec(image=probe_image, labels=labels))
            try:
                container.send(encode_envelope("probe", "echo", "t1", {"text": "through"}))
                out = bytearray()
                deadline = time.monotonic() + 30
                while (chunks := container.read(1.0)) is not None:
                    assert time.monotonic() < deadline, "the output did not end"
                    out += b"".join(d for s, d in chunks if s == Stream.STDOUT)
                assert json.loads(out) == {"type": "result", "outputs": {"text": "through"}}
                assert container.wait(10).exit_code == 0
            finally:
                container.remove()

            # A live attach stream ends when the engine is cut; the engine is unreachable.
            container = engine.launch(ContainerSpec(image=probe_image, labels=labels))
            try:
                container.send(encode_envelope("probe", "sleep", "t2", {"seconds": "30"}))
                assert container.read(0.5) == []
                proxy.cut()
                assert container.read(5.0) is None
                with pytest.raises(EngineError):
                    container.wait(5)
                proxy.restore()
            finally:
                container.remove()
            assert engine.remove_labelled(labels) == []
        finally:
            engine.close()
            gc.collect()

"""The local server's edges: answers made before the application runs, what is not HTTP/1.x,
paths that look like hosts, idle connections, cancelling an ended instance, strict query
numbers, and a quiet log under load. Each case is a real request to a real server."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import requests

from tests.integration.local_process import ServerProcess, answers, exchange, server_process

pytestmark = pytest.mark.integration

KEY = "edges-key"
HEAD = f"Host: 127.0.0.1\r\nAuthorization: bearer {KEY}\r\n"
SECURITY = ("content-security-policy", "x-content-type-options", "x-frame-options", "cache-control")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with server_process(tmp_path_factory.mktemp("edges") / "scenario.db", KEY) as running:
        yield running


def only(raw: bytes) -> tuple[int, dict[str, str], object]:
    found = answers(raw)
    assert len(found) == 1, raw[:500]
    return found[0]


TOO_LONG = f"POST /local/api/task-instances HTTP/1.1\r\n{HEAD}Content-Length: 99999999\r\n\r\n"
GZIP = f"POST /local/api/task-instances HTTP/1.1\r\n{HEAD}Transfer-Encoding: gzip\r\n\r\n"
EARLY = [
    (b"GET /local/api/statuses HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 401),
    (b"GET /local/api/statuses HTTP/1.1\r\nHost: evil.example\r\n\r\n", 403),
    (f"POST /local/api/task-instances HTTP/1.1\r\n{HEAD}\r\n".encode(), 411),
    (TOO_LONG.encode(), 413),
    (b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n", 431),
    (GZIP.encode(), 501),
    (b"NOT A REQUEST\r\n\r\n", 400),
]


@pytest.mark.parametrize(("raw", "status"), EARLY)
def test_early_answers_carry_the_security_headers(
    server: ServerProcess, raw: bytes, status: int
) -> None:
    got, headers, _ = only(exchange(server.port, raw))
    assert got == status
    assert all(name in headers for name in SECURITY), headers


def test_the_gate_comes_before_the_framing(server: ServerProcess) -> None:
    no_key = b"POST /local/api/task-instances HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    assert only(exchange(server.port, no_key))[0] == 401, "not 411"
    bad_length = no_key.replace(b"\r\n\r\n", b"\r\nContent-Length: x1\r\n\r\n")
    assert only(exchange(server.port, bad_length))[0] == 401, "not 400"
    foreign = no_key.replace(b"127.0.0.1", b"evil.example")
    assert only(exchange(server.port, foreign))[0] == 403


@pytest.mark.parametrize("version", [b"HTTP/2.0", b"HTTP/9.9", b"HTTP/0.9"])
def test_unknown_http_versions_get_505(server: ServerProcess, version: bytes) -> None:
    raw = b"GET / " + version + b"\r\nHost: 127.0.0.1\r\n\r\n"
    assert only(exchange(server.port, raw))[0] == 505


def test_a_path_that_looks_like_a_host_is_not_routed(server: ServerProcess) -> None:
    raw = f"GET //evil.example/local/api/statuses HTTP/1.1\r\n{HEAD}Connection: close\r\n\r\n"
    status, _, body = only(exchange(server.port, raw.encode()))
    assert status == 404 and "//evil.example" in str(body)


@pytest.mark.parametrize(
    "garbage",
    [
        bytes.fromhex("16030100a5010000a10303") + b"\x00" * 40,  # a TLS ClientHello's start
        b"GET / HTTP/1.1\nHost: 127.0.0.1\n\n",  # LF-only lines
        b"\x00\x01\x02\x03",
    ],
)
def test_garbage_is_answered_and_closed_at_once(server: ServerProcess, garbage: bytes) -> None:
    started = time.monotonic()
    raw = exchange(server.port, garbage, timeout_s=10)
    took = time.monotonic() - started
    assert only(raw)[0] == 400 and took < 5, (raw[:200], took)


@pytest.mark.parametrize(
    "body", [b'{"namespace": "lines",\n "name": "t"}', b'{"namespace": "lines", "name": "t"}\n' * 3]
)
def test_a_body_with_line_breaks_sent_with_its_header_is_read(
    server: ServerProcess, body: bytes
) -> None:
    """Lines of JSON in the same read as the header: the body, not a header line ending in
    a bare LF (which was answered 400, depending on how the bytes arrived)."""
    path = "/local/api/task-instances" + ("/bulk" if body.count(b"\n") > 1 else "")
    head = f"POST {path} HTTP/1.1\r\n{HEAD}Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    status, _, answer = only(exchange(server.port, head.encode() + body))
    assert status == 201, answer


def test_idle_connections_cannot_lock_a_keyed_client_out(server: ServerProcess) -> None:
    idle = []
    try:
        for _ in range(1000):
            idle.append(socket.create_connection(("127.0.0.1", server.port), timeout=5))
        started = time.monotonic()
        answer = requests.get(
            f"http://127.0.0.1:{server.port}/local/api/statuses",
            headers={"Authorization": f"bearer {KEY}"},
            timeout=30,
        )
        took = time.monotonic() - started
        print(f"\nwith 1,000 idle connections open, a keyed request took {took:.2f} s")
        assert answer.status_code == 200 and took < 15
    finally:
        for conn in idle:
            conn.close()


def test_cancelling_an_ended_instance_is_a_conflict(server: ServerProcess) -> None:
    with server.session() as http:
        url = f"http://127.0.0.1:{server.port}"
        created = http.post(f"{url}/local/api/task-instances", json={"namespace": "n", "name": "t"})
        instance_id = created.json()["id"]
        http.post(f"{url}/polling/api/namespaces/n/task-instances/poll")
        done = {"taskInstanceId": instance_id, "status": "Completed", "outputValues": {}}
        assert http.post(f"{url}/taskstatus/api/task-statuses", json=done).status_code == 200
        refused = http.post(f"{url}/local/api/task-instances/{instance_id}/cancel")
        assert refused.status_code == 409 and "already ended" in refused.text
        assert (
            http.get(f"{url}/local/api/task-instances/{instance_id}").json()["cancelled"] is False
        )


@pytest.mark.parametrize("after", ["1_000", "\uff11", "1e3", " 1", "+1", "1.0", "9" * 30])
def test_query_numbers_are_plain_digits(server: ServerProcess, after: str) -> None:
    with server.session() as http:
        answer = http.get(
            f"http://127.0.0.1:{server.port}/local/api/statuses", params={"after": after}
        )
    assert answer.status_code == 400 and "after=" in answer.text


def test_busy_clients_leave_the_log_quiet(server: ServerProcess) -> None:
    before = server.log().count("\n")

    def client() -> None:
        with server.session() as http:
            for _ in range(50):
                http.get(f"http://127.0.0.1:{server.port}/local/api/statuses")

    threads = [threading.Thread(target=client) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    added = server.log().splitlines()[before:]
    print(f"\n1,000 requests from 20 clients logged {len(added)} lines")
    assert len(added) < 10, added[:10]

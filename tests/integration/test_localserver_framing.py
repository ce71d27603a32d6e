"""HTTP framing of the local server, over raw sockets to its own process.

Every request gets exactly one answer (or none, for bytes that are not a
request), a refused request's connection is closed so nothing after it is
read as a request, and the server stays up without logging a traceback.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import requests

from tests.integration.local_process import ServerProcess, answers, exchange, server_process

pytestmark = pytest.mark.integration

KEY = "framing-key"
HEAD = f"Host: 127.0.0.1\r\nAuthorization: bearer {KEY}\r\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with server_process(tmp_path_factory.mktemp("framing") / "scenario.db", KEY) as running:
        yield running


@pytest.fixture
def running_id(server: ServerProcess) -> str:
    """A task instance handed out, so statuses for it are accepted."""
    with server.session() as http:
        body = {"namespace": "framing", "name": "t"}
        created = http.post(server.url + "/local/api/task-instances", json=body, timeout=10)
        poll = server.url + "/polling/api/namespaces/framing/task-instances/poll"
        assert http.post(poll, timeout=10).json()["id"] == created.json()["id"]
        return str(created.json()["id"])


@pytest.fixture(autouse=True)
def stays_up(server: ServerProcess) -> Iterator[None]:
    yield
    assert server.alive(), server.log()
    assert "Traceback" not in server.log(), server.log()


def statuses_of(server: ServerProcess, instance_id: str) -> list[dict[str, object]]:
    with server.session() as http:
        view = http.get(f"{server.url}/local/api/task-instances/{instance_id}", timeout=10)
        return list(view.json()["statuses"])


def status_request(instance_id: str, framing: str, body: bytes) -> bytes:
    return f"POST /taskstatus/api/task-statuses HTTP/1.1\r\n{HEAD}{framing}\r\n".encode() + body


def one_refusal(raw: bytes, status: int, named: str) -> None:
    found = answers(raw)
    assert [a[0] for a in found] == [status], raw[:1000]
    assert found[0][1].get("connection") == "close"
    assert named in found[0][2]["error"], found[0][2]


def test_no_content_length_cannot_smuggle_a_request(server: ServerProcess) -> None:
    hidden = json.dumps({"namespace": "smuggled", "name": "x"}).encode()
    smuggled = (
        f"POST /local/api/task-instances HTTP/1.1\r\n{HEAD}Content-Length: {len(hidden)}\r\n\r\n"
    ).encode() + hidden
    raw = exchange(server.port, status_request("", "", smuggled))
    one_refusal(raw, 411, "Content-Length")
    with server.session() as http:
        poll = http.post(server.url + "/polling/api/namespaces/smuggled/task-instances/poll")
        assert poll.status_code == 204, "the request hidden in the body was never run"


def test_body_shorter_than_its_length_then_half_close(
    server: ServerProcess, running_id: str
) -> None:
    body = json.dumps({"taskInstanceId": running_id, "status": "InProgress"}).encode()
    request = status_request(running_id, f"Content-Length: {len(body) + 40}\r\n", body)
    raw = exchange(server.port, request, half_close=True)
    one_refusal(raw, 400, f"after {len(body)} of its {len(body) + 40} bytes")
    assert statuses_of(server, running_id) == [], "the short body was not processed"


@pytest.mark.parametrize(
    ("framing", "status", "named"),
    [
        (b"Content-Length: 60\r\nContent-Length: 61\r\n", 400, "more than one Content-Length"),
        (b"Content-Length: 60\r\nContent-Length: 60\r\n", 400, "more than one Content-Length"),
        (b"Content-Length: \xb2\r\n", 400, "Content-Length"),  # '²' in latin-1: isdigit()
        (b"Content-Length: \xc2\xb2\r\n", 400, "Content-Length"),  # '²' in UTF-8
        (b"Content-Length: -5\r\n", 400, "Content-Length"),
        (b"Content-Length: 0x10\r\n", 400, "Content-Length"),
        (b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", 400, "both Transfer-Encoding"),
        (b"Transfer-Encoding: gzip\r\n", 501, "Transfer-Encoding"),
        (b"Content-Length: 99999999999999999999\r\n", 413, "over the limit"),
    ],
)
def test_bad_framing_gets_one_answer_and_a_closed_connection(
    server: ServerProcess, running_id: str, framing: bytes, status: int, named: str
) -> None:
    head = f"POST /taskstatus/api/task-statuses HTTP/1.1\r\n{HEAD}".encode()
    body = json.dumps({"taskInstanceId": running_id, "status": "Error"}).encode()
    raw = exchange(server.port, head + framing + b"\r\n" + body)
    one_refusal(raw, status, named)
    assert statuses_of(server, running_id) == []


def test_chunked_body_is_accepted(server: ServerProcess, running_id: str) -> None:
    body = json.dumps({"taskInstanceId": running_id, "status": "InProgress", "message": "c"})
    half = len(body) // 2
    chunks = "".join(f"{len(p):x}\r\n{p}\r\n" for p in (body[:half], body[half:])) + "0\r\n\r\n"
    raw = exchange(
        server.port,
        status_request(running_id, "Transfer-Encoding: chunked\r\nConnection: close\r\n", b"")
        + chunks.encode(),
    )
    assert [a[0] for a in answers(raw)] == [200], raw
    assert [s["message"] for s in statuses_of(server, running_id)] == ["c"]


def test_bad_chunks_and_request_lines(server: ServerProcess, running_id: str) -> None:
    bad_chunk = status_request(running_id, "Transfer-Encoding: chunked\r\n", b"zz\r\nxx\r\n")
    one_refusal(exchange(server.port, bad_chunk), 400, "Bad Request")
    one_refusal(exchange(server.port, b"NOT A REQUEST\r\n\r\n"), 400, "Bad Request")
    one_refusal(exchange(server.port, b"post / HTTP/1.1\r\nHost: x\r\n\r\n"), 400, "method")
    huge = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n"
    one_refusal(exchange(server.port, huge), 431, "Header")


def test_wrong_key_with_a_body_is_refused_before_the_body(server: ServerProcess) -> None:
    # Expect: 100-continue asks leave to send the body: a refused request never gets it.
    head = (
        "POST /taskstatus/api/task-statuses HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Authorization: bearer wrong\r\nExpect: 100-continue\r\nContent-Length: 1000000\r\n\r\n"
    )
    raw = exchange(server.port, head.encode())
    assert not raw.startswith(b"HTTP/1.1 100"), raw
    one_refusal(raw, 401, "wrong API key")
    foreign = head.replace("127.0.0.1", "rebound.example").replace("wrong", KEY)
    one_refusal(exchange(server.port, foreign.encode()), 403, "loopback")


def test_an_absolute_target_is_judged_by_its_own_host(server: ServerProcess) -> None:
    for target, status in (
        ("http://rebound.example/local/api/statuses", 403),
        (f"http://127.0.0.1:{server.port}/local/api/statuses", 200),
    ):
        request = f"GET {target} HTTP/1.1\r\n{HEAD}Connection: close\r\n\r\n"
        assert [a[0] for a in answers(exchange(server.port, request.encode()))] == [status]


def test_pipelined_requests_each_get_an_answer(server: ServerProcess) -> None:
    request = f"GET /local/api/statuses?after=0 HTTP/1.1\r\n{HEAD}\r\n"
    raw = exchange(
        server.port,
        (request * 3 + request.replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n")).encode(),
    )
    assert [a[0] for a in answers(raw)] == [200, 200, 200, 200]


def test_idle_connections_do_not_hold_up_a_request(server: ServerProcess) -> None:
    """50 connections that send nothing or half a request; a normal request is answered."""
    idle = [socket.create_connection(("127.0.0.1", server.port), timeout=10) for _ in range(50)]
    try:
        for index, conn in enumerate(idle):
            if index % 2:
                conn.sendall(f"GET /local/api/statuses HTTP/1.1\r\n{HEAD}".encode())
        started = time.monotonic()
        with server.session() as http:
            answer = http.get(server.url + "/local/api/statuses", timeout=30)
        waited = time.monotonic() - started
        assert answer.status_code == 200
        # Generous: it must not have waited for the idle connections' 120 s timeout.
        assert waited < 10, f"answered after {waited:.1f} s"
    finally:
        for conn in idle:
            conn.close()


def test_a_burst_of_connections_is_answered(server: ServerProcess) -> None:
    codes: list[int] = []
    lock = threading.Lock()

    def call() -> None:
        answer = requests.get(
            server.url + "/local/api/statuses",
            headers={"Authorization": f"bearer {KEY}"},
            timeout=60,
        )
        with lock:
            codes.append(answer.status_code)

    threads = [threading.Thread(target=call) for _ in range(100)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    assert codes == [200] * 100

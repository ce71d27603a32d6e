"""A Docker engine that fails on cue, for the integration tests.

`FaultyEngine` is an `EngineProxy` (a unix socket in front of the engine's) that reads the
head of each request before it decides: forward it, answer it with an error (as a full
disk makes `POST /containers/create` answer 500 "no space left on device"), or hold it
unanswered (a hung engine: it accepts connections and never answers). A forwarded request
asks the engine to close the connection after its answer, so that each connection carries
one request and every request is seen; an attach request (`Upgrade: tcp`) is forwarded as
it is, and its hijacked stream spliced as raw bytes both ways.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

from tests.integration.faults import DOCKER_SOCKET, EngineProxy

_HEAD_END = b"\r\n\r\n"
_MAX_HEAD = 64 * 1024
_READ_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Rule:
    method: str
    path: re.Pattern[str]  # matched against the path without its /v1.xx prefix nor query
    status: int
    message: str


class FaultyEngine(EngineProxy):
    def __init__(self, target: str = DOCKER_SOCKET) -> None:
        super().__init__(target)
        self._rules: list[Rule] = []
        self._hanging = False
        self._held: list[socket.socket] = []
        self.seen: list[tuple[str, str, str]] = []  # (method, path, what was done)

    def fail(
        self,
        method: str,
        path: str,
        status: int = 500,
        message: str = "mkdir /var/lib/docker/overlay2/x: no space left on device",
    ) -> None:
        """Answer requests of `method` whose path matches `path` (a regex) with this error."""
        with self._lock:
            self._rules.append(Rule(method, re.compile(path), status, message))

    def hang(self) -> None:
        """Hold every new request unanswered (streams already open go on)."""
        with self._lock:
            self._hanging = True

    def heal(self) -> None:
        """Forward everything again; the requests held are closed unanswered."""
        with self._lock:
            self._rules.clear()
            self._hanging = False
            held, self._held = self._held, []
        for sock in held:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def count(self, method: str, path: str, what: str) -> int:
        with self._lock:
            return sum(
                1 for s in self.seen if (s[0], s[2]) == (method, what) and re.search(path, s[1])
            )

    def close(self) -> None:
        self.heal()
        super().close()

    def _handle(self, client: socket.socket) -> None:
        threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        read = _read_head(client)
        if read is None:
            client.close()
            return
        head, rest = read
        method, target = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ")[:2]
        path = re.sub(r"^/v[0-9.]+", "", urlsplit(target).path)
        with self._lock:
            hanging = self._hanging
            rule = next(
                (r for r in self._rules if r.method == method and r.path.search(path)), None
            )
            action = "held" if hanging else "failed" if rule else "forwarded"
            self.seen.append((method, path, action))
            if hanging:
                self._held.append(client)
                return
        if rule is not None:
            _answer(client, head, rest, rule)
            return
        self._splice(client, _one_request(head) + rest)


def _read_head(client: socket.socket) -> tuple[bytes, bytes] | None:
    """The request's head (its lines, without the blank one) and what came after it."""
    client.settimeout(_READ_TIMEOUT_S)
    data = b""
    try:
        while _HEAD_END not in data:
            chunk = client.recv(65536)
            if not chunk or len(data) > _MAX_HEAD:
                return None
            data += chunk
    except OSError:
        return None
    finally:
        client.settimeout(None)
    head, _, rest = data.partition(_HEAD_END)
    return head, rest


def _one_request(head: bytes) -> bytes:
    """The head as forwarded: an upgrade (attach) as it is; any other request asks the engine
    to close the connection after answering it."""
    lines = head.split(b"\r\n")
    if any(line.lower().startswith(b"upgrade:") for line in lines[1:]):
        return head + _HEAD_END
    kept = [line for line in lines if not line.lower().startswith(b"connection:")]
    return b"\r\n".join([*kept, b"Connection: close"]) + _HEAD_END


def _answer(client: socket.socket, head: bytes, rest: bytes, rule: Rule) -> None:
    """Read the request's body (so that closing resets nothing), then answer the error."""
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    body = json.dumps({"message": rule.message}).encode()
    try:
        client.settimeout(_READ_TIMEOUT_S)
        while len(rest) < length:
            chunk = client.recv(65536)
            if not chunk:
                break
            rest += chunk
        client.sendall(
            f"HTTP/1.1 {rule.status} Error\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            + body
        )
    except OSError:
        pass
    finally:
        client.close()

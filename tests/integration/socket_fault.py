"""`RefusingEngine`: a unix socket in front of the Docker engine's that answers chosen
requests with a 500, as an engine in trouble does, and forwards every other request.

It reads each request's line and headers (bodies by Content-Length), so that it can
answer one request of a kept-alive connection itself and forward the next. Once a request
upgrades its connection (attach) or sends a chunked body, the rest of that connection is
forwarded as raw bytes both ways. For the state and removal tests; the engine-fault tests
have their own proxy (faults.py).
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import socket
import socketserver
import tempfile
import threading
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

DOCKER_SOCKET = "/var/run/docker.sock"
_CHUNK = 65536


class RefusingEngine:
    """`refuse(method, path_pattern)` until `allow()`; `refused` counts the answers given."""

    def __init__(self, target: str = DOCKER_SOCKET) -> None:
        self.target = target
        self._dir = Path(tempfile.mkdtemp(prefix="xc-refuse-"))  # short: paths max 107 bytes
        self.path = self._dir / "engine.sock"
        self.refused = 0
        self._rule: tuple[str, re.Pattern[str]] | None = None
        self._lock = threading.Lock()
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                proxy._serve(self.request)

        self._server = socketserver.ThreadingUnixStreamServer(str(self.path), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"unix://{self.path}"

    def refuse(self, method: str, path_pattern: str) -> None:
        """Answer requests of `method` whose path (after the API version) matches, with a 500."""
        with self._lock:
            self._rule = (method.upper(), re.compile(path_pattern))

    def allow(self) -> None:
        with self._lock:
            self._rule = None

    def __enter__(self) -> RefusingEngine:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        shutil.rmtree(self._dir, ignore_errors=True)

    def _refuses(self, method: str, target: str) -> bool:
        path = re.sub(r"^/v[0-9.]+", "", target.partition("?")[0])
        with self._lock:
            rule = self._rule
            refused = rule is not None and rule[0] == method and bool(rule[1].search(path))
            self.refused += refused
        return refused

    def _serve(self, client: socket.socket) -> None:
        upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        upstream.connect(self.target)
        answers = threading.Thread(target=_pump, args=(upstream, client), daemon=True)
        answers.start()
        reader = client.makefile("rb")
        try:
            while self._one_request(reader, client, upstream):
                pass
        finally:
            with contextlib.suppress(OSError):
                upstream.shutdown(socket.SHUT_WR)
            answers.join(30)
            upstream.close()

    def _one_request(
        self, reader: BinaryIO, client: socket.socket, upstream: socket.socket
    ) -> bool:
        """Forward or refuse one request; False when the connection is done."""
        head = _read_head(reader)
        if head is None:
            return False
        method, target, headers = _parse(head)
        body = reader.read(int(headers.get("content-length", "0") or 0))
        if self._refuses(method, target):
            message = json.dumps({"message": "injected failure: the engine refuses this"})
            client.sendall(
                b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(message)}\r\n\r\n{message}".encode()
            )
            return True
        upstream.sendall(head + body)
        upgrading = "upgrade" in headers.get("connection", "").lower()
        if upgrading or "chunked" in headers.get("transfer-encoding", "").lower():
            with contextlib.suppress(OSError):  # the rest of the connection, as it comes
                while data := reader.read1(_CHUNK):  # type: ignore[attr-defined]
                    upstream.sendall(data)
            return False
        return True


def _read_head(reader: BinaryIO) -> bytes | None:
    lines = []
    while True:
        line = reader.readline(_CHUNK)
        if not line:
            return None
        lines.append(line)
        if line in (b"\r\n", b"\n"):
            return b"".join(lines)


def _parse(head: bytes) -> tuple[str, str, dict[str, str]]:
    first, *rest = head.decode("latin-1").split("\r\n")
    method, target, _ = first.split(" ", 2)
    headers = {}
    for line in rest:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return method.upper(), target, headers


def _pump(source: socket.socket, sink: socket.socket) -> None:
    """Copy bytes until `source` ends, then half-close `sink`."""
    with contextlib.suppress(OSError):
        while data := source.recv(_CHUNK):
            sink.sendall(data)
    with contextlib.suppress(OSError):
        sink.shutdown(socket.SHUT_WR)

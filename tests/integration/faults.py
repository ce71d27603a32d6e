"""Fault injectors for the integration tests, on loopback only.

`FaultyPlatform` is an HTTP reverse proxy in front of a platform (the local
server): it forwards requests unchanged until told to refuse connections, answer
errors, answer late, or hang up; it records every request it sees.

`EngineProxy` is a byte-level forwarder on a unix socket in front of the Docker
engine's socket: a runner pointed at it (DOCKER_HOST=unix://...) loses its engine
when the proxy is `cut()`, and finds it again after `restore()`.

Both are controlled from the test thread while the runner runs as its own process.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import select
import shutil
import socket
import socketserver
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Literal
from urllib.parse import urlsplit

# Paths of the platform API, for `paths=` filters and request-log queries.
CATALOG_PATH = "/taskcatalog/api/catalog-task-definitions/"
POLL_PATH = "/task-instances/poll"
STATUS_PATH = "/taskstatus/api/task-statuses"
CANCEL_PATH = "/polling/api/Cancelled"

DOCKER_SOCKET = "/var/run/docker.sock"

# Not forwarded either way: they describe one hop, not the request.
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "content-length",
        "host",
    }
)

Action = Literal["forwarded", "failed", "dropped", "abandoned", "reset", "upstream-error"]


@dataclass(frozen=True)
class Exchange:
    """One request the proxy received, and what it did with it.

    action: forwarded (answered with the platform's answer), failed (answered with
    an injected error), dropped (connection closed without an answer), abandoned
    (delayed, and the client hung up before it was forwarded: never forwarded),
    reset (arrived on a kept-alive connection while refusing: closed, not forwarded),
    upstream-error (the platform could not be reached: 502).
    """

    method: str
    path: str  # without the query
    target: str  # as sent: path and query
    at: float  # time.monotonic() when the request had been read
    done_at: float  # time.monotonic() when it was answered or given up
    status: int | None  # the status answered; None when none was
    action: Action
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class _Rule:
    kind: Literal["fail", "delay", "drop"]
    status: int = 503
    seconds: float = 0.0
    count: int | None = None  # None: until heal()
    paths: tuple[str, ...] | None = None  # substrings of the path; None: every path

    def matches(self, path: str) -> bool:
        return self.paths is None or any(p in path for p in self.paths)


class FaultyPlatform:
    """A reverse proxy on 127.0.0.1 in front of `upstream` (an http:// base URL).

    Faults: `refuse()` / `restore()` (the same port), `fail(...)`, `delay(...)`,
    `drop(...)`, `heal()`. One rule (fail, delay or drop) is active at a time; a new
    one replaces it. Requests are logged in `log()`.
    """

    def __init__(self, upstream: str, *, upstream_timeout_s: float = 30.0) -> None:
        parts = urlsplit(upstream)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"upstream {upstream!r} must be an http:// URL")
        self.upstream_host = parts.hostname
        self.upstream_port = parts.port or 80
        self.upstream_timeout_s = upstream_timeout_s
        self.port = 0
        self._lock = threading.Condition()
        self._rule: _Rule | None = None
        self._refusing = False
        self._busy = 0  # requests being forwarded and answered right now
        self._log: list[Exchange] = []
        self._connections: set[socket.socket] = set()
        self._server: _ProxyServer | None = None
        self._thread: threading.Thread | None = None

    # -- life cycle -----------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FaultyPlatform:
        self._listen()
        return self

    def close(self) -> None:
        self._unlisten()
        self._end_connections()

    def __enter__(self) -> FaultyPlatform:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _listen(self) -> None:
        server = _ProxyServer(("127.0.0.1", self.port), self)
        self.port = int(server.server_address[1])
        thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"faulty-platform-{self.port}",
            daemon=True,
        )
        with self._lock:
            self._server, self._thread = server, thread
            self._refusing = False
        thread.start()

    def _unlisten(self) -> None:
        with self._lock:
            server, thread = self._server, self._thread
            self._server = self._thread = None
            self._refusing = True
            self._lock.notify_all()  # ends delays early
        if server is not None and thread is not None:
            server.shutdown()
            thread.join()
            server.server_close()

    def _end_connections(self) -> None:
        with self._lock:
            # Requests being forwarded get their answer out first, so a status the
            # platform recorded is not also seen as failed by the client.
            self._lock.wait_for(lambda: self._busy == 0, timeout=10)
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    # -- faults ---------------------------------------------------------------

    def refuse(self) -> None:
        """Close the listening socket and every open connection: connecting is refused."""
        self._unlisten()
        self._end_connections()

    def restore(self) -> None:
        """Listen again, on the same port."""
        with self._lock:
            listening = self._server is not None
        if not listening:
            self._listen()

    @property
    def refusing(self) -> bool:
        with self._lock:
            return self._refusing

    def fail(
        self, status: int = 503, count: int | None = None, paths: Iterable[str] | None = None
    ) -> None:
        """Answer `status` to the next `count` matching requests (None: until heal())."""
        self._set(_Rule("fail", status=status, count=count, paths=_paths(paths)))

    def delay(
        self, seconds: float, count: int | None = None, paths: Iterable[str] | None = None
    ) -> None:
        """Hold matching requests `seconds` before forwarding them.

        A client that hangs up meanwhile (its timeout) is noticed, and its request
        is not forwarded (logged as abandoned): a slow network, not a slow platform
        that processes requests whose answers are lost.
        """
        self._set(_Rule("delay", seconds=seconds, count=count, paths=_paths(paths)))

    def drop(self, count: int | None = None, paths: Iterable[str] | None = None) -> None:
        """Read matching requests, then close their connection without answering."""
        self._set(_Rule("drop", count=count, paths=_paths(paths)))

    def heal(self) -> None:
        """Back to forwarding everything (listening again if refusing)."""
        self._set(None)
        self.restore()

    def _set(self, rule: _Rule | None) -> None:
        with self._lock:
            self._rule = rule
            self._lock.notify_all()

    # -- the request log --------------------------------------------------------

    def log(
        self,
        *,
        path: str | None = None,
        method: str | None = None,
        since: float | None = None,
        until: float | None = None,
        action: Action | None = None,
    ) -> list[Exchange]:
        """Requests received, oldest first; `path` is a substring, since/until monotonic."""
        with self._lock:
            entries = list(self._log)
        return [
            e
            for e in entries
            if (path is None or path in e.path)
            and (method is None or e.method == method)
            and (since is None or e.at >= since)
            and (until is None or e.at < until)
            and (action is None or e.action == action)
        ]

    def count(self, **query: Any) -> int:
        return len(self.log(**query))

    # -- used by the handler ----------------------------------------------------

    def _track(self, connection: socket.socket, *, open_: bool) -> None:
        with self._lock:
            if open_:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def _decide(self, path: str) -> _Rule | None:
        with self._lock:
            rule = self._rule
            if rule is None or not rule.matches(path):
                return None
            if rule.count is not None:
                rule.count -= 1
                if rule.count <= 0:
                    self._rule = None
            return rule

    def _begin_forward(self) -> bool:
        with self._lock:
            if self._refusing:
                return False
            self._busy += 1
            return True

    def _end_forward(self) -> None:
        with self._lock:
            self._busy -= 1
            self._lock.notify_all()

    def _hold(self, seconds: float, connection: socket.socket) -> bool:
        """Wait `seconds`; False if the client hung up or the proxy began refusing."""
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            if self.refusing:
                return False
            readable, _, _ = select.select([connection], [], [], min(remaining, 0.05))
            if readable:
                try:
                    peeked = connection.recv(1, socket.MSG_PEEK)
                except OSError:
                    return False
                if not peeked:
                    return False
                time.sleep(min(remaining, 0.05))  # a pipelined request; keep waiting
        return True

    def _record(self, exchange: Exchange) -> None:
        with self._lock:
            self._log.append(exchange)


def _paths(paths: Iterable[str] | None) -> tuple[str, ...] | None:
    if paths is None:
        return None
    if isinstance(paths, str):
        return (paths,)
    return tuple(paths)


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], platform: FaultyPlatform) -> None:
        self.platform = platform
        super().__init__(address, _ProxyHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks the host name up, which can stall; skip it.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), self.server_address[1]

    def process_request(self, request: Any, client_address: Any) -> None:
        self.platform._track(request, open_=True)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        self.platform._track(request, open_=False)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # connections cut on purpose are the point here


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 60
    disable_nagle_algorithm = True
    server: _ProxyServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _any(self) -> None:
        platform = self.server.platform
        body = self._read_body()
        at = time.monotonic()
        path = urlsplit(self.path).path

        def record(action: Action, status: int | None) -> None:
            platform._record(
                Exchange(self.command, path, self.path, at, time.monotonic(), status, action, body)
            )

        # Each request is logged before its answer goes out, so a client that has
        # its answer finds the request in the log.
        rule = platform._decide(path)
        if rule is not None and rule.kind == "fail":
            record("failed", rule.status)
            self._answer(rule.status, [], json.dumps({"error": "injected fault"}).encode())
            return
        if rule is not None and rule.kind == "drop":
            record("dropped", None)
            self._hang_up()
            return
        if rule is not None and not platform._hold(rule.seconds, self.connection):
            record("abandoned", None)
            self._hang_up()
            return
        if not platform._begin_forward():
            record("reset", None)
            self._hang_up()
            return
        try:
            status, headers, data = self._forward(body)
            if status is None:
                record("upstream-error", 502)
                self._answer(502, [], json.dumps({"error": "platform unreachable"}).encode())
            else:
                record("forwarded", status)
                self._answer(status, headers, data)
        finally:
            platform._end_forward()

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _any

    def _read_body(self) -> bytes:
        length = self.headers.get("Content-Length")
        if length and length.isdigit():
            return self.rfile.read(int(length))
        return b""

    def _forward(self, body: bytes) -> tuple[int | None, list[tuple[str, str]], bytes]:
        platform = self.server.platform
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
        upstream = http.client.HTTPConnection(
            platform.upstream_host, platform.upstream_port, timeout=platform.upstream_timeout_s
        )
        try:
            upstream.request(self.command, self.path, body=body or None, headers=headers)
            response = upstream.getresponse()
            data = response.read()
            return response.status, response.getheaders(), data
        except (OSError, http.client.HTTPException):
            return None, [], b""
        finally:
            upstream.close()

    def _answer(self, status: int, headers: Sequence[tuple[str, str]], data: bytes) -> None:
        try:
            self._write_answer(status, headers, data)
        except OSError:  # the client hung up, or the connection was cut
            self.close_connection = True

    def _write_answer(self, status: int, headers: Sequence[tuple[str, str]], data: bytes) -> None:
        self.send_response_only(status)
        for name, value in headers:
            if name.lower() not in _HOP_BY_HOP:
                self.send_header(name, value)
        if not any(name.lower() == "content-type" for name, _ in headers) and data:
            self.send_header("Content-Type", "application/json")
        if status >= 200 and status not in (204, 304):
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD" and status not in (204, 304):
            self.wfile.write(data)

    def _hang_up(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


class EngineProxy:
    """A unix socket forwarding bytes both ways to the Docker engine's socket.

    Each connection is spliced as is, so Docker's hijacked attach streams (and
    their half-close) pass. `cut()` closes every live connection and stops
    listening (connecting is refused); `restore()` listens again on the same path.
    """

    def __init__(self, target: str = DOCKER_SOCKET) -> None:
        self.target = target
        # A short path: unix socket paths are limited to 107 bytes.
        self._dir = Path(tempfile.mkdtemp(prefix="xc-engine-"))
        self.path = self._dir / "engine.sock"
        self.accepted = 0  # connections accepted since start
        self._lock = threading.Lock()
        self._links: set[_Link] = set()
        self._listener: socket.socket | None = None
        self._accepting: threading.Thread | None = None
        self._stop_accepting = threading.Event()

    @property
    def url(self) -> str:
        """For DOCKER_HOST or docker.DockerClient(base_url=...)."""
        return f"unix://{self.path}"

    def start(self) -> EngineProxy:
        self._listen()
        return self

    def close(self) -> None:
        self.cut()
        for link in self._live():
            link.join(5)
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> EngineProxy:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def cut(self) -> None:
        """Stop listening and close every live connection."""
        with self._lock:
            listener, thread = self._listener, self._accepting
            self._listener = self._accepting = None
        if listener is not None and thread is not None:
            self._stop_accepting.set()
            thread.join()
            listener.close()  # the socket file stays: connecting is refused
        for link in self._live():
            link.cut()

    def restore(self) -> None:
        """Listen again on the same path."""
        with self._lock:
            listening = self._listener is not None
        if not listening:
            self._listen()

    def live_connections(self) -> int:
        return len(self._live())

    def _live(self) -> list[_Link]:
        with self._lock:
            return list(self._links)

    def _listen(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            listener.bind(str(self.path))
            listener.listen(64)
        except OSError:
            listener.close()
            raise
        self._stop_accepting = threading.Event()
        thread = threading.Thread(
            target=self._accept_loop,
            args=(listener, self._stop_accepting),
            name="engine-proxy-accept",
            daemon=True,
        )
        with self._lock:
            self._listener, self._accepting = listener, thread
        thread.start()

    def _accept_loop(self, listener: socket.socket, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                readable, _, _ = select.select([listener], [], [], 0.05)
                if not readable:
                    continue
                client, _ = listener.accept()
            except OSError:
                continue
            with self._lock:
                self.accepted += 1
            self._handle(client)

    def _handle(self, client: socket.socket) -> None:
        """A connection accepted: spliced to the engine as is."""
        self._splice(client, b"")

    def _splice(self, client: socket.socket, head: bytes) -> None:
        """Connect to the engine, send it `head` (what was read of the client already), and
        splice the two connections both ways."""
        upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            upstream.connect(self.target)
            upstream.sendall(head)
        except OSError:
            upstream.close()
            client.close()
            return
        link = _Link(client, upstream, self._forget)
        with self._lock:
            self._links.add(link)
        link.start()

    def _forget(self, link: _Link) -> None:
        with self._lock:
            self._links.discard(link)


class _Link:
    """One client connection spliced to one engine connection, a thread per direction."""

    def __init__(
        self,
        client: socket.socket,
        upstream: socket.socket,
        on_closed: Callable[[_Link], None],
    ) -> None:
        self._client = client
        self._upstream = upstream
        self._on_closed = on_closed
        self._lock = threading.Lock()
        self._pumps = 2
        self._threads = [
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True),
            threading.Thread(target=self._pump, args=(upstream, client), daemon=True),
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def join(self, timeout_s: float) -> None:
        for thread in self._threads:
            thread.join(timeout_s)

    def cut(self) -> None:
        """Both ends, both directions: wakes the pumps, which then close the sockets."""
        for sock in (self._client, self._upstream):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    # Half-close: the attach stream's stdin ends, its output goes on.
                    with contextlib.suppress(OSError):
                        sink.shutdown(socket.SHUT_WR)
                    break
                sink.sendall(data)
        except OSError:
            self.cut()
        finally:
            with self._lock:
                self._pumps -= 1
                last = self._pumps == 0
            if last:
                self._client.close()
                self._upstream.close()
                self._on_closed(self)

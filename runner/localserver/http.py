"""A Scenario-compatible HTTP server on the standard library, backed by `Store`.

It answers the platform API the runner speaks (catalog, poll, statuses,
cancellation check) plus a small admin API under /local/api to submit task
instances and watch their statuses.
"""

from __future__ import annotations

import contextlib
import errno
import hmac
import ipaddress
import json
import logging
import socket
import socketserver
import sqlite3
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

from runner.config.local import DEFAULT_LOCAL_KEY, DEFAULT_LOCAL_PORT
from runner.contracts import Contracts
from runner.core.errors import ConfigError
from runner.localserver.api import Api, HttpError
from runner.localserver.store import Store

logger = logging.getLogger(__name__)

DEFAULT_API_KEY = DEFAULT_LOCAL_KEY
DEFAULT_PORT = DEFAULT_LOCAL_PORT
MAX_BODY_BYTES = 16 * 1024 * 1024
_JOIN_S = 5.0


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: every answer carries Content-Length
    server_version = "xc-scenario-local/1"
    sys_version = ""
    timeout = 120  # idle keep-alive connections end, freeing their thread
    # Headers and body go out in two writes; with Nagle on, the second waits
    # for the client's delayed ACK (~40 ms per request).
    disable_nagle_algorithm = True
    error_content_type = "application/json"
    error_message_format = '{"error": "%(code)d %(message)s"}'
    server: _Server

    def _dispatch(self) -> None:
        try:
            body = self._read_body()
            self._authorize()
            status, payload = self.server.api.handle(self.command, self.path, body)
        except HttpError as exc:
            status, payload = exc.status, {"error": exc.message}
        except sqlite3.Error as exc:
            logger.exception("local server: storage error on %s %s", self.command, self.path)
            status, payload = 500, {"error": f"storage error: {exc}"}
        self._reply(status, payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _dispatch

    def _read_body(self) -> bytes:
        # The body is read even for a request that will be refused, so the
        # next request on the keep-alive connection starts where it should.
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            raise HttpError(411, "chunked request bodies are not supported; send Content-Length")
        text = self.headers.get("Content-Length") or "0"
        length = int(text) if text.isdigit() else -1
        if length < 0:
            self.close_connection = True
            raise HttpError(400, f"Content-Length header {text!r} is not a whole number")
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            raise HttpError(
                413, f"request body of {length} bytes is over the limit of {MAX_BODY_BYTES} bytes"
            )
        return self.rfile.read(length) if length else b""

    def _authorize(self) -> None:
        header = self.headers.get("Authorization")
        if not header:
            raise HttpError(401, "Authorization header missing; send 'Authorization: bearer <key>'")
        scheme, _, key = header.partition(" ")
        if scheme.lower() != "bearer":
            raise HttpError(401, f"Authorization scheme {scheme!r} is not bearer")
        if not hmac.compare_digest(key.strip().encode(), self.server.api_key.encode()):
            raise HttpError(401, "wrong API key in the Authorization header")

    def _reply(self, status: int, payload: Any) -> None:
        self.send_response(status)
        data = b"" if payload is None else json.dumps(payload).encode()
        if payload is not None:
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("local server: %s " + format, self.client_address[0], *args)


class _Server(ThreadingHTTPServer):
    """Tracks its connections and handler threads so `stop` can end them."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], api: Api, api_key: str) -> None:
        self.api = api
        self.api_key = api_key
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self._active: dict[socket.socket, threading.Thread] = {}
        self._active_lock = threading.Lock()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind does a reverse DNS lookup that can stall; skip it.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), self.server_address[1]

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        with self._active_lock:
            self._active[request] = threading.current_thread()
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._active_lock:
                self._active.pop(request, None)

    def end_connections(self) -> list[threading.Thread]:
        """Shut every open connection down; return the threads still serving them."""
        with self._active_lock:
            active = dict(self._active)
        for connection in active:
            with contextlib.suppress(OSError):  # already closed by its own thread
                connection.shutdown(socket.SHUT_RDWR)
        return list(active.values())

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client hanging up is routine; anything else is a bug worth a traceback.
        if isinstance(sys.exc_info()[1], OSError):
            logger.debug("local server: connection from %s failed", client_address, exc_info=True)
        else:
            logger.exception("local server: request from %s failed", client_address)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class LocalServer:
    """The local platform: `start()` serves in a daemon thread, `serve_forever()` in front."""

    def __init__(
        self,
        db_path: Path,
        *,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        api_key: str = DEFAULT_API_KEY,
    ) -> None:
        if not api_key:
            raise ConfigError("the local server needs a non-empty API key")
        if api_key == DEFAULT_API_KEY and not _is_loopback(host):
            raise ConfigError(
                f"refusing to serve on {host} with the default API key "
                f"{DEFAULT_API_KEY!r}: anyone on the network could use it; set a key"
            )
        self.db_path = db_path
        self.host = host
        self.port = port
        self.api_key = api_key
        self._contracts = Contracts()
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._store: Store | None = None
        self._thread: threading.Thread | None = None
        self._bound_port: int | None = None  # kept after stop(), for messages and tests

    @property
    def url(self) -> str:
        """The base URL clients use; a wildcard host is reached on 127.0.0.1."""
        port = self._bound_port or self.port
        host = "127.0.0.1" if self.host in ("", "0.0.0.0", "::") else self.host  # noqa: S104
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def start(self) -> LocalServer:
        with self._lock:
            if self._server is not None:
                return self
            store = self._open_store()
            try:
                server = _Server((self.host, self.port), Api(store, self._contracts), self.api_key)
            except OSError as exc:
                store.close()
                if exc.errno == errno.EADDRINUSE:
                    raise ConfigError(
                        f"port {self.port} on {self.host} is already in use"
                    ) from None
                raise ConfigError(f"cannot listen on {self.host}:{self.port}: {exc}") from None
            self._server, self._store = server, store
            self._bound_port = int(server.server_address[1])
            self._thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.2},
                name="local-server",
                daemon=True,
            )
            self._thread.start()
        logger.info("local server listening on %s (database %s)", self.url, self.db_path)
        return self

    def _open_store(self) -> Store:
        try:
            return Store(self.db_path)
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(
                f"cannot open the local server's database {self.db_path}: {exc}"
            ) from None

    def serve_forever(self) -> None:
        """Serve until `stop()` or Ctrl-C; the loop runs in a thread so both can end it."""
        self.start()
        try:
            while (thread := self._thread) is not None and thread.is_alive():
                thread.join(1.0)
        finally:
            self.stop()

    def stop(self) -> None:
        with self._lock:
            server, store, thread = self._server, self._store, self._thread
            self._server = self._store = self._thread = None
        if server is None or store is None or thread is None:
            return
        server.shutdown()
        thread.join()
        handlers = server.end_connections()
        store.close()  # also wakes long-poll waiters
        for handler in handlers:
            handler.join(_JOIN_S)
        server.server_close()
        logger.info("local server stopped")

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

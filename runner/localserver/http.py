"""A Scenario-compatible HTTP server, backed by `Store`, served by waitress (transport.py).

It answers the platform API the runner speaks (catalog, poll, statuses,
cancellation check) plus a small admin API under /local/api to submit task
instances and watch their statuses.
"""

from __future__ import annotations

import errno
import logging
import socket
import threading
from pathlib import Path
from types import TracebackType

from runner.config.local import DEFAULT_LOCAL_KEY, DEFAULT_LOCAL_PORT, local_url
from runner.contracts import Contracts
from runner.core.errors import ConfigError
from runner.localserver.api import Api
from runner.localserver.database import StoreError
from runner.localserver.gate import Gate, is_loopback
from runner.localserver.retention import Keeper, Retention
from runner.localserver.store import Store
from runner.localserver.transport import Transport
from runner.localserver.wsgi import Application

logger = logging.getLogger(__name__)

DEFAULT_API_KEY = DEFAULT_LOCAL_KEY
DEFAULT_PORT = DEFAULT_LOCAL_PORT
MAX_BODY_BYTES = 16 * 1024 * 1024
# Requests run on a fixed pool of threads. Long polls (GET /local/api/statuses
# with waitSeconds) hold theirs while they wait, so at most LONG_POLLS of them
# wait at once; the other threads are always free for short requests.
THREADS = 16
LONG_POLLS = 12
_JOIN_S = 5.0


class LocalServer:
    """The local platform: `start()` serves in a daemon thread, `serve_forever()` in front."""

    def __init__(
        self,
        db_path: Path,
        *,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        api_key: str = DEFAULT_API_KEY,
        retention: Retention | None = None,
    ) -> None:
        if not api_key:
            raise ConfigError("the local server needs a non-empty API key")
        if api_key == DEFAULT_API_KEY and not is_loopback(host):
            raise ConfigError(
                f"refusing to serve on {host} with the default API key "
                f"{DEFAULT_API_KEY!r}: anyone on the network could use it; set a key"
            )
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise ConfigError(f"local server port {port!r} is not a port number (0 to 65535)")
        self.db_path = db_path
        self.host = host
        self.port = port
        self.api_key = api_key
        self.retention = retention or Retention()
        self._keeper: Keeper | None = None
        self._contracts = Contracts()
        self._lock = threading.Lock()
        self._transport: Transport | None = None
        self._store: Store | None = None
        self._thread: threading.Thread | None = None
        self._bound_port: int | None = None  # kept after stop(), for messages and tests

    @property
    def url(self) -> str:
        """The base URL clients use; a wildcard host is reached on 127.0.0.1."""
        return local_url(self.host, self._bound_port or self.port)

    @property
    def cockpit_url(self) -> str:
        """The cockpit page, to open in a browser."""
        return f"{self.url}/"

    def start(self) -> LocalServer:
        with self._lock:
            if self._transport is not None:
                return self
            store = self._open_store()
            try:
                sock = self._bind()
            except ConfigError:
                store.close()
                raise
            try:
                transport = self._transport_on(sock, store)
            except OSError as exc:
                sock.close()
                store.close()
                raise ConfigError(f"cannot listen on {self.host}:{self.port}: {exc}") from None
            self._transport, self._store = transport, store
            self._keeper = Keeper(store, self.retention)
            self._keeper.start()
            self._bound_port = int(sock.getsockname()[1])
            self._thread = threading.Thread(target=transport.run, name="local-server", daemon=True)
            self._thread.start()
        logger.info("local server listening on %s (database %s)", self.url, self.db_path)
        logger.info("cockpit: %s", self.cockpit_url)
        return self

    def _transport_on(self, sock: socket.socket, store: Store) -> Transport:
        api = Api(store, self._contracts, max_waiters=LONG_POLLS)
        app = Application(api, Gate(self.api_key, self.host), MAX_BODY_BYTES)
        return Transport(app, sock, app.screen, threads=THREADS, max_body_bytes=MAX_BODY_BYTES)

    def _open_store(self) -> Store:
        try:
            return Store(self.db_path)
        except StoreError as exc:
            raise ConfigError(
                f"cannot open the local server's database {self.db_path}: {exc}"
            ) from None

    def _bind(self) -> socket.socket:
        """The listening socket, bound here so every failure is one clear ConfigError."""
        where = f"{self.host}:{self.port}"
        try:
            family, kind, proto, _, address = socket.getaddrinfo(
                self.host or None, self.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
            )[0]
        except (OSError, UnicodeError) as exc:
            raise ConfigError(f"cannot listen on {where}: {exc}") from None
        sock = socket.socket(family, kind, proto)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(address)
        except OSError as exc:
            sock.close()
            if exc.errno == errno.EADDRINUSE:
                raise ConfigError(f"port {self.port} on {self.host} is already in use") from None
            raise ConfigError(f"cannot listen on {where}: {exc}") from None
        return sock

    def serve_forever(self) -> None:
        """Serve until `stop()` or Ctrl-C; the loop runs in a thread so both can end it."""
        self.start()
        try:
            while (thread := self._thread) is not None and thread.is_alive():
                thread.join(1.0)
        finally:
            self.stop()

    def stop(self) -> None:
        """Close every connection, wake the long polls, and end the threads."""
        with self._lock:
            transport, store, thread = self._transport, self._store, self._thread
            self._transport = self._store = self._thread = None
            keeper, self._keeper = self._keeper, None
        if transport is None or store is None or thread is None:
            return
        if keeper is not None:
            keeper.stop()
        transport.close_connections()
        thread.join(_JOIN_S)
        store.close()  # also wakes long-poll waiters, whose answers go nowhere
        transport.stop_threads(_JOIN_S)
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

"""The operations listener: /metrics, /healthz, /readyz and /status over HTTP.

A WSGI application served by waitress (its only importer for this listener): one thread
runs waitress's select loop, a small fixed pool of threads answers requests. It listens
only on the address it is given, answers GET only, and knows nothing secret: the API key
is not among what it can reach. `ServerLoop`, that loop and its shutdown, also serves the
local server's transport.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from prometheus_client import CollectorRegistry, make_wsgi_app
from waitress.server import BaseWSGIServer, create_server

from runner.core.errors import ConfigError
from runner.ops.probes import Answer, Probes
from runner.ops.serverloop import ServerLoop

log = logging.getLogger(__name__)

PATHS = ("/metrics", "/healthz", "/readyz", "/status")
# Every answer comes from memory, in a millisecond or so: a few threads serve many scrapers.
_THREADS = 4
_CONNECTIONS = 32
_IDLE_CONNECTION_S = 30
_JOIN_S = 5

StartResponse = Callable[..., Any]


class OpsApp:
    """The WSGI application: /metrics from prometheus_client, the probes as JSON."""

    def __init__(self, probes: Probes, registry: CollectorRegistry) -> None:
        self._metrics = make_wsgi_app(registry)
        self._answers: dict[str, Callable[[], Answer]] = {
            "/healthz": probes.healthz,
            "/readyz": probes.readyz,
            "/status": probes.status,
        }

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = str(environ.get("PATH_INFO", ""))
        if path not in PATHS:
            answer = Answer(404, {"error": f"no such path {path!r}; use {', '.join(PATHS)}"})
            return _send(start_response, answer)
        if environ.get("REQUEST_METHOD") != "GET":
            return _send(start_response, Answer(405, {"error": "use GET"}), [("Allow", "GET")])
        if path == "/metrics":
            body: Iterable[bytes] = self._metrics(environ, start_response)
            return body
        try:
            answer = self._answers[path]()
        except Exception:  # a probe's bug is a 500 and a log line, not a dead listener
            log.exception("GET %s failed", path)
            answer = Answer(500, {"error": f"GET {path} failed; see the runner's log"})
        return _send(start_response, answer)


def _send(
    start_response: StartResponse, answer: Answer, extra: list[tuple[str, str]] | None = None
) -> list[bytes]:
    body = json.dumps(answer.body).encode() + b"\n"
    headers = [
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(body))),
        ("Cache-Control", "no-store"),
        *(extra or []),
    ]
    start_response(f"{answer.code} {HTTPStatus(answer.code).phrase}", headers)
    return [body]


class OpsListener:
    """`start()` binds (ConfigError if it cannot) and serves; `stop()` closes it all."""

    def __init__(self, app: OpsApp, host: str, port: int) -> None:
        self._app = app
        self._host = host
        self._port = port
        self._loop: ServerLoop | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    def start(self) -> None:
        sock = _bind(self._host, self._port)
        sockets: dict[int, Any] = {}
        try:
            server = create_server(
                self._app,
                map=sockets,
                sockets=[sock],
                threads=_THREADS,
                connection_limit=_CONNECTIONS,
                channel_timeout=_IDLE_CONNECTION_S,
                ident="xc-runner",
                asyncore_use_poll=True,
            )
        except Exception:
            sock.close()
            raise
        if not isinstance(server, BaseWSGIServer):  # one socket gives one server
            raise TypeError(f"waitress made a {type(server).__name__} of one socket")
        self._loop = ServerLoop(server, sockets)
        host, port = sock.getsockname()[:2]
        self.url = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
        self._thread = threading.Thread(target=self._loop.run, name="ops-http", daemon=True)
        self._thread.start()
        log.info("operations listener on %s (%s)", self.url, " ".join(PATHS))

    def stop(self) -> None:
        """Close the listening socket and every connection, and end the threads."""
        loop, thread = self._loop, self._thread
        self._loop = self._thread = None
        if loop is None or thread is None:
            return
        loop.close_connections()  # wakes the select loop, which then closes everything
        thread.join(_JOIN_S)
        loop.stop_threads(_JOIN_S)
        log.info("operations listener stopped")


def _bind(host: str, port: int) -> socket.socket:
    """A listening-ready socket bound to host:port only; ConfigError naming why not."""
    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise ConfigError(f"the operations listener cannot listen on {where}: {exc}") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        reason = exc.strerror or str(exc)
        raise ConfigError(
            f"the operations listener cannot listen on {where} (--http-addr, "
            f"XC_RUNNER_HTTP_ADDR): {reason}"
        ) from None
    return sock

"""HTTP/1.1 framing by waitress: the only module of the local server that imports it (its
select loop and shutdown are runner.ops.serverloop's `ServerLoop`, shared with the
operations listener).

waitress parses requests (Content-Length, chunked bodies, keep-alive, limits on
headers and bodies), keeps idle connections in one select loop without a thread
each, and runs the application on a fixed pool of threads. Four things are
added where waitress reads a request, before the application sees it:

- `screen` is asked as soon as the headers are in. A request it refuses is
  answered at once and its connection closed: its body is never read. So an
  upload without the key costs no memory, and a POST that does not say how
  long its body is cannot smuggle a second request in that body.
- every error waitress answers itself (400, 413, 431, 501) is JSON, like the API's;
- a request whose body ends early (the client half-closed) gets a 400, not silence;
- a 204 keeps the connection open (waitress closes every answer without a
  Content-Length, and a 204 may not carry one), so the runner's empty polls
  reuse their connection;
- what is not an HTTP/1.x request (a TLS handshake, lines ending in a bare LF,
  an unknown HTTP version) is answered 400 or 505 and closed at once;
- idle connections are closed by the policy of idle.py, so that idle
  connections can never take every slot.

Every answer made here carries the same security headers as the application's.

These use waitress's parser, channel and task classes, not only its public
`create_server`; the tests of the local server cover each of them.
"""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any, cast

from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser, ParsingError
from waitress.server import BaseWSGIServer, create_server
from waitress.task import ErrorTask, WSGITask
from waitress.utilities import Error

from runner.localserver import framing, idle
from runner.localserver.errors import HttpError
from runner.localserver.wsgi import ANSWER_HEADERS, Application
from runner.ops.serverloop import ServerLoop

logger = logging.getLogger(__name__)

_CONNECTION_LIMIT = 256
# (method, target, headers as waitress names them: "CONTENT_LENGTH"; whether a body follows)
Screen = Callable[[str, str, Mapping[str, str], bool], HttpError | None]


class _Refusal(Error):
    """An HttpError raised while the request is still being read, answered by waitress."""

    def __init__(self, refusal: HttpError) -> None:
        super().__init__(refusal.message)
        self.code = refusal.status
        self.reason = HTTPStatus(refusal.status).phrase


class _JsonErrorTask(ErrorTask):
    """waitress's answer to a request it refused, as `{"error": ...}`; the connection closes."""

    def execute(self) -> None:
        # waitress's stubs type `request` as an Error; it is the request's parser.
        error = cast(HTTPRequestParser, self.request).error or Error("the request is unreadable")
        message = error.body if isinstance(error, _Refusal) else f"{error.reason}: {error.body}"
        body = json.dumps({"error": message}).encode()
        self.status = f"{error.code} {error.reason}"
        cast(list[tuple[str, str]], self.response_headers).extend(
            [*ANSWER_HEADERS, ("Content-Type", "application/json")]
        )
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class _Task(WSGITask):
    _building_header = False

    def build_response_header(self) -> bytes:
        self._building_header = True
        try:
            return super().build_response_header()
        finally:
            self._building_header = False

    def set_close_on_finish(self) -> None:
        # While the header is built, HTTP/1.1 closes the connection when there is
        # no Content-Length. A 204 or 304 has no body, so there is nothing to frame.
        keep = (
            self._building_header
            and not self.has_body
            and self.version == "1.1"
            and self.request_headers().get("CONNECTION", "").lower() != "close"
        )
        if not keep:
            super().set_close_on_finish()

    def request_headers(self) -> Mapping[str, str]:
        return cast(HTTPRequestParser, self.request).headers


class _ScreenedParser(HTTPRequestParser):
    _last_byte = b""  # the last byte of the header received so far
    _method_seen = False  # a whole method name (then a space) was received

    def refusal(
        self, method: str, target: str, headers: Mapping[str, str], body: bool
    ) -> HttpError | None:
        return None  # each server's channel_class() says

    def received(self, data: bytes) -> int:
        if not self.completed and self.body_rcv is None and not self.headers_finished:
            problem = self._garbage(data)
            if problem is not None:
                HTTPRequestParser.parse_header(self, b"GET / HTTP/1.0\r\n")  # for the answer
                self.error = _Refusal(HttpError(400, problem))
                self.completed = True
                return len(data)
        return int(super().received(data))

    def _garbage(self, data: bytes) -> str | None:
        """Why the header bytes so far cannot be HTTP/1.x (framing.py), or None."""
        data = framing.header_part(data, self.header_plus)  # a body may come in the same read
        if framing.bare_lf(data, self._last_byte):
            return "not an HTTP/1.1 request: a header line does not end in CR LF"
        self._last_byte = data[-1:]
        if self._method_seen:
            return None
        start = self.header_plus[:64] + data[:64]
        self._method_seen = framing.method_read(start)
        return framing.method_problem(start)

    def parse_header(self, header_plus: bytes) -> None:
        try:
            super().parse_header(header_plus)
        except ParsingError:
            # The Host and the key are checked before the framing (when the request
            # line could be read): a stranger learns nothing from the framing errors.
            refusal = self._refusal(gate_only=True) if getattr(self, "command", None) else None
            if refusal is not None:
                self._refuse(refusal)
                return
            if "," in self.headers.get("CONTENT_LENGTH", ""):
                raise ParsingError("the request has more than one Content-Length header") from None
            raise
        refusal = self._refusal()
        if refusal is None and self.version not in ("1.0", "1.1"):
            version = f"HTTP/{self.version}" if self.version else "no HTTP version"
            refusal = HttpError(505, f"{version} is not supported; use HTTP/1.1")
        if refusal is None and self.chunked and "CONTENT_LENGTH" in self.headers:
            # RFC 9112 6.3: a sign of request smuggling, to be handled as an error.
            refusal = HttpError(400, "the request has both Transfer-Encoding and Content-Length")
        if refusal is not None:
            self._refuse(refusal)

    def _refuse(self, refusal: HttpError) -> None:
        self.body_rcv = None  # waitress now reads no body for this request
        self.content_length = 0
        self.expect_continue = False  # nor asks the client to send it
        self.error = _Refusal(refusal)
        self.completed = True

    def _refusal(self, *, gate_only: bool = False) -> HttpError | None:
        method, target = str(self.command), str(getattr(self, "request_uri", ""))
        try:
            has_body = gate_only or self.body_rcv is not None
            return self.refusal(method, target, self.headers, has_body)
        except Exception:  # this runs in the select loop: a bug must not take it down
            logger.exception("local server: screening %s %s failed", method, target)
            return HttpError(500, "internal error in the local server (see its log)")


class _Channel(HTTPChannel):
    task_class = _Task
    error_task_class = _JsonErrorTask
    started = False  # the headers of a request were received (idle.py)

    def handle_read(self) -> None:
        if self.socket is None:
            return
        try:
            data = self.socket.recv(self.adj.recv_bytes)
        except BlockingIOError:
            return
        except OSError:
            self.handle_close()
            return
        if data:
            self.last_activity = time.time()
            self.received(data)
            # Marked here, as the headers arrive: idle.py's maintenance may not see the
            # request at all (a busy machine delays it past a whole request), and would
            # then close a kept-alive connection as one that never sent a request.
            request = self.request
            self.started = self.started or bool(self.requests) or bool(
                request is not None and request.headers_finished
            )
        elif not self._answer_cut_body():
            self.connected = False
            self.handle_close()

    def _answer_cut_body(self) -> bool:
        """At end of input in the middle of a body: queue a 400 for that request."""
        request = self.request
        if request is None or not request.headers_finished or request.completed:
            return False
        got, length = request.body_bytes_received, request.content_length
        told = f"after {got} of its {length} bytes" if length else "before its last chunk"
        request.error = _Refusal(HttpError(400, f"the request body ended {told}"))
        request.completed = True
        channel: Any = self  # waitress's stubs lack or mistype these attributes
        with channel.requests_lock:  # as in HTTPChannel.received: queue it for a thread
            channel.requests.append(request)
            channel.request = None
            if len(channel.requests) == 1:
                channel.server.add_task(channel)
        return True


def channel_class(screen: Screen) -> type[HTTPChannel]:
    """A channel whose parser asks `screen` about each request before reading its body."""

    class Parser(_ScreenedParser):
        def refusal(
            self, method: str, target: str, headers: Mapping[str, str], body: bool
        ) -> HttpError | None:
            return screen(method, target, headers, body)

    class Channel(_Channel):
        parser_class = Parser

    return Channel


class Transport(ServerLoop):
    """waitress serving `app` on an already bound socket: run() in one thread, stop() from another.

    `threads` run requests; idle and slow connections wait in the select loop,
    up to `connection_limit` of them, each closed after `idle_timeout_s`.
    """

    def __init__(
        self,
        app: Application,
        sock: socket.socket,
        screen: Screen,
        *,
        threads: int,
        max_body_bytes: int,
    ) -> None:
        sockets: dict[int, Any] = {}  # the loop's map, kept so run() can end the loop itself
        server = create_server(
            app,
            map=sockets,
            sockets=[sock],
            threads=threads,
            ident="xc-scenario-local",
            backlog=1024,
            connection_limit=_CONNECTION_LIMIT,
            channel_timeout=120,  # idle.py closes idle connections much sooner
            cleanup_interval=1,
            # The screen refuses a longer Content-Length first; this caps chunked bodies.
            max_request_body_size=max_body_bytes + 1,
            max_request_header_size=64 * 1024,
            asyncore_use_poll=True,  # select() cannot watch descriptors past 1023
            expose_tracebacks=False,
        )
        if not isinstance(server, BaseWSGIServer):
            raise TypeError(f"waitress made a {type(server).__name__} for one socket")
        server.channel_class = channel_class(screen)
        # waitress's loop asks these; idle.py closes idle connections to make room.
        loop: Any = server
        loop.maintenance = lambda now: idle.close_idle(loop, now, _Channel, _CONNECTION_LIMIT)
        loop.readable = lambda: idle.accepting(loop, _Channel, _CONNECTION_LIMIT)
        loop.handle_accept = lambda: idle.accept_many(loop, _CONNECTION_LIMIT)
        # waitress warns "Task queue depth is N" for every request that waits for a
        # thread: a line per request under load. Requests wait by design (THREADS).
        logging.getLogger("waitress.queue").setLevel(logging.ERROR)
        super().__init__(server, sockets)

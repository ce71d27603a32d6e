"""The local server as a WSGI application: the gate, then the cockpit's files or the API,
which always answers JSON.

`screen` is the part asked while the request is still being read (before its
body); `__call__` answers a whole request. Neither lets an exception out: a
bug is logged and answered 500.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any
from urllib.parse import quote, urlsplit
from wsgiref.types import StartResponse, WSGIEnvironment

from runner.localserver.api import Api
from runner.localserver.cockpit import access, assets
from runner.localserver.database import StoreClosed, StoreError
from runner.localserver.errors import HttpError, quoted
from runner.localserver.gate import Gate, Need
from runner.localserver.routing import Stream, target_path
from runner.localserver.tasklogs import HEADER as TASK_LOGS

logger = logging.getLogger(__name__)

_JSON = "application/json"

_BODY_METHODS = ("POST", "PUT", "PATCH")
# On every answer, those the transport makes itself (transport.py) included. TASK_LOGS:
# this server takes each task's log from its runners (tasklogs.py).
ANSWER_HEADERS = (("Cache-Control", "no-store"), *assets.SECURITY_HEADERS, TASK_LOGS)


def request_target(environ: WSGIEnvironment) -> str:
    """The path and query as sent, still percent-encoded (so `%2F` in a name stays in it)."""
    raw = environ.get("REQUEST_URI")  # waitress's, as sent
    if raw:
        return str(raw)
    path = quote(str(environ.get("PATH_INFO", "")).encode("latin-1"), safe="/")
    query = environ.get("QUERY_STRING")
    return f"{path}?{query}" if query else path


class Application:
    def __init__(self, api: Api, gate: Gate, max_body_bytes: int) -> None:
        self.api = api
        self.gate = gate
        self.max_body_bytes = max_body_bytes
        self.assets = assets.load()

    def need(self, method: str, target: str, header: access.Header) -> Need:
        """What the request needs besides a right Host: the key, or not (cockpit/access.py)."""
        return access.need(method, target_path(target), header, self.gate.host_names)

    def screen(
        self, method: str, target: str, headers: Mapping[str, str], has_body: bool
    ) -> HttpError | None:
        """Asked when a request's headers are in (`headers` named as waitress does: HOST).

        A request with a body is refused here, before its body is read, if it
        fails the gate or is too long; one whose endpoint reads a body must say
        how long it is.
        """
        needs_length = (
            not has_body
            and method in _BODY_METHODS
            and "CONTENT_LENGTH" not in headers
            and self.api.takes_body(method, target)
        )
        if not has_body and not needs_length:
            return None  # the gate is asked when the request is answered
        # The Host and the key first: a stranger learns nothing of the framing rules.
        host = _host(target, headers.get("HOST"))
        need = self.need(method, target, lambda name: headers.get(_waitress_name(name)))
        refusal = self.gate.refusal(host, headers.get("AUTHORIZATION"), need)
        if refusal is not None:
            return refusal
        if needs_length:
            path = target_path(target)
            return HttpError(411, f"{method} {path} needs a Content-Length header (or chunks)")
        length = _length(headers.get("CONTENT_LENGTH"))
        if length > self.max_body_bytes:
            return HttpError(
                413,
                f"request body of {length} bytes is over the limit of {self.max_body_bytes} bytes",
            )
        return None

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        method = str(environ["REQUEST_METHOD"])
        target = request_target(environ)
        status, data, kind = self._answer(method, target, environ)
        logger.debug("local server: %s %s -> %s", method, target, status)
        headers = list(ANSWER_HEADERS)
        if isinstance(data, Stream):  # no length: waitress sends it in chunks as it comes
            disposition = f'attachment; filename="{data.filename}"'
            headers += [("Content-Type", kind), ("Content-Disposition", disposition)]
            start_response(f"{status} {HTTPStatus(status).phrase}", headers)
            return data.chunks
        if data is not None:
            headers += [("Content-Type", kind), ("Content-Length", str(len(data)))]
        start_response(f"{status} {HTTPStatus(status).phrase}", headers)
        return [data or b""]

    def _answer(
        self, method: str, target: str, environ: WSGIEnvironment
    ) -> tuple[int, bytes | Stream | None, str]:
        try:
            host = _host(target, environ.get("HTTP_HOST"))
            need = self.need(method, target, lambda name: environ.get(_environ_name(name)))
            refusal = self.gate.refusal(host, environ.get("HTTP_AUTHORIZATION"), need)
            if refusal is not None:
                raise refusal
            if access.is_page_file(method, target_path(target)):
                return self._file(target_path(target))
            status, payload = self.api.handle(method, target, _body(environ))
            if isinstance(payload, Stream):
                return status, payload, payload.content_type
            return status, None if payload is None else _json(payload), _JSON
        except HttpError as exc:
            return exc.status, _json({"error": exc.message, **exc.extra}), _JSON
        except StoreClosed:
            return 503, _json({"error": "the local server is stopping"}), _JSON
        except StoreError as exc:
            logger.exception("local server: storage error on %s %s", method, target)
            return 500, _json({"error": f"storage error: {exc}"}), _JSON
        except Exception:  # a bug costs one request a 500, never the connection
            logger.exception("local server: %s %s failed", method, target)
            error = {"error": "internal error in the local server (see its log)"}
            return 500, _json(error), _JSON

    def _file(self, path: str) -> tuple[int, bytes, str]:
        """One of the cockpit page's files."""
        asset = self.assets.get(path)
        if asset is None:
            raise HttpError(404, f"no such file of the cockpit: {quoted(path)}")
        return 200, asset.body, asset.content_type


def _host(target: str, header: str | None) -> str | None:
    """Whom the request is for: a target in absolute form (`http://host/path`) overrides
    the Host header, as RFC 9112 3.2.2 has origin servers read it."""
    if target.startswith(("http://", "https://")):
        return urlsplit(target).netloc
    return header


def _length(header: str | None) -> int:
    """The Content-Length (waitress checked its digits, unless its framing is broken)."""
    try:
        return int(header or 0)
    except ValueError:
        return 0


def _waitress_name(header: str) -> str:
    """How waitress names a header in its parser: `X-XC-Cockpit` is `X_XC_COCKPIT`."""
    return header.upper().replace("-", "_")


def _environ_name(header: str) -> str:
    return "HTTP_" + _waitress_name(header)


def _body(environ: WSGIEnvironment) -> bytes:
    length = int(environ.get("CONTENT_LENGTH") or 0)  # waitress checked it
    return bytes(environ["wsgi.input"].read(length)) if length > 0 else b""


def _json(payload: Any) -> bytes:
    return json.dumps(payload, allow_nan=False).encode()

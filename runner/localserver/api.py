"""The local server's endpoints, independent of sockets: (method, target, body) in,
(status, JSON) out, or an HttpError whose message names what was wrong.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from runner.contracts import Contracts
from runner.localserver.store import Store

MAX_WAIT_S = 30.0
STATUS_PAGE = 500
_MAX_SEQ = 2**63 - 1
_SUBMIT_FIELDS = ("namespace", "name", "inputData", "timeOutInMillis")

Reply = tuple[int, Any]  # status and JSON body; None means no body (204)


class HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Request:
    args: tuple[str, ...]  # the path's variable segments, unquoted
    query: dict[str, str]
    body: bytes

    def json(self) -> Any:
        if not self.body:
            raise HttpError(400, "request body is empty; expected JSON")
        try:
            return json.loads(self.body)
        except ValueError as exc:
            raise HttpError(400, f"request body is not JSON: {exc}") from None

    def number(self, name: str, default: float, *, integer: bool = False) -> float:
        text = self.query.get(name)
        if text is None or text == "":
            return default
        try:
            value = int(text) if integer else float(text)
        except ValueError:
            value = -1
        if value < 0 or not math.isfinite(value):
            kind = "whole number" if integer else "number"
            raise HttpError(400, f"query parameter {name}={text!r} is not a {kind} >= 0")
        return value


class Api:
    """Routes a request to the store; answers with (status, JSON) or raises HttpError."""

    def __init__(self, store: Store, contracts: Contracts) -> None:
        self.store = store
        self.contracts = contracts
        self.routes: list[tuple[str, re.Pattern[str], Callable[[Request], Reply]]] = [
            (
                "POST",
                re.compile(r"/taskcatalog/api/catalog-task-definitions/([^/]+)"),
                self.publish,
            ),
            ("GET", re.compile(r"/taskcatalog/api/catalog-task-definitions/([^/]+)"), self.catalog),
            ("POST", re.compile(r"/polling/api/namespaces/([^/]+)/task-instances/poll"), self.poll),
            ("POST", re.compile(r"/taskstatus/api/task-statuses"), self.post_status),
            ("GET", re.compile(r"/polling/api/Cancelled"), self.cancelled),
            ("POST", re.compile(r"/local/api/task-instances"), self.submit),
            ("GET", re.compile(r"/local/api/task-instances/([^/]+)"), self.instance),
            ("POST", re.compile(r"/local/api/task-instances/([^/]+)/cancel"), self.cancel),
            ("GET", re.compile(r"/local/api/statuses"), self.statuses),
        ]

    def handle(self, method: str, target: str, body: bytes) -> Reply:
        parts = urlsplit(target)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        allowed: list[str] = []
        for route_method, pattern, handler in self.routes:
            match = pattern.fullmatch(parts.path)
            if match is None:
                continue
            if route_method != method:
                allowed.append(route_method)
                continue
            return handler(Request(tuple(unquote(g) for g in match.groups()), query, body))
        if allowed:
            raise HttpError(
                405, f"{method} is not allowed on {parts.path}; use {' or '.join(allowed)}"
            )
        raise HttpError(404, f"no such endpoint: {parts.path}")

    def publish(self, request: Request) -> Reply:
        namespace = request.args[0]
        flag = (request.query.get("removePreviousTasks") or "false").lower()
        if flag not in ("true", "false"):
            raise HttpError(
                400, f"query parameter removePreviousTasks={flag!r} is not true or false"
            )
        definitions = request.json()
        problem = self.contracts.check("catalog.schema.json", definitions, "catalog")
        if problem:
            raise HttpError(400, problem)
        seen: set[str] = set()
        for index, definition in enumerate(definitions):
            where = f"catalog[{index}] ({definition['namespace']}/{definition['name']})"
            if definition["namespace"] != namespace:
                raise HttpError(400, f"{where}: namespace is not the URL's namespace {namespace!r}")
            if definition["name"] in seen:
                raise HttpError(400, f"{where}: task declared twice")
            seen.add(definition["name"])
        return 200, self.store.publish_catalog(
            namespace, definitions, remove_previous=flag == "true"
        )

    def catalog(self, request: Request) -> Reply:
        return 200, self.store.catalog(request.args[0])

    def poll(self, request: Request) -> Reply:
        name = request.query.get("catalogTaskDefinitionName") or None
        instance = self.store.poll(request.args[0], name)
        return (204, None) if instance is None else (200, instance)

    def post_status(self, request: Request) -> Reply:
        status = request.json()
        problem = self.contracts.check("task-status.schema.json", status, "status")
        if problem:
            raise HttpError(400, problem)
        seq = self.store.record_status(status)
        if seq is None:
            raise HttpError(404, f"unknown task instance {status['taskInstanceId']!r}")
        return 200, {"seq": seq}

    def cancelled(self, request: Request) -> Reply:
        instance_id = request.query.get("taskInstanceId")
        if not instance_id:
            raise HttpError(400, "query parameter taskInstanceId is missing")
        namespace = request.query.get("catalogTaskDefinitionNamespace") or None
        flag = self.store.is_cancelled(instance_id, namespace)
        if flag is None:
            where = f" in namespace {namespace!r}" if namespace else ""
            raise HttpError(404, f"unknown task instance {instance_id!r}{where}")
        return 200, {"isCanceled": "true" if flag else "false"}

    def submit(self, request: Request) -> Reply:
        namespace, name, inputs, timeout_ms = _submission(request.json())
        instance = self.store.submit(namespace, name, inputs, timeout_ms)
        if self.store.definition(namespace, name) is None:
            instance["warning"] = (
                f"task {namespace}/{name} is not in the published catalog; "
                "a runner will answer it with an Error status"
            )
        return 201, instance

    def instance(self, request: Request) -> Reply:
        view = self.store.instance_view(request.args[0])
        if view is None:
            raise HttpError(404, f"unknown task instance {request.args[0]!r}")
        return 200, view

    def cancel(self, request: Request) -> Reply:
        if not self.store.cancel(request.args[0]):
            raise HttpError(404, f"unknown task instance {request.args[0]!r}")
        return 200, {"cancelled": True}

    def statuses(self, request: Request) -> Reply:
        # Clamped: SQLite integers stop at 2**63 - 1.
        after = min(int(request.number("after", 0, integer=True)), _MAX_SEQ)
        wait_s = min(request.number("waitSeconds", 0.0), MAX_WAIT_S)
        records = self.store.statuses_since(after, limit=STATUS_PAGE, wait_s=wait_s)
        return 200, {"statuses": records, "last": records[-1]["seq"] if records else after}


def _submission(body: Any) -> tuple[str, str, dict[str, Any], int | None]:
    """The submit body's fields, or HttpError naming the first thing wrong."""
    if not isinstance(body, dict):
        raise HttpError(400, "body must be a JSON object with namespace, name and inputData")
    unknown = sorted(set(body) - set(_SUBMIT_FIELDS))
    if unknown:
        raise HttpError(
            400,
            f"body: unknown field(s) {', '.join(map(repr, unknown))}; "
            f"expected {', '.join(_SUBMIT_FIELDS)}",
        )
    for field in ("namespace", "name"):
        if not isinstance(body.get(field), str) or not body[field].strip():
            raise HttpError(400, f"body.{field}: must be a non-empty string")
    inputs = body.get("inputData")
    if inputs is not None and not isinstance(inputs, dict):
        raise HttpError(400, f"body.inputData: must be an object, not {type(inputs).__name__}")
    timeout = body.get("timeOutInMillis")
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, int) or timeout < 1
    ):
        raise HttpError(400, f"body.timeOutInMillis: must be a whole number >= 1, not {timeout!r}")
    return body["namespace"], body["name"], inputs or {}, timeout

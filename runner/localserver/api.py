"""The local server's endpoints, independent of sockets: (method, target, body) in,
(status, JSON) out, or an HttpError whose message names what was wrong.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, unquote

from runner.contracts import Contracts
from runner.core.catalog import size_problem
from runner.localserver import bodies
from runner.localserver.bulk import BulkSubmit, unknown_task_warning
from runner.localserver.cockpit.endpoints import Cockpit
from runner.localserver.errors import HttpError, quoted
from runner.localserver.routing import (
    LongPolls,
    Reply,
    Request,
    Route,
    target_parts,
    target_path,
)
from runner.localserver.rules import StatusConflict
from runner.localserver.store import Store
from runner.localserver.tasklogs import PATH as TASK_LOGS_PATH
from runner.localserver.tasklogs import TaskLogs
from runner.localserver.tasktypes import TaskTypes

STATUS_PAGE = 500
SHOWN_IDS = 3  # of the ids an ambiguous start of an id names


class Api:
    """Routes a request to the store; answers with (status, JSON) or raises HttpError.

    At most `max_waiters` long polls wait at once, so they can never take every
    thread of the server: a long poll over that number answers at once.
    """

    def __init__(self, store: Store, contracts: Contracts, max_waiters: int = 8) -> None:
        self.store = store
        self.contracts = contracts
        self.long_polls = LongPolls(max_waiters)
        task_types = TaskTypes(store)
        catalog = re.compile(r"/taskcatalog/api/catalog-task-definitions/([^/]+)")
        self.routes = (
            Route("POST", catalog, self.publish, takes_body=True),
            Route("GET", catalog, self.catalog),
            Route(
                "POST",
                re.compile(r"/polling/api/namespaces/([^/]+)/task-instances/poll"),
                self.poll,
            ),
            Route(
                "POST",
                re.compile(r"/taskstatus/api/task-statuses"),
                self.post_status,
                takes_body=True,
            ),
            Route("GET", re.compile(r"/polling/api/Cancelled"), self.cancelled),
            Route("POST", re.compile(r"/local/api/task-instances"), self.submit, takes_body=True),
            *BulkSubmit(store, contracts).routes,
            Route("GET", re.compile(r"/local/api/task-instances/([^/]+)"), self.instance),
            Route("POST", re.compile(r"/local/api/task-instances/([^/]+)/cancel"), self.cancel),
            Route("GET", re.compile(r"/local/api/statuses"), self.statuses),
            Route("POST", re.compile(TASK_LOGS_PATH), TaskLogs(store).post, takes_body=True),
            # Every task type's figures: for API clients, and for the cockpit's page.
            Route("GET", re.compile(r"/local/api(?:/cockpit)?/task-types"), task_types.get),
            *Cockpit(store, contracts, self.long_polls).routes,
        )

    def route(self, method: str, path: str) -> tuple[Route, re.Match[str]] | None:
        for route in self.routes:
            match = route.pattern.fullmatch(path)
            if match is not None and route.method == method:
                return route, match
        return None

    def takes_body(self, method: str, target: str) -> bool:
        """Whether the endpoint reads a body (so a request for it must say how long it is)."""
        found = self.route(method, target_path(target))
        return found is not None and found[0].takes_body

    def handle(self, method: str, target: str, body: bytes) -> Reply:
        path, query_text = target_parts(target)
        found = self.route(method, path)
        if found is None:
            allowed = [r.method for r in self.routes if r.pattern.fullmatch(path)]
            if allowed:
                raise HttpError(
                    405, f"{method} is not allowed on {path}; use {' or '.join(allowed)}"
                )
            raise HttpError(404, f"no such endpoint: {quoted(path)}")
        route, match = found
        query = {k: v[-1] for k, v in parse_qs(query_text, keep_blank_values=True).items()}
        return route.handler(Request(tuple(unquote(g) for g in match.groups()), query, body))

    def publish(self, request: Request) -> Reply:
        namespace = request.args[0]
        flag = (request.query.get("removePreviousTasks") or "false").lower()
        if flag not in ("true", "false"):
            raise HttpError(
                400, f"query parameter removePreviousTasks={quoted(flag)} is not true or false"
            )
        if (too_large := size_problem(request.body)) is not None:
            raise HttpError(413, f"the catalog of namespace {quoted(namespace)} is {too_large}")
        definitions = bodies.catalog(request.json("catalog"), namespace, self.contracts)
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
        status = bodies.status(request.json("status"), self.contracts)
        try:
            seq = self.store.record_status(status)
        except StatusConflict as exc:
            raise HttpError(409, str(exc)) from None
        if seq is None:
            raise HttpError(404, f"unknown task instance {quoted(status['taskInstanceId'])}")
        return 200, {"seq": seq}

    def cancelled(self, request: Request) -> Reply:
        instance_id = request.query.get("taskInstanceId")
        if not instance_id:
            raise HttpError(400, "query parameter taskInstanceId is missing")
        namespace = request.query.get("catalogTaskDefinitionNamespace") or None
        flag = self.store.is_cancelled(instance_id, namespace)
        if flag is None:
            where = f" in namespace {quoted(namespace)}" if namespace else ""
            raise HttpError(404, f"unknown task instance {quoted(instance_id)}{where}")
        return 200, {"isCanceled": "true" if flag else "false"}

    def submit(self, request: Request) -> Reply:
        namespace, name, inputs, timeout_ms = bodies.submission(
            request.json("body"), self.contracts
        )
        instance = self.store.submit(namespace, name, inputs, timeout_ms)
        if self.store.definition(namespace, name) is None:
            instance["warning"] = unknown_task_warning(namespace, name)
        return 201, instance

    def instance(self, request: Request) -> Reply:
        """The instance of this id, or of the one id that starts with it (`5d1c0a2e`, as
        the command line prints it); 400 when several do, 404 when none."""
        asked = request.args[0]
        view = self.store.instance_view(asked)
        if view is None:
            found = self.store.ids_starting(asked, limit=SHOWN_IDS + 1) if asked else []
            if len(found) > 1:
                listed = ", ".join(found[:SHOWN_IDS]) + (", ..." if len(found) > SHOWN_IDS else "")
                raise HttpError(
                    400,
                    f"{quoted(asked)} is the start of several task instance ids ({listed}): "
                    "give more of it",
                )
            view = self.store.instance_view(found[0]) if found else None
        if view is None:
            raise HttpError(404, f"unknown task instance {quoted(asked)}")
        return 200, view

    def cancel(self, request: Request) -> Reply:
        try:
            known = self.store.cancel(request.args[0])
        except StatusConflict as exc:
            raise HttpError(409, str(exc)) from None
        if not known:
            raise HttpError(404, f"unknown task instance {quoted(request.args[0])}")
        return 200, {"cancelled": True}

    def statuses(self, request: Request) -> Reply:
        after = request.seq("after")
        with self.long_polls.slot(request.wait_s()) as may_wait_s:
            records = self.store.statuses_since(after, limit=STATUS_PAGE, wait_s=may_wait_s)
        return 200, {"statuses": records, "last": records[-1]["seq"] if records else after}

"""The cockpit page's data, under /local/api/cockpit/: (method, target, body) in, JSON out.

- `GET tasks`: a page of task instances, filtered by `state`, `namespace`, `name`, `q`,
  the times they were submitted or ended and a failure group (query.py), sorted
  (sorting.py), with `total` (how many pass) and `next` (the `cursor` of the next
  page); with `after`, `since` and `changes`
  (the `last`, `lastInstance` and `lastChange` of an earlier answer), only those
  changed since, waiting up to `waitSeconds` for a change (a long poll, bounded
  with the server's others): those that pass the filters in `tasks`, the ids of
  those that do not (any longer) in `gone`; `tiles` with the counts for the tiles;
- `GET tasks/{id}`: one instance, all its statuses, its inputs and outputs, its log;
- `POST tasks/{id}/cancel`: cancels a queued or running instance (409 once ended);
- `GET catalog`: every published task definition, for the submit form;
- `POST submit`: queues a task instance only when its inputs pass the runner's
  own checks; else 400 with each problem placed on its input;
- `GET chart?minutes=`: durations and throughput over the last minutes;
- `GET failures`: the failures that pass the list's filters, grouped by message
  (failures.py);
- bulk actions (bulk.py) and exports (export.py), each in a module of its own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from runner.contracts import Contracts
from runner.localserver import bodies
from runner.localserver.cockpit import detail
from runner.localserver.cockpit.board import Board, Marks
from runner.localserver.cockpit.bulk import BulkActions
from runner.localserver.cockpit.export import Exports
from runner.localserver.cockpit.failuregroups import FailureGroups
from runner.localserver.cockpit.form import input_problems
from runner.localserver.cockpit.listing import Filters, Page
from runner.localserver.cockpit.query import cursor_in, filters_in, sort_in
from runner.localserver.errors import HttpError, quoted
from runner.localserver.records import utc_now
from runner.localserver.routing import LongPolls, Reply, Request, Route
from runner.localserver.rules import StatusConflict
from runner.localserver.store import Store

BASE = "/local/api/cockpit"
MAX_TASKS = 500
DEFAULT_TASKS = 100
DEFAULT_MINUTES = 15
MAX_MINUTES = 24 * 60


class Cockpit:
    def __init__(self, store: Store, contracts: Contracts, long_polls: LongPolls) -> None:
        self.store = store
        self.contracts = contracts
        self.long_polls = long_polls
        self.board = Board(store)
        self.failure_groups = FailureGroups(store)
        self.bulk = BulkActions(store, contracts, self.filters_of, BASE)
        self.exports = Exports(store, self.board, self.filters_of, BASE)
        self.routes = (
            Route("GET", re.compile(f"{BASE}/tasks"), self.tasks),
            Route("GET", re.compile(f"{BASE}/tasks/([^/]+)"), self.task),
            Route("POST", re.compile(f"{BASE}/tasks/([^/]+)/cancel"), self.cancel),
            Route("GET", re.compile(f"{BASE}/catalog"), self.catalog),
            Route("POST", re.compile(f"{BASE}/submit"), self.submit, takes_body=True),
            Route("GET", re.compile(f"{BASE}/chart"), self.chart),
            Route("GET", re.compile(f"{BASE}/failures"), self.failures),
            *self.bulk.routes,
            *self.exports.routes,
        )

    def tasks(self, request: Request) -> Reply:
        limit = max(1, int(min(request.number("limit", DEFAULT_TASKS, integer=True), MAX_TASKS)))
        filters, sort = self.filters_of(request.query), sort_in(request.query)
        minutes = _minutes(request) if "minutes" in request.query else None
        if not {"after", "since", "changes"} & set(request.query):
            marks = self.board.marks()  # first: a change after it is sent again, never lost
            page = Page(filters, limit, sort, cursor_in(request.query, sort))
            found, total, cursor = self.board.page(page)
            answer = {"tasks": found, "total": total, "next": cursor, "reset": False}
        else:
            asked = Marks(request.seq("after"), request.seq("since"), request.seq("changes"))
            # A failure that comes while the poll waits joins its group before it is looked at.
            fold = self.failure_groups.keep_up if filters.failure is not None else None
            with self.long_polls.slot(request.wait_s()) as may_wait_s:
                changes = self.board.wait_for_changes(
                    asked, filters, limit, may_wait_s, sort, before_each=fold
                )
            marks = changes.marks
            answer = {
                "tasks": changes.tasks,
                "gone": changes.gone,
                "more": changes.more,
                "total": self.board.total(filters) if changes.tasks or changes.gone else None,
                # Marks past the records: the database was replaced; the page starts over.
                "reset": any(a > m for a, m in zip(asked, marks, strict=True)),
            }
        return 200, {
            **answer,
            "last": marks.seq,
            "lastInstance": marks.ordinal,
            "lastChange": marks.change,
            "tiles": self.board.tiles(minutes),
            "now": utc_now(),
        }

    def task(self, request: Request) -> Reply:
        view = detail.instance(self.store, self.board, request.args[0])
        if view is None:
            raise HttpError(404, f"unknown task instance {quoted(request.args[0])}")
        return 200, {**view, "now": utc_now()}

    def cancel(self, request: Request) -> Reply:
        instance_id = request.args[0]
        try:
            known = self.store.cancel(instance_id)
        except StatusConflict as exc:  # it ended: there is nothing to cancel
            raise HttpError(409, str(exc)) from None
        if not known:
            raise HttpError(404, f"unknown task instance {quoted(instance_id)}")
        return 200, {"task": self.board.summary(instance_id)}

    def catalog(self, request: Request) -> Reply:
        return 200, {"tasks": self.store.catalog()}

    def submit(self, request: Request) -> Reply:
        namespace, name, inputs, timeout_ms = bodies.submission(
            request.json("body"), self.contracts
        )
        task = f"{namespace}/{name}"
        definition = self.store.definition(namespace, name)
        if definition is None:
            raise HttpError(400, f"task {task} is not in the published catalog")
        problems = input_problems(definition, inputs, self.contracts)
        if problems:
            listed = "; ".join(f"{p['path']}: {p['message']}" for p in problems)
            raise HttpError(
                400, f"invalid inputs for {task}: {listed}", extra={"problems": problems}
            )
        instance = self.store.submit(namespace, name, inputs, timeout_ms)
        return 201, {"instance": instance, "task": self.board.summary(instance["id"])}

    def chart(self, request: Request) -> Reply:
        return 200, detail.chart(self.store, self.board, _minutes(request))

    def failures(self, request: Request) -> Reply:
        return 200, {**self.failure_groups.groups(filters_in(request.query)), "now": utc_now()}

    def filters_of(self, query: Mapping[str, str]) -> Filters:
        """The list's filters; a failure group's members are folded first, so it is exact."""
        filters = filters_in(query)
        if filters.failure is not None:
            self.failure_groups.keep_up()
        return filters


def _minutes(request: Request) -> int:
    minutes = int(request.number("minutes", DEFAULT_MINUTES, integer=True))
    if not 1 <= minutes <= MAX_MINUTES:
        raise HttpError(400, f"query parameter minutes={minutes} is not from 1 to {MAX_MINUTES}")
    return minutes

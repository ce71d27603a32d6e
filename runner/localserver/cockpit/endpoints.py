"""The cockpit page's data, under /local/api/cockpit/: (method, target, body) in, JSON out.

- `GET tasks`: the newest task instances; with `after` and `since` (the
  `last` and `lastInstance` of the previous answer), only those changed since,
  waiting up to `waitSeconds` for a change (a long poll, bounded with the
  server's others);
- `GET tasks/{id}`: one instance, all its statuses, its inputs and outputs;
- `GET catalog`: every published task definition, for the submit form;
- `POST submit`: queues a task instance only when its inputs pass the runner's
  own checks; else 400 with each problem placed on its input;
- `GET chart?minutes=`: durations and throughput over the last minutes.
"""

from __future__ import annotations

import re

from runner.contracts import Contracts
from runner.localserver import bodies
from runner.localserver.cockpit.board import Board
from runner.localserver.cockpit.form import input_problems
from runner.localserver.errors import HttpError, quoted
from runner.localserver.records import utc_now
from runner.localserver.routing import LongPolls, Reply, Request, Route
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
        self.routes = (
            Route("GET", re.compile(f"{BASE}/tasks"), self.tasks),
            Route("GET", re.compile(f"{BASE}/tasks/([^/]+)"), self.task),
            Route("GET", re.compile(f"{BASE}/catalog"), self.catalog),
            Route("POST", re.compile(f"{BASE}/submit"), self.submit, takes_body=True),
            Route("GET", re.compile(f"{BASE}/chart"), self.chart),
        )

    def tasks(self, request: Request) -> Reply:
        limit = max(1, int(min(request.number("limit", DEFAULT_TASKS, integer=True), MAX_TASKS)))
        if "after" not in request.query and "since" not in request.query:
            marks = self.board.marks()  # first: a change after it is sent again, never lost
            found, reset = self.board.recent(limit), False
        else:
            after, since = request.seq("after"), request.seq("since")
            with self.long_polls.slot(request.wait_s()) as may_wait_s:
                found, marks = self.board.wait_for_changes(after, since, limit, may_wait_s)
            # Marks past the records: the database was replaced; the page starts over.
            reset = after > marks.seq or since > marks.ordinal
        return 200, {
            "tasks": found,
            "last": marks.seq,
            "lastInstance": marks.ordinal,
            "reset": reset,
            "now": utc_now(),
        }

    def task(self, request: Request) -> Reply:
        view = self.board.instance(request.args[0])
        if view is None:
            raise HttpError(404, f"unknown task instance {quoted(request.args[0])}")
        return 200, {**view, "now": utc_now()}

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
        minutes = int(request.number("minutes", DEFAULT_MINUTES, integer=True))
        if not 1 <= minutes <= MAX_MINUTES:
            raise HttpError(
                400, f"query parameter minutes={minutes} is not from 1 to {MAX_MINUTES}"
            )
        return 200, self.board.chart(minutes)

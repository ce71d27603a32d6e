"""`POST /local/api/task-instances/bulk`: many task instances queued in one request.

The body is a JSON array of the objects one submit takes (`{"namespace", "name",
"inputData", "timeOutInMillis"}`), or the same objects as JSON lines (one per line; blank
lines are skipped). Each is checked exactly as one submit is (bodies.submission); then
all are queued in one transaction, in their order, or, when any is refused, none is
(400, naming each refused one: `body[3].inputData: ...` or `line 4: body.name: ...`).
At most MAX_INSTANCES per request: a client sends more in batches. The answer, 201:
`{"ids": [...], "warnings": [...]}`, the ids in the body's order, and one warning per
task that is not in the published catalog (a runner will answer it with an Error).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from runner.contracts import Contracts
from runner.localserver import bodies, jsontext
from runner.localserver.errors import HttpError
from runner.localserver.routing import Reply, Request, Route
from runner.localserver.store import Store

PATH = "/local/api/task-instances/bulk"
MAX_INSTANCES = 10_000  # per request; 16 MiB bounds the body as it does every other
MAX_PROBLEMS = 20  # refusals named in one answer


def unknown_task_warning(namespace: str, name: str) -> str:
    return (
        f"task {namespace}/{name} is not in the published catalog; "
        "a runner will answer it with an Error status"
    )


class BulkSubmit:
    def __init__(self, store: Store, contracts: Contracts) -> None:
        self.store = store
        self.contracts = contracts
        self.routes = (Route("POST", re.compile(PATH), self.submit, takes_body=True),)

    def submit(self, request: Request) -> Reply:
        submissions: list[bodies.Submission] = []
        problems: list[str] = []
        for noun, where, read in _items(request.body):
            try:
                submissions.append(bodies.submission(read(), self.contracts, noun))
            except HttpError as exc:
                problems.append(f"{where}{exc.message}")
        if problems:
            raise HttpError(
                400,
                f"nothing was queued: {_listed(problems)}",
                extra={"problems": problems[:MAX_PROBLEMS]},
            )
        ids = self.store.submit_many(submissions)
        tasks = dict.fromkeys((namespace, name) for namespace, name, _, _ in submissions)
        unknown = [task for task in tasks if self.store.definition(*task) is None]
        return 201, {"ids": ids, "warnings": [unknown_task_warning(*task) for task in unknown]}


def _items(body: bytes) -> Iterator[tuple[str, str, Callable[[], Any]]]:
    """(the noun of each object, where it is said to be, how to read it): an array's
    members, or the lines of JSON lines (a line that is not JSON is refused when read);
    HttpError when the body is neither, or holds too many."""
    if body.lstrip()[:1] == b"[":
        array = jsontext.parse(body, "body")
        _count(len(array))
        for index, item in enumerate(array):
            yield f"body[{index}]", "", partial(_as_is, item)
        return
    # A JSON text holds no raw line break (in a string it is escaped): lines split cleanly.
    lines = [(n, line) for n, line in enumerate(body.split(b"\n"), 1) if line.strip()]
    if not lines:
        raise HttpError(400, "body is empty; expected a JSON array, or JSON lines, of submits")
    _count(len(lines))
    for number, line in lines:
        yield "body", f"line {number}: ", partial(jsontext.parse, line, "body")


def _as_is(value: Any) -> Any:
    return value


def _count(count: int) -> None:
    if count > MAX_INSTANCES:
        raise HttpError(
            413,
            f"{count} task instances in one request, over the limit of {MAX_INSTANCES}: "
            "send them in batches",
        )


def _listed(problems: list[str]) -> str:
    more = len(problems) - MAX_PROBLEMS
    return "; ".join(problems[:MAX_PROBLEMS]) + (f" (and {more} more)" if more > 0 else "")

"""The task list's query parameters read into its filters, its sort and its cursor: one
reader for the list, the failure groups, the bulk actions and the export, each wrong
value a 400 that names it.

`state`, `namespace`, `name`, `q` (search), `submittedFrom`, `submittedTo`, `endedFrom`,
`endedTo` (ISO 8601 times with their zone: from inclusive, to exclusive), `failure` (a
failure group's key), `sort` and `order` (sorting.py), `cursor`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from runner.localserver.cockpit.listing import MAX_SEARCH_CHARS, STATES, Between, Filters
from runner.localserver.cockpit.sorting import Cursor, Sort, sort_of
from runner.localserver.errors import HttpError, quoted
from runner.localserver.tasklogs import zoned_time

FILTERS = (
    "state", "namespace", "name", "q", "submittedFrom", "submittedTo", "endedFrom", "endedTo",
    "failure",
)  # fmt: skip
_FAILURE_KEY = re.compile(r"[0-9a-f]{16}", re.ASCII)


def filters_in(query: Mapping[str, str]) -> Filters:
    state = query.get("state") or None
    if state is not None and state not in STATES:
        raise HttpError(
            400, f"query parameter state={quoted(state)} is not one of {', '.join(STATES)}"
        )
    text = (query.get("q") or "").strip() or None
    if text is not None and len(text) > MAX_SEARCH_CHARS:
        raise HttpError(400, f"query parameter q: over {MAX_SEARCH_CHARS} characters")
    failure = query.get("failure") or None
    if failure is not None and not _FAILURE_KEY.fullmatch(failure):
        raise HttpError(400, f"query parameter failure={quoted(failure)} is not a failure group")
    return Filters(
        state=state,
        namespace=query.get("namespace") or None,
        name=query.get("name") or None,
        text=text,
        submitted=_between(query, "submitted"),
        ended=_between(query, "ended"),
        failure=failure,
    )


def sort_in(query: Mapping[str, str]) -> Sort:
    return sort_of(query.get("sort") or None, query.get("order") or None)


def cursor_in(query: Mapping[str, str], sort: Sort) -> Cursor | None:
    text = query.get("cursor")
    return sort.cursor(text) if text else None


def _between(query: Mapping[str, str], name: str) -> Between:
    ends = [query.get(f"{name}{end}") or None for end in ("From", "To")]
    start, end = (
        None if text is None else zoned_time(text, f"query parameter {name}{side}")
        for text, side in zip(ends, ("From", "To"), strict=True)
    )
    if start is not None and end is not None and end <= start:
        raise HttpError(400, f"query parameters {name}From and {name}To: the range is empty")
    return Between(start, end)

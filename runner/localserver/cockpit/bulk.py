"""Bulk actions: cancel, or run again with the same inputs, every task instance of a
selection, done by the server in one request per action.

- `POST /local/api/cockpit/bulk` with `{"action": "cancel" or "rerun", "ids": [...]}`,
  or with `"match": {...}` (the list's filters, as its query parameters: query.py) and
  `"upTo"` (the list's `lastInstance`: what was submitted later is not selected),
  answers at once, 202, with the action's record;
- a thread of the server does it, BATCH instances at a time, each batch its own short
  transaction (bulkwrites.py), so that no other request waits long behind it;
- `GET /local/api/cockpit/bulk/{id}` says how far it is (`done` of `total`), then its
  result, in numbers (`counts`) and in words (`result`: "498 cancelled, 2 had already
  ended").

Bounded: at most MAX_INSTANCES instances per action (400 beyond, saying so) and one
action at a time (409 while one runs). The last KEPT actions are remembered, in memory:
a restart forgets them; what was done stays done.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import threading
import uuid
from collections import Counter, OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from runner.contracts import Contracts
from runner.localserver.bodies import object_of
from runner.localserver.cockpit import bulkwrites
from runner.localserver.cockpit.listing import Filters
from runner.localserver.cockpit.query import FILTERS
from runner.localserver.database import StoreClosed, StoreError
from runner.localserver.errors import HttpError, quoted
from runner.localserver.records import utc_now
from runner.localserver.routing import MAX_SEQ, Reply, Request, Route
from runner.localserver.store import Store

logger = logging.getLogger(__name__)

ACTIONS = ("cancel", "rerun")
MAX_INSTANCES = 10_000
BATCH = 200
KEPT = 20
_FIELDS = frozenset({"action", "ids", "match", "upTo"})
_MAX_ID_CHARS = 200


@dataclass
class Action:
    """One bulk action, as `GET bulk/{id}` shows it."""

    id: str
    action: str
    total: int
    done: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    refusals: Counter[str] = field(default_factory=Counter)
    state: str = "running"  # then "done", or "failed"
    error: str | None = None
    started_at: str = field(default_factory=utc_now)
    ended_at: str | None = None

    def shown(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "action": self.action,
            "state": self.state,
            "total": self.total,
            "done": self.done,
            "counts": dict(self.counts),
            "refusals": [{"reason": r, "count": n} for r, n in self.refusals.most_common(10)],
            "result": self.result(),
            "error": self.error,
            "startedAt": self.started_at,
            "endedAt": self.ended_at,
        }

    def result(self) -> str:
        """What was done, in words."""
        if self.state == "running":
            return f"{self.done:,} of {self.total:,} done"
        said = _said_cancel(self.counts) if self.action == "cancel" else _said_rerun(self.counts)
        if not self.total:
            said = "nothing to do: no task instance was selected"
        if self.state == "failed":
            said = f"stopped after {self.done:,} of {self.total:,} ({said}): {self.error}"
        return said[:1].upper() + said[1:] + "."


def _said_cancel(counts: Counter[str]) -> str:
    cancelled = counts["cancelled"] + counts["stopping"]
    parts = [f"{cancelled:,} cancelled"]
    if counts["stopping"]:
        parts[0] += f" ({counts['stopping']:,} of them running: their runners stop them)"
    return ", ".join(parts + _also(counts))


def _said_rerun(counts: Counter[str]) -> str:
    parts = [f"{counts['queued']:,} queued again"]
    if counts["refused"]:
        parts.append(f"{counts['refused']:,} refused (their inputs fail the checks now)")
    return ", ".join(parts + _also(counts))


def _also(counts: Counter[str]) -> list[str]:
    words = (
        ("alreadyEnded", "had already ended", "had already ended"),
        ("alreadyCancelled", "was already cancelled", "were already cancelled"),
        ("gone", "no longer exists", "no longer exist"),
    )
    return [
        f"{counts[name]:,} {one if counts[name] == 1 else more}"
        for name, one, more in words
        if counts[name]
    ]


class BulkActions:
    def __init__(
        self,
        store: Store,
        contracts: Contracts,
        filters_of: Callable[[Mapping[str, str]], Filters],
        base: str,
    ) -> None:
        self._store = store
        self._contracts = contracts
        self._filters_of = filters_of  # the list's filters, read as the list reads them
        self._lock = threading.Lock()
        self._actions: OrderedDict[str, Action] = OrderedDict()
        self.routes = (
            Route("POST", re.compile(f"{base}/bulk"), self.start, takes_body=True),
            Route("GET", re.compile(f"{base}/bulk/([^/]+)"), self.show),
        )

    def start(self, request: Request) -> Reply:
        body = _checked(request.json("body"))
        with self._lock:
            running = next((a for a in self._actions.values() if a.state == "running"), None)
            if running is not None:
                raise HttpError(
                    409,
                    f"another bulk action is running ({running.action}, {running.result()[:-1]}); "
                    "try again when it ends",
                )
            ordinals, unknown = self._selection(body)
            action = Action(uuid.uuid4().hex, body["action"], len(ordinals) + unknown)
            if unknown:
                action.counts["gone"] = action.done = unknown
            self._actions[action.id] = action
            while len(self._actions) > KEPT:
                self._actions.popitem(last=False)
            if not ordinals:
                self._end(action)
                logger.info("bulk %s: %s", action.action, action.result())
            else:
                threading.Thread(
                    target=self._run, args=(action, ordinals), name="cockpit-bulk", daemon=True
                ).start()
        return 202, {"action": action.shown()}

    def show(self, request: Request) -> Reply:
        action = self._actions.get(request.args[0])
        if action is None:
            raise HttpError(404, f"no bulk action {quoted(request.args[0])} (or no longer kept)")
        return 200, {"action": action.shown()}

    def _selection(self, body: dict[str, Any]) -> tuple[list[int], int]:
        """The ordinals of the instances selected, and how many of the ids are unknown."""
        if "ids" in body:
            ids = sorted(set(body["ids"]))
            found = bulkwrites.ordinals_of_ids(self._store, ids)
            return found, len(ids) - len(found)
        filters = dataclasses.replace(self._filters_of(body["match"]), up_to=body.get("upTo"))
        found = bulkwrites.ordinals_matching(self._store, filters, MAX_INSTANCES + 1)
        if len(found) > MAX_INSTANCES:
            raise HttpError(
                400,
                f"over {MAX_INSTANCES:,} task instances match: a bulk action takes at most "
                f"{MAX_INSTANCES:,}; narrow the filters",
            )
        return found, 0

    def _run(self, action: Action, ordinals: Sequence[int]) -> None:
        do: Callable[[Sequence[int]], Counter[str]]
        rerun = bulkwrites.Rerun(self._store, self._contracts)
        do = rerun.batch if action.action == "rerun" else self._cancel
        try:
            for start in range(0, len(ordinals), BATCH):
                batch = ordinals[start : start + BATCH]
                # New counters, not updated ones: `show` reads them from another thread.
                action.counts = action.counts + do(batch)
                action.refusals = Counter(rerun.refusals)
                action.done += len(batch)
        except StoreClosed:
            self._end(action, "the local server is stopping")
        except StoreError as exc:
            logger.error(
                "bulk %s stopped after %d of %d: %s", action.action, action.done, action.total, exc
            )
            self._end(action, f"storage error: {exc}")
        except Exception:  # a bug ends this action, never the next ones (nor the server)
            logger.exception(
                "bulk %s failed after %d of %d", action.action, action.done, action.total
            )
            self._end(action, "internal error in the local server (see its log)")
        else:
            self._end(action)
            logger.info("bulk %s: %s", action.action, action.result())

    def _cancel(self, batch: Sequence[int]) -> Counter[str]:
        return bulkwrites.cancel(self._store, batch)

    @staticmethod
    def _end(action: Action, error: str | None = None) -> None:
        action.error = error
        action.ended_at = utc_now()
        action.state = "done" if error is None else "failed"


def _checked(sent: Any) -> dict[str, Any]:
    """The request's body with every field in range; 400 naming the one that is not."""
    body = object_of(sent, "body", _FIELDS)
    if body.get("action") not in ACTIONS:
        raise HttpError(400, f"body.action: {quoted(body.get('action'))} is not cancel or rerun")
    if ("ids" in body) == ("match" in body):
        raise HttpError(400, "body: give either ids (a list) or match (the list's filters)")
    if "ids" in body:
        _check_ids(body["ids"])
    else:
        _check_match(body["match"])
    up_to = body.get("upTo", 0)
    if isinstance(up_to, bool) or not isinstance(up_to, int) or not 0 <= up_to <= MAX_SEQ:
        raise HttpError(400, f"body.upTo: {quoted(up_to)} is not an ordinal (a whole number >= 0)")
    return body


def _check_ids(ids: Any) -> None:
    if not isinstance(ids, list) or len(ids) > MAX_INSTANCES:
        raise HttpError(400, f"body.ids: must be a list of at most {MAX_INSTANCES:,} ids")
    for index, value in enumerate(ids):
        if not isinstance(value, str) or not 0 < len(value) <= _MAX_ID_CHARS:
            raise HttpError(
                400, f"body.ids[{index}]: must be an id (text of 1 to {_MAX_ID_CHARS} characters)"
            )


def _check_match(match: Any) -> None:
    if not isinstance(match, dict) or not all(isinstance(v, str) for v in match.values()):
        raise HttpError(400, "body.match: must be an object of texts (the list's filters)")
    strange = sorted(set(match) - set(FILTERS))
    if strange:
        raise HttpError(
            400, f"body.match: unknown filter(s) {', '.join(quoted(s) for s in strange)}"
        )

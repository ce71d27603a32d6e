"""The bulk actions' reads and writes, a batch at a time: which instances a selection
holds, and cancelling or running again a batch of them, each batch one short transaction.

The rules are those of one instance: an instance that ended cannot be cancelled (it
stays as it ended); a queued one that is cancelled is never handed out; a running one
is stopped by its runner. Running again queues a new instance of the same task with
the inputs and timeout it was submitted with, once they pass the runner's checks
against the catalog published now (cockpit/form.py), as the submit form's do.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from runner.contracts import Contracts
from runner.core.model import TERMINAL_STATUSES
from runner.localserver.cockpit.failures import fold
from runner.localserver.cockpit.form import input_problems
from runner.localserver.cockpit.listing import Filters
from runner.localserver.jsontext import stored
from runner.localserver.store import Store

IDS_AT_ONCE = 500  # ids in one `IN (...)`: well under SQLite's limit of bound values
_ENDED = ", ".join(f"'{s}'" for s in sorted(TERMINAL_STATUSES))


def ordinals_of_ids(store: Store, ids: Sequence[str]) -> list[int]:
    """The ordinals of the instances with these ids (unknown ids have none), in order."""
    found: list[int] = []
    for start in range(0, len(ids), IDS_AT_ONCE):
        chunk = list(ids[start : start + IDS_AT_ONCE])
        query = f"SELECT ordinal FROM instances WHERE id IN ({_marks(chunk)})"  # noqa: S608 -- placeholders only
        with store.read() as db:
            found += [int(r["ordinal"]) for r in db.execute(query, chunk)]
    return sorted(found)


def ordinals_matching(store: Store, filters: Filters, limit: int) -> list[int]:
    """The ordinals of at most `limit` instances that pass `filters`, in order."""
    where, values = filters.where()
    query = f"""SELECT i.ordinal FROM instances i WHERE {where}
        ORDER BY i.ordinal LIMIT :limit"""  # noqa: S608 -- constants only; values are bound
    with store.read() as db:
        return [int(r["ordinal"]) for r in db.execute(query, {**values, "limit": limit})]


def cancel(store: Store, batch: Sequence[int]) -> Counter[str]:
    """Cancels the batch's instances; how many were `cancelled` (queued: never handed out),
    `stopping` (running: their runners stop them), `alreadyEnded`, `alreadyCancelled` and
    `gone` (deleted since they were selected)."""
    counts: Counter[str] = Counter()
    marks = _marks(batch)
    with store.write() as db:
        rows = db.execute(
            f"SELECT state, cancelled FROM instances WHERE ordinal IN ({marks})",  # noqa: S608 -- placeholders only
            batch,
        ).fetchall()
        for row in rows:
            counts[_cancelled(row["state"], bool(row["cancelled"]))] += 1
        db.execute(
            f"""UPDATE instances SET cancelled = 1 WHERE ordinal IN ({marks})
                AND cancelled = 0 AND state NOT IN ({_ENDED})""",  # noqa: S608 -- placeholders and constants only
            batch,
        )
    counts["gone"] += len(batch) - len(rows)
    return counts


def _cancelled(state: str, cancelled: bool) -> str:
    if state in TERMINAL_STATUSES:
        return "alreadyEnded"
    if cancelled:
        return "alreadyCancelled"
    return "cancelled" if state == "Queued" else "stopping"


class Rerun:
    """Runs batches of instances again; the published definitions and the checks' verdicts
    are read once per task for the whole action."""

    def __init__(self, store: Store, contracts: Contracts) -> None:
        self._store = store
        self._contracts = contracts
        self._definitions: dict[tuple[str, str], dict[str, Any] | None] = {}
        self.refusals: Counter[str] = Counter()  # why some were not run again, and how many

    def batch(self, batch: Sequence[int]) -> Counter[str]:
        """Queues the batch's instances again: how many were `queued`, `refused` (their
        inputs fail the checks now) and `gone`."""
        counts: Counter[str] = Counter()
        with self._store.read() as db:
            rows = db.execute(
                f"""SELECT namespace, name, input_data, timeout_ms FROM instances
                    WHERE ordinal IN ({_marks(batch)}) ORDER BY ordinal""",  # noqa: S608 -- placeholders only
                batch,
            ).fetchall()
        queued = []
        for row in rows:
            given = stored(row["input_data"])
            inputs = given if isinstance(given, dict) else {}
            refusal = self._refusal(row["namespace"], row["name"], inputs)
            if refusal is not None:
                self.refusals[refusal] += 1
                counts["refused"] += 1
                continue
            queued.append((row["namespace"], row["name"], inputs, row["timeout_ms"]))
        if queued:
            self._store.submit_many(queued)  # one transaction
        counts["queued"] += len(queued)
        counts["gone"] += len(batch) - len(rows)
        return counts

    def _refusal(self, namespace: str, name: str, inputs: dict[str, Any]) -> str | None:
        task = (namespace, name)
        if task not in self._definitions:
            self._definitions[task] = self._store.definition(namespace, name)
        definition = self._definitions[task]
        if definition is None:
            return f"{namespace}/{name} is not in the published catalog"
        problems = input_problems(definition, inputs, self._contracts)
        if problems:
            # Folded (failures.py): a value in the problem makes no reason of its own.
            first = problems[0]
            return f"{namespace}/{name}: {first['path']}: {fold(first['message'])}"
        return None


def _marks(values: Sequence[Any]) -> str:
    return ", ".join("?" * len(values))

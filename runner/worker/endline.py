"""The runner's line for a task's end, in text and, in the JSON log format, with fields."""

from __future__ import annotations

import logging

from runner.core.model import TaskInstance, TaskStatus
from runner.core.usage import LOG_FIELDS, Usage
from runner.worker.running import MIN_PROGRESS_INTERVAL_S, Outcome

log = logging.getLogger("runner.worker.executor")  # the executor's lines, as before


def log_end(
    instance: TaskInstance,
    final: TaskStatus,
    outcome: Outcome,
    took_s: float,
    start: str | None,
    usage: Usage | None,
) -> None:
    """The task's end: how it ended, how long it took, how it started and what it used (in
    the JSON format, also as fields: runner.core.usage.Usage.log_fields)."""
    if outcome.skipped_progress:
        log.info(
            "%s: %d progress status(es) skipped: the task notified more often than every %g s",
            instance.ref,
            outcome.skipped_progress,
            MIN_PROGRESS_INTERVAL_S,
        )
    log.info(
        "%s: %s in %.3f s (%s%s)%s",
        instance.ref,
        final.status,
        took_s,
        start or "no container",
        f"; {usage.in_words()}" if usage is not None else "",
        f": {final.message}" if final.status == "Error" else "",
        extra={LOG_FIELDS: usage.log_fields()} if usage is not None else None,
    )

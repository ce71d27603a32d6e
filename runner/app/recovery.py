"""Crash recovery: how the tasks an earlier run left unfinished end.

Each gets an Error saying it was interrupted, owed to the platform it was taken from:
posted (after its earlier statuses) when that is this runner's platform, else kept in the
outbox for a runner started against that platform. Its journaled container is removed
either way: it runs on this engine.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from runner.app.startup import INTERRUPTED
from runner.core.model import TaskStatus, error_status
from runner.core.taskcontext import about_task
from runner.state.store import StateStore

log = logging.getLogger(__name__)


def end_interrupted(
    state: StateStore, remove: Callable[[str], None], submit: Callable[[TaskStatus], None]
) -> None:
    """`remove` a container (the engine's); `submit` a status for this runner's platform."""
    for taken in state.journal.unfinished():
        with about_task(taken.namespace, taken.name, taken.instance_id):
            ours = taken.platform == state.platform
            log.warning(
                "%s: interrupted by the runner's previous stop; %s",
                taken.ref,
                "posting Error" if ours else f"its Error is kept for {taken.platform}",
            )
            if taken.container:
                log.warning("%s: removing its container %s", taken.ref, taken.container[:12])
                remove(taken.container)
            status = error_status(taken.instance_id, INTERRUPTED)
            if ours:
                submit(status)
            else:
                state.outbox.put(status, platform=taken.platform)

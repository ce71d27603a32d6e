"""Which statuses a task instance accepts, given its state: pure, so it is tested without SQL.

- A status for an instance that was never handed out (still Queued) is refused.
- After the terminal status (Completed or Error) nothing more is stored. The
  runner delivers at least once, so a repeat of that same terminal status
  (same status, message and outputValues) is accepted and answered with the
  first delivery's seq; anything else is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runner.core.model import TERMINAL_STATUSES
from runner.localserver.errors import quoted


class StatusConflict(Exception):
    """The status does not fit the instance's state (answered 409); the message says why."""


def next_state(state: str, status: str) -> str:
    """A terminal state is final."""
    return state if state in TERMINAL_STATUSES else status


def repeat_of(
    instance_id: str,
    state: str,
    terminal: Mapping[str, Any] | None,
    status: Mapping[str, Any],
) -> int | None:
    """The seq of the terminal status `status` repeats; None when it is new and may be stored.

    Raises StatusConflict when it may not be stored at all.
    """
    if state == "Queued":
        raise StatusConflict(
            f"task instance {quoted(instance_id)} was never handed out (it is still Queued): "
            "a status is accepted only for an instance a poll returned"
        )
    if state not in TERMINAL_STATUSES:
        return None
    if terminal is not None and _same_terminal(terminal, status):
        return int(terminal["seq"])
    ended = f"{terminal['status']} (seq {terminal['seq']})" if terminal else state
    raise StatusConflict(
        f"task instance {quoted(instance_id)} already ended with {ended}; a status after "
        "the terminal one is not stored (only a repeat of that same status is accepted)"
    )


def _same_terminal(terminal: Mapping[str, Any], status: Mapping[str, Any]) -> bool:
    return bool(
        terminal["status"] == status["status"]
        and terminal["message"] == status.get("message")
        and terminal["outputValues"] == status.get("outputValues")
    )

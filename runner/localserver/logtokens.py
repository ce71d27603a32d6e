"""Who may send a task instance's log: the runner that was handed the instance.

Every hand-out (a poll's answer) carries a token of its own, `taskLogToken`, beside the
platform's fields; the runner sends it back with the task's log (runner/worker/tasklogs.py,
through the client), and a log for an instance whose token it does not hold is refused.
Any holder of the API key may poll, but only the one answer holds the token: no other
runner, nor anyone else with the key, can replace an instance's log. The server keeps a
hash of each token, removed with its instance.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from runner.localserver.errors import HttpError, quoted

LOG_TOKEN = "taskLogToken"  # noqa: S105 -- the name of the field, not a token


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def new_log_token(db: Any, instance_id: str) -> str:
    """A new token for the instance just handed out, its hash kept (inside the hand-out's
    transaction)."""
    token = secrets.token_urlsafe(24)
    db.execute(
        "INSERT OR REPLACE INTO log_tokens (instance_id, token_hash) VALUES (?, ?)",
        (instance_id, _hash(token)),
    )
    return token


def check_log_token(db: Any, instance_id: str, token: Any) -> None:
    """HttpError 409 unless `token` is the one the instance was handed out with. An
    instance handed out by an earlier version of the server has none: any log is taken."""
    row = db.execute(
        "SELECT token_hash FROM log_tokens WHERE instance_id = ?", (instance_id,)
    ).fetchone()
    if row is None:
        return
    if not isinstance(token, str) or not hmac.compare_digest(_hash(token), row["token_hash"]):
        raise HttpError(
            409,
            f"task instance {quoted(instance_id)} was handed to another runner: only the "
            f"runner that was handed it may send its log (with the {LOG_TOKEN} of its hand-out)",
        )

"""The local server's SQLite tables and the statements whose exact form matters."""

from __future__ import annotations

from runner.localserver.cockpit.tables import COCKPIT_SCHEMA
from runner.localserver.usage import USAGE_SCHEMA

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS catalog (
        namespace TEXT NOT NULL,
        name TEXT NOT NULL,
        definition TEXT NOT NULL,
        PRIMARY KEY (namespace, name))""",
    # AUTOINCREMENT: the queue order and status seq must never reuse a number.
    """CREATE TABLE IF NOT EXISTS instances (
        ordinal INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        namespace TEXT NOT NULL,
        name TEXT NOT NULL,
        input_data TEXT NOT NULL,
        timeout_ms INTEGER,
        workflow_instance_id TEXT NOT NULL,
        created_at TEXT NOT NULL,
        state TEXT NOT NULL,
        cancelled INTEGER NOT NULL DEFAULT 0,
        handed_out TEXT,
        taken_at TEXT)""",
    "CREATE INDEX IF NOT EXISTS instances_queue ON instances (namespace, state, ordinal)",
    """CREATE TABLE IF NOT EXISTS statuses (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        instance_id TEXT NOT NULL,
        namespace TEXT NOT NULL,
        name TEXT NOT NULL,
        status TEXT NOT NULL,
        message TEXT,
        progress TEXT,
        output_values TEXT,
        error_level TEXT,
        received_at TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS statuses_instance ON statuses (instance_id, seq)",
    # The cockpit's chart reads the statuses of the last minutes.
    "CREATE INDEX IF NOT EXISTS statuses_received ON statuses (received_at)",
    *COCKPIT_SCHEMA,  # the cockpit's filters, search, task logs (additive)
    *USAGE_SCHEMA,  # what each task used, and each ended task for the per-task-type figures
    # Who may send an instance's log: whoever was handed it holds the token (its hash here).
    """CREATE TABLE IF NOT EXISTS log_tokens (
        instance_id TEXT PRIMARY KEY,
        token_hash TEXT NOT NULL)""",
    """CREATE TRIGGER IF NOT EXISTS log_token_forgotten AFTER DELETE ON instances BEGIN
        DELETE FROM log_tokens WHERE instance_id = old.id;
    END""",
)

# One statement claims the oldest queued instance: no other poller, in this
# process or another sharing the file, can claim the same row.
CLAIM_OLDEST = """UPDATE instances SET state = 'Taken', taken_at = :now
    WHERE state = 'Queued' AND ordinal = (
        SELECT ordinal FROM instances
        WHERE namespace = :namespace AND state = 'Queued' AND cancelled = 0
          AND (:name IS NULL OR name = :name)
        ORDER BY ordinal LIMIT 1)
    RETURNING *"""
# The terminal statuses are runner.model.TERMINAL_STATUSES.
TERMINAL_OF = """SELECT * FROM statuses
    WHERE instance_id = ? AND status IN ('Completed', 'Error') ORDER BY seq LIMIT 1"""

INSERT_INSTANCE = (
    "INSERT INTO instances (id, namespace, name, input_data, timeout_ms,"
    " workflow_instance_id, created_at, state) VALUES (?, ?, ?, ?, ?, ?, ?, 'Queued')"
)

INSERT_STATUS = (
    "INSERT INTO statuses (instance_id, namespace, name, status, message, progress,"
    " output_values, error_level, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)

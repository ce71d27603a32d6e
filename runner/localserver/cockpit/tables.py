"""The cockpit's tables and indexes, added to the local server's database when it opens.

Additive only, each statement `IF NOT EXISTS`, so an older database gains them at
its next start and the platform's own tables are untouched:

- indexes for the task list's filters (state, task, cancelled), newest or oldest first;
- `instance_text`: a trigram index of each instance's task, inputs, and its
  statuses' messages and outputs (keys and values as text), for the list's search;
  kept by triggers, so no writer has to know of it;
- `task_logs`: the log a runner sent for a task (the local server's own extension);
- `instance_changes`: a cancellation or a log that arrived, so that the live list
  learns of changes that are not statuses;
- `instance_times`: when each instance ended and its duration (the runner's when it sent
  its log, else the server's, as views.task_summary shows it), kept by triggers, with an
  index for each order of sorting.py;
- `failure_keys`: the failure group of each instance that ended in Error (failures.py),
  filled by the cockpit as it reads.

Deleting an instance (a retention job) deletes what these tables hold about it, by
trigger.
"""

from __future__ import annotations

from runner.localserver.cockpit.sorting import NOT_ENDED_LAST, STATE_RANK

# The words of a stored JSON value: its keys and its strings and numbers, decoded.
_WORDS = """coalesce((SELECT group_concat(coalesce(CASE WHEN typeof(key) = 'text' THEN key END, '')
    || ' ' || coalesce(atom, ''), ' ') FROM json_tree({value}) WHERE json_valid({value})), '')"""
_INSTANCE_TEXT = "{row}.namespace || '/' || {row}.name || ' ' || " + _WORDS.format(
    value="{row}.input_data"
)
# What a status adds to its instance's text: its message and outputs, the first
# SEARCHED_STATUS_CHARS characters of them.
SEARCHED_STATUS_CHARS = 2000
_STATUS_TEXT = (
    "substr(coalesce({row}.message, '') || ' ' || "
    + _WORDS.format(value="{row}.output_values")
    + f", 1, {SEARCHED_STATUS_CHARS})"
)

# Milliseconds from one stored time to another (never below 0); NULL unless both are times.
_MS = "CAST(round(max(0, julianday({end}) - julianday({start})) * 86400000) AS INTEGER)"
_RUNNER_MS = _MS.format(start="l.started_at", end="l.ended_at")
_ENDED_SORTS = [
    f"CREATE INDEX IF NOT EXISTS instance_times_{name}_{way} ON instance_times"
    f" (coalesce({column}, {NOT_ENDED_LAST[way][kind]}), ordinal)"
    for name, column, kind in (("ended", "ended_at", 0), ("duration", "duration_ms", 1))
    for way in ("desc", "asc")
]

TIMES_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS instance_times (
        ordinal INTEGER PRIMARY KEY,
        ended_at TEXT,
        duration_ms INTEGER)""",
    # A database from before: its instances' times, once.
    f"""INSERT INTO instance_times (ordinal, ended_at, duration_ms)
        SELECT i.ordinal, s.received_at, CASE WHEN s.seq IS NOT NULL THEN coalesce(
            (SELECT {_RUNNER_MS} FROM task_logs l WHERE l.instance_id = i.id),
            {_MS.format(start="i.taken_at", end="s.received_at")}) END
        FROM instances i LEFT JOIN statuses s ON s.seq = (
            SELECT min(seq) FROM statuses WHERE instance_id = i.id
            AND status IN ('Completed', 'Error'))
        WHERE i.ordinal > (SELECT coalesce(max(ordinal), 0) FROM instance_times)""",  # noqa: S608 -- constants only
    """CREATE TRIGGER IF NOT EXISTS instance_times_add AFTER INSERT ON instances BEGIN
        INSERT INTO instance_times (ordinal) VALUES (new.ordinal);
    END""",
    # The terminal statuses are runner.model.TERMINAL_STATUSES; nothing is stored after one.
    f"""CREATE TRIGGER IF NOT EXISTS instance_ended AFTER INSERT ON statuses
        WHEN new.status IN ('Completed', 'Error') BEGIN
        UPDATE instance_times SET ended_at = new.received_at, duration_ms = coalesce(
            (SELECT {_RUNNER_MS} FROM task_logs l WHERE l.instance_id = new.instance_id),
            (SELECT {_MS.format(start="i.taken_at", end="new.received_at")}
             FROM instances i WHERE i.id = new.instance_id))
        WHERE ordinal = (SELECT ordinal FROM instances WHERE id = new.instance_id)
          AND ended_at IS NULL;
    END""",  # noqa: S608 -- constants only
    f"""CREATE TRIGGER IF NOT EXISTS instance_timed AFTER INSERT ON task_logs BEGIN
        UPDATE instance_times SET duration_ms = coalesce(
            (SELECT {_RUNNER_MS} FROM task_logs l WHERE l.seq = new.seq),
            (SELECT {_MS.format(start="i.taken_at", end="instance_times.ended_at")}
             FROM instances i WHERE i.ordinal = instance_times.ordinal))
        WHERE ordinal = (SELECT ordinal FROM instances WHERE id = new.instance_id)
          AND ended_at IS NOT NULL;
    END""",  # noqa: S608 -- constants only
    *_ENDED_SORTS,
    "CREATE INDEX IF NOT EXISTS instances_rank ON instances"
    f" ({STATE_RANK.replace('i.', '')}, ordinal)",
    "CREATE INDEX IF NOT EXISTS instances_created ON instances (created_at)",
    # A failure's group, task and time never change: kept beside its key, so that the
    # groups of every failure are read from one index, grouped as it is ordered.
    """CREATE TABLE IF NOT EXISTS failure_keys (
        ordinal INTEGER PRIMARY KEY,
        seq INTEGER NOT NULL,
        key TEXT NOT NULL,
        folded TEXT NOT NULL,
        task TEXT NOT NULL,
        failed_at TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS failure_keys_groups ON failure_keys (key, task, failed_at, seq)",
    "CREATE INDEX IF NOT EXISTS failure_keys_seq ON failure_keys (seq)",
    """CREATE TRIGGER IF NOT EXISTS instance_times_forgotten AFTER DELETE ON instances BEGIN
        DELETE FROM instance_times WHERE ordinal = old.ordinal;
        DELETE FROM failure_keys WHERE ordinal = old.ordinal;
    END""",
)


COCKPIT_SCHEMA = (
    "CREATE INDEX IF NOT EXISTS instances_state ON instances (state, ordinal)",
    "CREATE INDEX IF NOT EXISTS instances_task ON instances (namespace, name, ordinal)",
    "CREATE INDEX IF NOT EXISTS instances_namespace ON instances (namespace, ordinal)",
    "CREATE INDEX IF NOT EXISTS instances_cancelled ON instances (ordinal) WHERE cancelled = 1",
    # One text per instance (rowid: its ordinal): its task, inputs, and statuses.
    "CREATE VIRTUAL TABLE IF NOT EXISTS instance_text USING fts5(body, tokenize = 'trigram')",
    f"""CREATE TRIGGER IF NOT EXISTS instance_text_add AFTER INSERT ON instances BEGIN
        INSERT INTO instance_text (rowid, body)
        VALUES (new.ordinal, {_INSTANCE_TEXT.format(row="new")});
    END""",  # noqa: S608 -- constants only
    f"""CREATE TRIGGER IF NOT EXISTS instance_text_grow AFTER INSERT ON statuses BEGIN
        UPDATE instance_text SET body = body || ' ' || {_STATUS_TEXT.format(row="new")}
        WHERE rowid = (SELECT ordinal FROM instances WHERE id = new.instance_id);
    END""",  # noqa: S608 -- constants only
    # A database from before the search: its rows are indexed once (then nothing is left).
    f"""INSERT INTO instance_text (rowid, body)
        SELECT i.ordinal, {_INSTANCE_TEXT.format(row="i")} || ' ' || coalesce((
            SELECT group_concat({_STATUS_TEXT.format(row="s")}, ' ') FROM statuses s
            WHERE s.instance_id = i.id), '')
        FROM instances i WHERE i.ordinal > (SELECT coalesce(max(rowid), 0) FROM instance_text)""",  # noqa: S608 -- constants only
    """CREATE TABLE IF NOT EXISTS task_logs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        instance_id TEXT NOT NULL UNIQUE,
        runner_id TEXT NOT NULL,
        container_id TEXT,
        started_at TEXT,
        ended_at TEXT NOT NULL,
        lines TEXT NOT NULL,
        dropped_lines INTEGER NOT NULL DEFAULT 0,
        dropped_bytes INTEGER NOT NULL DEFAULT 0,
        received_at TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS instance_changes (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        instance_id TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS instance_changes_instance ON instance_changes (instance_id)",
    """CREATE TRIGGER IF NOT EXISTS instance_cancelled AFTER UPDATE OF cancelled ON instances
        WHEN new.cancelled != old.cancelled BEGIN
        INSERT INTO instance_changes (instance_id) VALUES (new.id);
    END""",
    """CREATE TRIGGER IF NOT EXISTS task_log_added AFTER INSERT ON task_logs BEGIN
        INSERT INTO instance_changes (instance_id) VALUES (new.instance_id);
    END""",
    """CREATE TRIGGER IF NOT EXISTS instance_forgotten AFTER DELETE ON instances BEGIN
        DELETE FROM instance_text WHERE rowid = old.ordinal;
        DELETE FROM task_logs WHERE instance_id = old.id;
        DELETE FROM instance_changes WHERE instance_id = old.id;
    END""",
    *TIMES_SCHEMA,
)


"""The pure core: the runner's values and rules, on the standard library only.

Task instances and statuses, the typed errors, the stdin/stdout protocol, what
a task's output means (a state machine that returns events), the catalog and
the JSON Schemas derived from it, the task policy's values, backoff, and what
the worker reports (its observer, its heartbeats, which task a log line is about).
No I/O: everything here is tested without Docker, HTTP or a disk.
"""

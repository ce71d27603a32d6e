"""Each task's log, sent to a server that asks for it (the local server's cockpit shows it).

An extension of the local server only: it says so with a header on its answers
(PlatformClient notices it), and only then does the runner keep a task's log
lines (the last LOG_TAIL_BYTES, runner.core.tasklog) and send them when the task
ended, with the runner id, the container id and the runner's own times. Against
any other platform nothing is kept and nothing is sent: no request is added.

Sending never holds up a task or a status: logs wait in a bounded queue (the
oldest dropped when it is full) for one sender thread of their own, which tries
again, backing off, while the server is down, and gives up on a log that the
server refuses. Logs are not kept on disk: a runner that stops drops what it
could not send within a second or two.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from runner.core.backoff import Schedule
from runner.core.errors import PlatformError
from runner.core.model import TaskInstance
from runner.core.tasklog import LogTail, TaskLog, wall_clock
from runner.core.usage import Usage

log = logging.getLogger(__name__)

MAX_WAITING_LOGS = 64  # at most this many logs wait to be sent (64 KiB each at most)
# While the server is down: try again soon, then every 5 s, so a log follows it back.
LOG_DELIVERY = Schedule(base_s=0.5, cap_s=5.0)
_STOP_WAIT_S = 2.0


class Capture:
    """One task's log while it runs; `end()` hands it to the sender."""

    def __init__(self, instance: TaskInstance, runner_id: str, send: Callable[[TaskLog], None]):
        self.tail: LogTail | None = LogTail()
        self._instance = instance
        self._runner_id = runner_id
        self._send = send
        self._container_id: str | None = None
        self._started_at: str | None = None

    def handed_out(self, container_id: str) -> None:
        self._container_id = container_id
        self._started_at = wall_clock()

    def end(self, ended: float | None = None, usage: Usage | None = None) -> None:
        """The task ended (at `ended`, a monotonic reading, when its terminal status was
        decided; else now): send its log, and what it used if it was measured."""
        tail = self.tail or LogTail()
        self._send(
            TaskLog(
                task_instance_id=self._instance.id,
                runner_id=self._runner_id,
                container_id=self._container_id,
                started_at=self._started_at,
                ended_at=wall_clock(ended),
                lines=tuple(tail.lines()),
                dropped_lines=tail.dropped_lines,
                dropped_bytes=tail.dropped_bytes,
                usage=usage,
            )
        )


class _NoCapture(Capture):
    def __init__(self) -> None:
        self.tail = None

    def handed_out(self, container_id: str) -> None:
        pass

    def end(self, ended: float | None = None, usage: Usage | None = None) -> None:
        pass


class TaskLogs:
    """What the executor asks for each task: a Capture, which keeps nothing unless the
    server takes task logs."""

    def __init__(self, runner_id: str, sender: TaskLogSender | None = None) -> None:
        self._runner_id = runner_id
        self._sender = sender

    def capture(self, instance: TaskInstance) -> Capture:
        if self._sender is None or not self._sender.wanted():
            return NO_CAPTURE
        return Capture(instance, self._runner_id, self._sender.send)


NO_CAPTURE = _NoCapture()
NO_TASK_LOGS = TaskLogs("")


class TaskLogSender:
    """`start()` the sender thread; `send()` never blocks; `stop()` ends it."""

    def __init__(
        self,
        post: Callable[[Mapping[str, Any]], None],
        wanted: Callable[[], bool],
        *,
        clean: Callable[[str], str] = str,
        max_waiting: int = MAX_WAITING_LOGS,
        schedule: Schedule = LOG_DELIVERY,
    ) -> None:
        self._post = post
        self.wanted = wanted  # whether the server takes task logs (it said so)
        self._clean = clean  # secrets out of the text
        self._waiting: deque[TaskLog] = deque(maxlen=max_waiting)
        self._schedule = schedule
        self._cond = threading.Condition()
        self._stopping = threading.Event()
        self._failing: str | None = None
        self._refusing = False
        self.sent = 0
        self.dropped = 0
        self._thread = threading.Thread(target=self._run, name="task-log-sender", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def send(self, task_log: TaskLog) -> None:
        with self._cond:
            if len(self._waiting) == self._waiting.maxlen:
                self.dropped += 1  # the oldest goes: the server has been down a while
            self._waiting.append(task_log)
            self._cond.notify()

    def stop(self, timeout_s: float = _STOP_WAIT_S) -> None:
        """Send what waits for at most `timeout_s`; drop the rest."""
        with self._cond:
            self._cond.notify()
        if self._thread.is_alive():
            self._thread.join(timeout_s)
        self._stopping.set()
        with self._cond:
            self._cond.notify()
            left = len(self._waiting)
        if self._thread.is_alive():
            self._thread.join(_STOP_WAIT_S)
        if left:
            log.info("%d task log(s) not sent to the server (they are not kept)", left)

    def _run(self) -> None:
        while not self._stopping.is_set():
            with self._cond:
                if not self._waiting:
                    self._cond.wait(1.0)
                    continue
                task_log = self._waiting[0]
            if self._deliver(task_log):
                with self._cond:
                    if self._waiting and self._waiting[0] is task_log:
                        self._waiting.popleft()

    def _deliver(self, task_log: TaskLog) -> bool:
        """Post until accepted or refused for good (True); False if stopped meanwhile."""
        body = self._body(task_log)
        backoff = self._schedule.backoff()
        while not self._stopping.is_set():
            try:
                self._post(body)
            except PlatformError as exc:
                if not exc.transient:
                    self._refused(str(exc))
                    return True
                self._failed(str(exc))
                self._stopping.wait(backoff.next())
                continue
            except Exception:  # a bug must not stop the logs behind this one
                log.exception("task log of %s not sent", task_log.task_instance_id)
                return True
            self._recovered()
            self._refusing = False
            self.sent += 1
            return True
        return False

    def _body(self, task_log: TaskLog) -> dict[str, Any]:
        body = task_log.to_wire()
        body["lines"] = [[stream, self._clean(text)] for stream, text in body["lines"]]
        return body

    def _refused(self, why: str) -> None:
        """Said once, until a log is accepted again (a server that stopped taking them
        would otherwise have every task say so)."""
        self.dropped += 1
        if not self._refusing:
            log.warning("a task log was refused and dropped: %s (more are not logged)", why)
        self._refusing = True

    def _failed(self, why: str) -> None:
        if self._failing is None:
            log.warning("task logs cannot be sent (trying again): %s", why)
        self._failing = why

    def _recovered(self) -> None:
        if self._failing is not None:
            log.info("task logs are sent again")
        self._failing = None

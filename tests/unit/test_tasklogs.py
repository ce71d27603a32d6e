"""Each task's log: kept bounded while the task runs, sent after it ended to a server that
takes logs, never in the way of the task or its statuses, and nothing at all otherwise."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from runner.contracts import Contracts
from runner.core.backoff import Schedule
from runner.core.errors import PlatformError
from runner.core.model import TaskInstance
from runner.core.protocol import Stream
from runner.core.tasklog import MAX_LINE_CHARS, LogTail, TaskLog, wall_clock
from runner.core.taskrun import TaskRun
from runner.worker.tasklogs import NO_CAPTURE, TaskLogs, TaskLogSender
from tests.unit.fakes import FakeContainer, message
from tests.unit.test_executor import double, make
from tests.unit.test_taskrun import accept_outputs, caps, line

FAST = Schedule(base_s=0.01, cap_s=0.02, jitter=0.0)


def test_the_tail_keeps_the_newest_lines_within_its_bytes() -> None:
    tail = LogTail(max_bytes=100)
    for k in range(30):
        tail.add(Stream.STDERR, f"line {k:02d}")  # 7 characters and a newline: 8 bytes
    kept = tail.lines()
    assert kept[-1] == ("stderr", "line 29") and len(kept) == 12
    assert tail.dropped_lines == 18 and tail.dropped_bytes == 18 * 8
    tail.add(Stream.STDOUT, "é" * 10)
    assert tail.lines()[-1] == ("stdout", "é" * 10)


def test_a_very_long_line_is_cut_saying_so() -> None:
    tail = LogTail()
    tail.add(Stream.STDERR, "x" * (MAX_LINE_CHARS + 5))
    assert tail.lines()[0][1].endswith("... <5 more characters>")


def test_the_run_keeps_every_free_form_line_but_no_message() -> None:
    tail = LogTail()
    run = TaskRun(
        "i1",
        check_message=Contracts().check_message,
        check_outputs=accept_outputs,
        limits=caps(max_logged_lines=3),
        log=tail,
    )
    run.feed(Stream.STDOUT, b"hello\n")
    run.feed(Stream.STDOUT, line({"type": "notify", "status": "InProgress", "message": "m"}))
    run.feed(Stream.STDERR, b"".join(b"err %d\n" % k for k in range(10)))
    run.feed(Stream.STDOUT, line({"type": "result", "outputs": {}}))
    run.end(0)
    assert tail.lines() == [("stdout", "hello"), *(("stderr", f"err {k}") for k in range(10))]


def test_the_log_is_sent_with_the_runner_container_and_times() -> None:
    sent: list[TaskLog] = []
    sender = TaskLogSender(lambda body: None, lambda: True)
    sender.send = sent.append  # type: ignore[method-assign]
    container = FakeContainer(
        [
            [(Stream.STDERR, b"Traceback (most recent call last):\nValueError: no\n")],
            [message({"type": "notify", "status": "Error", "message": "ValueError: no"})],
            None,
        ]
    )
    executor, _, sink = make([container])
    executor._logs = TaskLogs("r1", sender)  # as the runner builds it
    executor.execute(double(), threading.Event())
    [log] = sent
    assert (log.task_instance_id, log.runner_id, log.container_id) == ("i1", "r1", "c0ffee")
    assert log.lines == (
        ("stderr", "Traceback (most recent call last):"),
        ("stderr", "ValueError: no"),
    )
    assert log.started_at is not None
    started, ended = (datetime.fromisoformat(t) for t in (log.started_at, log.ended_at))
    assert 0 <= (ended - started).total_seconds() < 5
    assert sink.statuses[-1].status == "Error"


def test_nothing_is_kept_or_sent_for_a_server_that_takes_no_logs() -> None:
    sender = TaskLogSender(lambda body: None, lambda: False)
    assert TaskLogs("r1", sender).capture(double()) is NO_CAPTURE
    assert TaskLogs("r1").capture(double()) is NO_CAPTURE
    assert NO_CAPTURE.tail is None


def task_log(instance_id: str = "i1", text: str = "boom") -> TaskLog:
    return TaskLog(instance_id, "r1", "c1", wall_clock(), wall_clock(), (("stderr", text),))


class Server:
    """Answers posts as scripted: an exception to raise, or None to accept."""

    def __init__(self, *answers: Exception | None) -> None:
        self.answers = list(answers)
        self.received: list[Mapping[str, Any]] = []
        self.tries = 0

    def post(self, body: Mapping[str, Any]) -> None:
        self.tries += 1
        answer = self.answers.pop(0) if self.answers else None
        if answer is not None:
            raise answer
        self.received.append(body)


def until(check: Any, timeout_s: float = 5) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_the_sender_tries_again_while_the_server_is_down() -> None:
    down = PlatformError("cannot reach it", transient=True)
    server = Server(down, down, down)
    sender = TaskLogSender(server.post, lambda: True, schedule=FAST)
    sender.start()
    sender.send(task_log())
    until(lambda: server.received)
    sender.stop()
    assert server.tries == 4
    assert json.loads(json.dumps(server.received[0]))["lines"] == [["stderr", "boom"]]


def test_a_refused_log_is_dropped_and_the_next_one_sent() -> None:
    server = Server(PlatformError("409: never handed out", transient=False))
    sender = TaskLogSender(server.post, lambda: True, schedule=FAST)
    sender.start()
    sender.send(task_log("a"))
    sender.send(task_log("b"))
    until(lambda: server.received)
    sender.stop()
    assert [b["taskInstanceId"] for b in server.received] == ["b"]


def test_send_never_blocks_and_keeps_the_newest_when_full() -> None:
    server = Server()
    sender = TaskLogSender(server.post, lambda: True, max_waiting=3, clean=str.upper)
    started = time.monotonic()
    for k in range(100):  # no thread yet: they wait
        sender.send(task_log(str(k)))
    assert time.monotonic() - started < 0.5
    assert sender.dropped == 97
    sender.start()
    until(lambda: len(server.received) == 3)
    sender.stop()
    assert [b["taskInstanceId"] for b in server.received] == ["97", "98", "99"]
    assert server.received[0]["lines"] == [["stderr", "BOOM"]]  # cleaned (secrets out)


def test_stop_gives_up_on_a_server_that_stays_down() -> None:
    server = Server(*[PlatformError("down", transient=True)] * 1000)
    sender = TaskLogSender(server.post, lambda: True, schedule=FAST)
    sender.start()
    sender.send(task_log())
    started = time.monotonic()
    sender.stop(timeout_s=0.2)
    assert time.monotonic() - started < 3
    assert server.received == []


def test_a_capture_ends_at_the_terminal_status_not_later() -> None:
    sent: list[TaskLog] = []
    capture = TaskLogs("r1", _Wanting(sent)).capture(TaskInstance("i9", "n", "t"))
    capture.handed_out("c9")
    decided = time.monotonic()
    time.sleep(0.2)
    capture.end(decided)
    ended = datetime.fromisoformat(sent[0].ended_at)
    assert abs((datetime.fromisoformat(wall_clock()) - ended).total_seconds() - 0.2) < 0.1


class _Wanting(TaskLogSender):
    def __init__(self, sent: list[TaskLog]) -> None:
        super().__init__(lambda body: None, lambda: True)
        self.sent_logs = sent

    def send(self, task_log: TaskLog) -> None:
        self.sent_logs.append(task_log)

"""Status delivery: in order, off the task threads, retried while the platform fails."""

from __future__ import annotations

import threading
import time

from runner.backoff import Backoff
from runner.errors import PlatformError
from runner.model import TaskStatus
from runner.reporting import StatusSender


class FlakyPlatform:
    def __init__(self, failures: list[PlatformError | None]) -> None:
        self.failures = failures
        self.received: list[TaskStatus] = []
        self.attempts = 0

    def post(self, status: TaskStatus) -> None:
        self.attempts += 1
        if self.failures:
            failure = self.failures.pop(0)
            if failure is not None:
                raise failure
        self.received.append(status)


def fast() -> Backoff:
    return Backoff(base_s=0.001, cap_s=0.01)


def test_statuses_arrive_in_order_through_transient_failures() -> None:
    down = PlatformError("503", status=503, transient=True)
    platform = FlakyPlatform([down, down, None, down])
    sender = StatusSender(platform.post, backoff=fast())
    sent = [TaskStatus("a", "InProgress", str(i)) for i in range(5)] + [
        TaskStatus("a", "Completed")
    ]
    for status in sent:
        sender.submit(status)
    assert sender.close(5) == 0
    assert platform.received == sent


def test_a_permanent_refusal_is_dropped_and_the_rest_still_delivered() -> None:
    platform = FlakyPlatform([PlatformError("404 unknown instance", status=404, transient=False)])
    sender = StatusSender(platform.post, backoff=fast())
    sender.submit(TaskStatus("gone", "Completed"))
    sender.submit(TaskStatus("b", "Completed"))
    assert sender.close(5) == 0
    assert platform.received == [TaskStatus("b", "Completed")]


def test_submit_does_not_wait_for_the_platform() -> None:
    gate = threading.Event()
    sender = StatusSender(lambda status: gate.wait(5) and None, backoff=fast())
    started = time.monotonic()
    for i in range(100):
        sender.submit(TaskStatus(i, "Completed"))
    assert time.monotonic() - started < 0.5
    gate.set()
    assert sender.close(5) == 0


def test_close_gives_up_after_its_timeout_and_counts_what_is_left() -> None:
    platform = FlakyPlatform([PlatformError("down", transient=True)] * 10_000)
    sender = StatusSender(platform.post, backoff=fast())
    sender.submit(TaskStatus("a", "Completed"))
    sender.submit(TaskStatus("b", "Completed"))
    assert sender.close(0.2) == 2


def test_an_unexpected_error_drops_one_status_but_not_the_sender() -> None:
    received: list[TaskStatus] = []

    def post(status: TaskStatus) -> None:
        if status.task_instance_id == "bad":
            raise TypeError("not serializable")
        received.append(status)

    sender = StatusSender(post, backoff=fast())
    sender.submit(TaskStatus("bad", "Completed"))
    sender.submit(TaskStatus("good", "Completed"))
    assert sender.close(5) == 0
    assert received == [TaskStatus("good", "Completed")]

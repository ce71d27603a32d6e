"""Status delivery: durable, in order, off the task threads, retried while the platform fails."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from runner.core.backoff import Backoff
from runner.core.errors import AuthError, PlatformError
from runner.core.heartbeat import BEAT_S
from runner.core.model import TaskStatus
from runner.core.taskcontext import TaskFields, about_task, remembered
from runner.ops.logs import TaskFieldsFilter
from runner.state.outbox import Outbox
from runner.state.store import StateStore
from runner.worker.delivery import StatusSender
from tests.unit.fakes import RecordingObserver

PLATFORM = "http://platform.test"


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


def started(post: Callable[[TaskStatus], None], outbox: Outbox) -> StatusSender:
    sender = StatusSender(post, outbox, backoff=fast())
    sender.start()
    return sender


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    store = StateStore(tmp_path, "r1", server_url=PLATFORM, max_statuses=100)
    yield store.outbox
    store.close()


def test_statuses_arrive_in_order_through_transient_failures(outbox: Outbox) -> None:
    down = PlatformError("503", status=503, transient=True)
    platform = FlakyPlatform([down, down, None, down])
    sender = started(platform.post, outbox)
    sent = [TaskStatus("a", "InProgress", str(i)) for i in range(5)] + [
        TaskStatus("a", "Completed")
    ]
    for status in sent:
        sender.submit(status)
    assert sender.stop(5) == 0
    assert platform.received == sent


def test_a_permanent_refusal_is_dropped_and_the_rest_still_delivered(outbox: Outbox) -> None:
    platform = FlakyPlatform([PlatformError("404 unknown instance", status=404, transient=False)])
    sender = started(platform.post, outbox)
    sender.submit(TaskStatus("gone", "Completed"))
    sender.submit(TaskStatus("b", "Completed"))
    assert sender.stop(5) == 0
    assert platform.received == [TaskStatus("b", "Completed")]


def test_submit_does_not_wait_for_the_platform(outbox: Outbox) -> None:
    gate = threading.Event()
    sender = started(lambda status: gate.wait(5) and None, outbox)
    began = time.monotonic()
    for i in range(100):
        sender.submit(TaskStatus(i, "Completed"))
    assert time.monotonic() - began < 0.5
    gate.set()
    assert sender.stop(5) == 0


def test_close_gives_up_after_its_timeout_and_counts_what_is_left(outbox: Outbox) -> None:
    platform = FlakyPlatform([PlatformError("down", transient=True)] * 10_000)
    sender = started(platform.post, outbox)
    sender.submit(TaskStatus("a", "Completed"))
    sender.submit(TaskStatus("b", "Completed"))
    assert sender.stop(0.2) == 2


def test_an_unexpected_error_drops_one_status_but_not_the_sender(outbox: Outbox) -> None:
    received: list[TaskStatus] = []

    def post(status: TaskStatus) -> None:
        if status.task_instance_id == "bad":
            raise TypeError("not serializable")
        received.append(status)

    sender = started(post, outbox)
    sender.submit(TaskStatus("bad", "Completed"))
    sender.submit(TaskStatus("good", "Completed"))
    assert sender.stop(5) == 0
    assert received == [TaskStatus("good", "Completed")]


def test_undelivered_statuses_survive_a_crash_and_go_out_at_the_next_start(
    tmp_path: Path,
) -> None:
    first = StateStore(tmp_path, "r1", server_url=PLATFORM, max_statuses=100)
    failing = FlakyPlatform([PlatformError("down", transient=True)] * 10_000)
    down = started(failing.post, first.outbox)
    sent = [TaskStatus(7, "InProgress", "half", progress="0.5"), TaskStatus(7, "Completed")]
    for status in sent:
        down.submit(status)
    assert down.stop(0.1) == 2
    first.close()  # what a SIGKILL leaves: the rows on disk

    again = StateStore(tmp_path, "r1", server_url=PLATFORM, max_statuses=100)
    platform = FlakyPlatform([])
    assert started(platform.post, again.outbox).stop(5) == 0
    assert platform.received == sent  # ids keep their JSON type
    again.close()


def test_a_full_outbox_drops_progress_keeps_terminal_statuses_and_blocks(tmp_path: Path) -> None:
    store = StateStore(tmp_path, "small", server_url=PLATFORM, max_statuses=2)
    box = store.outbox
    gate = threading.Event()
    sender = started(lambda status: gate.wait(5) and None, box)
    for i in range(5):
        sender.submit(TaskStatus("a", "InProgress", str(i)))
    sender.submit(TaskStatus("a", "Completed"))
    assert box.pending() == 3  # two progress statuses, then the terminal one
    assert "the status outbox is full" in (sender.blocked() or "")
    gate.set()
    assert sender.stop(5) == 0
    assert sender.blocked() is None
    store.close()


def test_failing_delivery_blocks_new_work_until_it_recovers(outbox: Outbox) -> None:
    healed = threading.Event()

    def post(status: TaskStatus) -> None:
        if not healed.is_set():
            raise PlatformError("the platform answered 503", status=503, transient=True)

    sender = started(post, outbox)
    sender.submit(TaskStatus("a", "Completed"))
    deadline = time.monotonic() + 5
    while sender.blocked() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sender.blocked() == "statuses cannot be delivered (1 waiting): the platform answered 503"
    healed.set()
    assert sender.stop(5) == 0
    assert sender.blocked() is None


def test_a_refused_key_is_retried_not_dropped(outbox: Outbox) -> None:
    platform = FlakyPlatform([AuthError("key refused (401)", status=401)] * 3)
    sender = started(platform.post, outbox)
    sender.submit(TaskStatus("a", "Completed"))
    assert sender.stop(5) == 0
    assert platform.received == [TaskStatus("a", "Completed")] and platform.attempts == 4


def test_a_status_the_outbox_cannot_keep_is_posted_directly(tmp_path: Path) -> None:
    store = StateStore(tmp_path, "r1", server_url=PLATFORM, max_statuses=100)
    platform = FlakyPlatform([])
    sender = started(platform.post, store.outbox)
    store.close()  # every write now fails, as on a full or broken disk
    sender.submit(TaskStatus("a", "Completed"))
    assert platform.received == [TaskStatus("a", "Completed")]
    sender.stop(0.1)  # its thread, which cannot read the outbox either, ends too


def test_failed_posts_are_reported_and_lines_about_them_name_the_task(
    outbox: Outbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.handler.addFilter(TaskFieldsFilter())
    observer = RecordingObserver()
    down = PlatformError("HTTP 503", status=503, transient=True)
    platform = FlakyPlatform([down, down, PlatformError("HTTP 404", status=404, transient=False)])
    sender = StatusSender(platform.post, outbox, backoff=fast(), observer=observer)
    with about_task("sample", "double", "i-9"):
        pass  # the executor ran it; the sender has only its id
    sender.start()
    sender.submit(TaskStatus("i-9", "Completed"))
    assert sender.stop(5) == 0
    assert len(observer.of("platform_error")) == 3
    about = {r.getMessage(): getattr(r, "xc_task", None) for r in caplog.records}
    task = TaskFields("i-9", "sample", "double")
    assert about == {
        "statuses cannot be delivered: HTTP 503; they wait in the outbox, in order, and "
        "polling pauses": task,
        "status dropped: HTTP 404 (task instance i-9, Completed: '')": task,
    }


def test_a_task_is_forgotten_once_its_terminal_status_is_delivered(outbox: Outbox) -> None:
    platform = FlakyPlatform([])
    sender = started(platform.post, outbox)
    before = remembered()
    for number in range(50):
        with about_task("sample", "simple", f"f-{number}"):
            sender.submit(TaskStatus(f"f-{number}", "InProgress"))
            sender.submit(TaskStatus(f"f-{number}", "Completed"))
    assert sender.stop(5) == 0
    assert len(platform.received) == 100
    assert remembered() == before


def test_the_sender_is_alive_while_it_runs_and_waits_and_not_when_stuck_or_stopped(
    outbox: Outbox,
) -> None:
    gate = threading.Event()
    posts: list[TaskStatus] = []

    def post(status: TaskStatus) -> None:
        posts.append(status)
        if len(posts) == 1:
            raise PlatformError("down", transient=True)
        gate.wait(10)  # the second attempt hangs

    sender = StatusSender(post, outbox, backoff=Backoff(base_s=2.5 * BEAT_S, cap_s=3, jitter=0))
    assert sender.trouble(2 * BEAT_S) == "the status sender is not running"
    sender.start()
    sender.submit(TaskStatus("a", "Completed"))
    time.sleep(2 * BEAT_S)  # waiting to try again: beating
    assert len(posts) == 1 and sender.trouble(1.5 * BEAT_S) is None
    time.sleep(2.5 * BEAT_S)  # the second post hangs: silent
    assert len(posts) == 2
    stuck = sender.trouble(1.5 * BEAT_S) or ""
    assert stuck.startswith("the status sender has shown no sign of life for "), stuck
    gate.set()
    assert sender.stop(5) == 0
    assert sender.trouble(1.5 * BEAT_S) == "the status sender is not running"

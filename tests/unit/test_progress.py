"""Progress notifications cost what log lines cost: at most one is posted per interval, and
the ones a later one replaces are skipped before they are read in full."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from runner.contracts import Contracts
from runner.core.model import TaskStatus
from runner.core.policy import TaskPolicy
from runner.core.protocol import LineSplitter, Overlong, Stream
from runner.core.taskrun import Event, Finish, Relay, TaskRun

CONTRACTS = Contracts()
INTERVAL_S = 0.1


class Counted:
    """The message check, counting the messages read in full."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, message: Mapping[str, Any]) -> str | None:
        self.calls += 1
        return CONTRACTS.check_message(message)


def make_run(check: Any = CONTRACTS.check_message) -> TaskRun:
    return TaskRun(
        "i",
        check_message=check,
        check_outputs=lambda outputs: (dict(outputs), None),
        limits=TaskPolicy().output_limits(),
        progress_interval_s=INTERVAL_S,
    )


def progress(n: int, **more: Any) -> bytes:
    notify = {"type": "notify", "status": "InProgress", "message": str(n), **more}
    return json.dumps(notify).encode() + b"\n"


RESULT = json.dumps({"type": "result", "outputs": {}}).encode() + b"\n"


def relayed(events: list[Event]) -> list[str]:
    return [e.status.message for e in events if isinstance(e, Relay)]


def test_progress_faster_than_the_interval_keeps_only_the_latest() -> None:
    run = make_run()
    assert relayed(run.feed(Stream.STDOUT, progress(0), now=0.0)) == ["0"]
    assert run.feed(Stream.STDOUT, progress(1), now=0.01) == []
    assert run.feed(Stream.STDOUT, progress(2), now=0.02) == []  # replaces 1
    assert run.due(0.05) == []
    assert relayed(run.due(0.11)) == ["2"]
    assert run.feed(Stream.STDOUT, progress(3), now=0.15) == []
    events = run.feed(Stream.STDOUT, RESULT, now=0.16)  # the one waiting goes first
    assert relayed(events) == ["3"] and isinstance(events[-1], Finish)
    assert events[-1].status.status == "Completed"
    assert run.progress.skipped == 1


def test_skipped_progress_is_never_read_in_full() -> None:
    check = Counted()
    run = make_run(check)
    lines = b"".join(progress(n, progressPercentage=n / 1000) for n in range(1000))
    garbled = b'{"type": "notify", "status": "InProgress", "progressPercentage": 7}\n'
    events = run.feed(Stream.STDOUT, lines + garbled + progress(1000), now=0.0)
    assert relayed(events) == ["0"]
    assert check.calls == 1  # the one relayed; 1,000 skipped unread, the garbled one too
    assert relayed(run.due(0.2)) == ["1000"] and check.calls == 2
    assert run.progress.skipped == 1000


def test_a_malformed_progress_still_waiting_fails_the_task_before_its_result() -> None:
    run = make_run()
    run.feed(Stream.STDOUT, progress(0), now=0.0)
    bad = b'{"type": "notify", "status": "InProgress", "progressPercentage": 7}\n'
    events = run.feed(Stream.STDOUT, bad + RESULT, now=0.01)
    [finish] = [e for e in events if isinstance(e, Finish)]
    assert finish.status.status == "Error" and "progressPercentage" in finish.status.message
    assert finish.reason == "protocol"


def test_a_progress_waiting_is_posted_before_an_error_decided_outside() -> None:
    run = make_run()
    run.feed(Stream.STDOUT, progress(0) + progress(1), now=0.0)
    events = run.fail("the task timed out after 1 s", "timeout")
    assert relayed(events) == ["1"]
    assert events[-1] == Finish(TaskStatus("i", "Error", "the task timed out after 1 s"), "timeout")


def test_a_line_that_only_starts_like_a_progress_is_read_for_what_it_is() -> None:
    run = make_run()
    run.feed(Stream.STDOUT, progress(0), now=0.0)
    # its last "type" wins, as JSON readers take it: a result, not a progress to skip
    twice = b'{"type": "notify", "status": "InProgress", "type": "result", "outputs": {}}\n'
    events = run.feed(Stream.STDOUT, twice, now=0.01)
    assert isinstance(events[-1], Finish) and events[-1].status.status == "Completed"
    escaped = b'{"type": "notify", "status": "InProgress", "\\u0074ype": "result"}\n'
    other = make_run()
    other.feed(Stream.STDOUT, progress(0), now=0.0)
    assert isinstance(other.feed(Stream.STDOUT, escaped, now=0.01)[-1], Finish)


def cpu_seconds(lines: list[bytes]) -> float:
    data = b"".join(lines)
    run = make_run()
    started = time.process_time()
    for start in range(0, len(data), 65536):
        run.feed(Stream.STDOUT, data[start : start + 65536], now=time.monotonic())
    run.feed(Stream.STDOUT, RESULT, now=time.monotonic())
    return time.process_time() - started


def test_100000_progress_lines_cost_what_log_lines_cost() -> None:
    count = 100_000
    logs = [f"step {n} of the work, a log line\n".encode() for n in range(count)]
    plain = [progress(n, progressPercentage=n / count) for n in range(count)]
    escaped = [progress(n, message=f"étape {n}") for n in range(count)]  # \u00e9: read, unchecked
    log_s, plain_s, escaped_s = cpu_seconds(logs), cpu_seconds(plain), cpu_seconds(escaped)
    print(
        f"\n100,000 lines: logs {log_s:.2f} s, progress {plain_s:.2f} s, "
        f"progress with escapes {escaped_s:.2f} s of CPU"
    )
    assert plain_s < 2 * log_s + 0.1
    assert escaped_s < 5 * log_s + 0.1


def reference_lines(data: bytes, limit: int) -> list[bytes | Overlong]:
    """What splitting `data` into lines means, whatever the chunks: each line, or Overlong
    in its place when it is longer than `limit`; a last line without its newline too."""
    *lines, last = data.split(b"\n")
    out: list[bytes | Overlong] = [x if len(x) <= limit else Overlong(limit) for x in lines]
    return out + ([last] if 0 < len(last) <= limit else [Overlong(limit)] if last else [])


@settings(max_examples=300, deadline=None)
@given(
    st.binary(max_size=200).map(lambda b: b.replace(b"\x00", b"\n")),
    st.lists(st.integers(min_value=1, max_value=40), max_size=20),
    st.integers(min_value=1, max_value=12),
)
def test_lines_are_split_alike_whatever_the_chunks(
    data: bytes, cuts: list[int], limit: int
) -> None:
    splitter, out, start = LineSplitter(limit), [], 0
    for size in [*cuts, len(data)]:
        out += splitter.feed(data[start : start + size])
        start += size
    assert out + splitter.flush() == reference_lines(data, limit)

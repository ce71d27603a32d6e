"""How a task's output becomes statuses: the pure state machine."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

import pytest

from runner.contracts import Contracts
from runner.core.model import TaskStatus
from runner.core.policy import TaskPolicy
from runner.core.protocol import Stream
from runner.core.taskrun import Finish, Kill, Log, OutputLimits, Relay, TaskRun

CONTRACTS = Contracts()


def accept_outputs(outputs: Mapping[str, Any]) -> tuple[dict[str, Any], str | None]:
    return dict(outputs), None


def caps(**changes: int) -> OutputLimits:
    """The default policy's output limits, with `changes`."""
    return dataclasses.replace(TaskPolicy().output_limits(), **changes)


def make_run(limits: OutputLimits | None = None, check_outputs: Any = accept_outputs) -> TaskRun:
    return TaskRun(
        "id1",
        check_message=CONTRACTS.check_message,
        check_outputs=check_outputs,
        limits=limits or caps(),
    )


def line(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj).encode() + b"\n"


def test_progress_is_relayed_and_the_result_finishes() -> None:
    run = make_run()
    events = run.feed(
        Stream.STDOUT,
        line(
            {"type": "notify", "status": "InProgress", "message": "1", "progressPercentage": "0.5"}
        ),
    )
    assert events == [Relay(TaskStatus("id1", "InProgress", "1", progress="0.5"))]
    events = run.feed(Stream.STDOUT, line({"type": "result", "outputs": {"a": "b"}}))
    assert events == [Finish(TaskStatus("id1", "Completed", "", output_values={"a": "b"}))]
    assert run.end(0) == []


def test_the_first_terminal_message_wins() -> None:
    run = make_run()
    first = run.feed(Stream.STDOUT, line({"type": "notify", "status": "Error", "message": "no"}))
    assert first == [Finish(TaskStatus("id1", "Error", "no"), "task")]
    later = run.feed(
        Stream.STDOUT,
        line({"type": "result", "outputs": {}}) + line({"type": "notify", "status": "InProgress"}),
    )
    assert all(isinstance(e, Log) for e in later)
    assert run.end(1) == []
    assert run.terminal == TaskStatus("id1", "Error", "no")


def test_exit_without_result_is_an_error_with_code_and_stderr_tail() -> None:
    run = make_run(caps(stderr_tail_bytes=12))
    run.feed(Stream.STDERR, b"Traceback...\nValueError: boom\n")
    run.feed(Stream.STDOUT, b"just a log line\n")
    events = run.end(3)
    assert events == [
        Finish(
            TaskStatus(
                "id1",
                "Error",
                "the task exited with code 3 without sending a result; "
                "stderr ends with: Error: boom",
            ),
            "task",
        )
    ]


def test_a_last_line_without_newline_still_counts() -> None:
    run = make_run()
    run.feed(Stream.STDOUT, b'{"type":"result","outputs":{"x":"1"}}')
    assert run.terminal is None
    assert run.end(0) == [Finish(TaskStatus("id1", "Completed", "", output_values={"x": "1"}))]


def test_a_message_split_across_reads_is_reassembled() -> None:
    run = make_run()
    data = line({"type": "result", "outputs": {"k": "v" * 100}})
    events = [e for i in range(0, len(data), 7) for e in run.feed(Stream.STDOUT, data[i : i + 7])]
    assert [type(e) for e in events] == [Finish]


def test_invalid_outputs_end_in_an_error_naming_them() -> None:
    run = make_run(check_outputs=lambda outputs: ({}, "output: missing 'nbr_out'"))
    events = run.feed(Stream.STDOUT, line({"type": "result", "outputs": {}}))
    assert events == [
        Finish(TaskStatus("id1", "Error", "invalid result: output: missing 'nbr_out'"), "output")
    ]


def test_an_invalid_message_ends_the_task_with_its_problem() -> None:
    run = make_run()
    events = run.feed(Stream.STDOUT, line({"type": "notify", "status": "Done"}))
    assert len(events) == 1 and isinstance(events[0], Finish)
    assert events[0].status.message == (
        "invalid notify message: status must be 'InProgress' or 'Error', not 'Done'"
    )


def test_garbage_on_stdout_is_only_logged() -> None:
    run = make_run()
    events = run.feed(Stream.STDOUT, b"\xff\xfe\n[1]\n{oops\n")
    assert [type(e) for e in events] == [Log, Log, Log]
    assert run.terminal is None


def test_total_output_over_the_cap_kills_with_a_clear_error() -> None:
    run = make_run(caps(max_output_bytes=100))
    assert run.feed(Stream.STDERR, b"x" * 60) == []
    events = run.feed(Stream.STDOUT, b"y" * 60)
    assert events[0] == Finish(
        TaskStatus(
            "id1",
            "Error",
            "output limit exceeded: the task wrote more than 100 bytes to stdout and stderr",
        ),
        "output",
    )
    assert isinstance(events[1], Kill)
    assert run.feed(Stream.STDOUT, line({"type": "result"})) == []


def test_a_result_over_the_size_limit_is_an_error_and_not_posted() -> None:
    run = make_run(caps(max_result_bytes=100))
    events = run.feed(Stream.STDOUT, line({"type": "result", "outputs": {"x": "y" * 200}}))
    assert len(events) == 1 and isinstance(events[0], Finish)
    status = events[0].status
    assert status.status == "Error" and status.output_values is None
    assert status.message.startswith("result too large: the result message is ")
    assert status.message.endswith("over the limit of 100 bytes; it was not posted")
    small = make_run(caps(max_result_bytes=100))
    [done] = small.feed(Stream.STDOUT, line({"type": "result", "outputs": {"x": "y"}}))
    assert isinstance(done, Finish) and done.status.status == "Completed"


def test_an_endless_stdout_line_kills_but_a_long_stderr_line_is_only_elided() -> None:
    run = make_run(caps(max_line_bytes=10))
    assert run.feed(Stream.STDERR, b"e" * 50 + b"\n") == [
        Log(Stream.STDERR, "<a stderr line longer than 10 bytes>")
    ]
    events = run.feed(Stream.STDOUT, b"o" * 11)
    assert isinstance(events[0], Finish) and "a stdout line is longer than 10 bytes" in (
        events[0].status.message
    )
    assert isinstance(events[1], Kill)


def test_logging_of_task_output_is_bounded() -> None:
    run = make_run(caps(max_logged_lines=3))
    events = run.feed(Stream.STDERR, b"l\n" * 10)
    assert [e.text for e in events if isinstance(e, Log)] == [
        "l",
        "l",
        "l",
        "<further output of this task is not logged>",
    ]


def test_oom_and_failures_do_not_override_a_decided_terminal() -> None:
    run = make_run()
    assert run.end(137, oom_killed=True, memory_bytes=512 * 1024**2) == [
        Finish(
            TaskStatus("id1", "Error", "the task ran out of memory (limit 512 MiB) and was killed"),
            "memory",
        )
    ]
    assert run.fail("timed out", "timeout") == []


def test_long_status_messages_are_cut() -> None:
    run = make_run(caps(max_message_chars=10))
    [relay] = run.feed(
        Stream.STDOUT, line({"type": "notify", "status": "InProgress", "message": "m" * 25})
    )
    assert isinstance(relay, Relay)
    assert relay.status.message == "m" * 10 + "... (15 more characters cut by the runner)"


def posted_only_one_error(run: TaskRun, data: bytes) -> TaskStatus:
    """Feeds `data`, then a result and the exit: the one status decided is an Error."""
    events = run.feed(Stream.STDOUT, data + line({"type": "result", "outputs": {}}))
    events += run.end(0)
    finishes = [e.status for e in events if isinstance(e, Finish)]
    assert len(finishes) == 1 and finishes[0].status == "Error", events
    assert not [e for e in events if isinstance(e, Relay)]
    return finishes[0]


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (rb'{"type":"notify","status":"InProgress","message":"\udfff"}', "message.message: not"),
        (rb'{"type":"notify","status":"Error","message":"\udfff"}', "message.message: not"),
        (rb'{"type":"result","outputs":{"text":"\udfff"}}', "message.outputs.text: not valid"),
        (rb'{"type":"result","outputs":{"d":{"\udfff":1}}}', r"message.outputs.d.\udfff: the"),
        (b'{"type":"notify","status":"InProgress","progressPercentage":NaN}', "NaN is not"),
        (b'{"type":"notify","status":"InProgress","progressPercentage":1e999}', "too large"),
        (b'{"type":"notify","status":"InProgress","progressPercentage":150}', "150 is not"),
        (b'{"type":"notify","status":"InProgress","progressPercentage":-5}', "-5 is not"),
        (b'{"type":"notify","status":"InProgress","progressPercentage":"abc"}', "'abc' is not"),
        (b'{"type":"notify","status":"InProgress","progressPercentage":"150"}', "'150' is not"),
        (
            b'{"type":"result","outputs":{"d":' + b"[" * 100_000 + b"]" * 100_000 + b"}}",
            "nested deeper than the limit of 32 levels",
        ),
    ],
)
def test_a_message_unfit_to_post_is_the_one_error_and_nothing_of_it_is_posted(
    data: bytes, says: str
) -> None:
    status = posted_only_one_error(make_run(), data + b"\n")
    assert says in status.message
    status.message.encode("utf-8")


def test_deep_and_odd_lines_that_are_no_message_are_only_logged() -> None:
    run = make_run()
    deep_log = b'{"log":' + b"[" * 100_000 + b"]" * 100_000 + b"}\n"
    events = run.feed(Stream.STDOUT, deep_log + rb'{"x":"\udfff","y":NaN}' + b"\n")
    assert [type(e) for e in events] == [Log, Log]
    assert len(events[0].text) < 1100  # type: ignore[union-attr]
    assert run.terminal is None


def test_defaults_the_catalog_fills_in_are_checked_as_posted() -> None:
    """An output default from the catalog (image text too) is checked like the task's."""
    deep: Any = "x"
    for _ in range(31):
        deep = [deep]
    for bad, says in (
        ({"d": "\udfff"}, "invalid result: output.d: not valid Unicode text"),
        (
            {"d": deep},
            "invalid result: output.d" + "[0]" * 30 + ": nested deeper than the limit of 32 levels",
        ),
    ):
        run = make_run(check_outputs=lambda outputs, bad=bad: (bad, None))
        status = posted_only_one_error(run, b"")
        assert status.message.startswith(says), status.message
    fits = make_run(check_outputs=lambda outputs: ({"d": deep[0]}, None))
    [done] = fits.feed(Stream.STDOUT, line({"type": "result"}))
    assert isinstance(done, Finish) and done.status.status == "Completed"


def test_control_characters_are_text_and_posted_as_written() -> None:
    """They are valid Unicode: the platform gets them; the commands escape them when shown."""
    run = make_run()
    text = "\x1b[2J\x9b31m\rover\bwritten\u202e"
    [relay] = run.feed(
        Stream.STDOUT, line({"type": "notify", "status": "InProgress", "message": text})
    )
    assert relay == Relay(TaskStatus("id1", "InProgress", text))

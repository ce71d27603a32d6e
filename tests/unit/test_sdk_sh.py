"""The shell SDK (task_images/sdk/sh/xc_task.sh) under the host's dash (Debian's /bin/sh,
and the task images'), and a few tasks under bash, with jq, on crafted envelopes: every
stdout line must be a protocol message."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import unavailable
from tests.unit.sdk_runs import SDK_DIR, Run, envelope, error, result, run_process

HELPER = SDK_DIR / "sh" / "xc_task.sh"

TASKS = r"""
echo "the task file's own output goes to stderr too"
task_outputs() {
    echo "this goes to stderr"
    xc_result text="a b=c" number:=42 list:='[1, "x"]' empty=
}
task_outputs_on_stdin() { jq -n '{big: "yes", n: 1}' | xc_result -; }
task_nothing() { :; }
task_steps() {
    xc_progress 0 "starting"
    xc_progress 0.5
    xc_progress 1e0 "done"
}
task_fails() { xc_error "disk full" Critical; }
task_fails_plainly() { xc_error "plain"; echo "never"; }
task_command_fails() {
    echo "about to fail"
    ls /no/such/dir
    xc_result never=1
}
task_exits() { exit 3; }
task_exits_silently() { exit 4; }
task_twice() {
    first=$(xc_result a=1)
    xc_error "second"
}
task_args() { "$@"; }
task_read() {
    value=$(xc_$(xc_input kind) v)
    xc_result value="$value"
}
task_fields() {
    xc_result namespace="$XC_NAMESPACE" task="$XC_TASK" id="$XC_TASK_INSTANCE_ID" \
        inputs:="$(xc_inputs)"
}
task_bad_text() { xc_error "$(printf 'bad \377 byte')"; }
task_wrong() { eval "$(xc_input call)"; }
"""


def find_shell(name: str) -> str:
    if shutil.which("jq") is None:
        unavailable("no jq on this host (make toolchains installs it)")
    found = shutil.which(name)
    if found is None:
        unavailable(f"no {name} on this host (make toolchains installs dash)")
    assert found is not None
    return found


@pytest.fixture(scope="module")
def shell() -> str:
    return find_shell("dash")


@pytest.fixture(scope="module")
def tasks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sh") / "tasks.sh"
    path.write_text(textwrap.dedent(TASKS))
    return path


def run(shell: str, tasks: Path, task: str, **inputs: Any) -> Run:
    return run_stdin(shell, tasks, envelope(task, "sh", **inputs))


def run_stdin(
    shell: str, tasks: Path, stdin: str | bytes, env: dict[str, str] | None = None
) -> Run:
    return run_process([shell, str(HELPER), tasks.name], stdin, tasks.parent, env)


def test_outputs_as_text_and_json(shell: str, tasks: Path) -> None:
    outcome = run(shell, tasks, "outputs")
    assert outcome.messages == [result(text="a b=c", number=42, list=[1, "x"], empty="")]
    assert "this goes to stderr" in outcome.stderr
    assert "the task file's own output goes to stderr too" in outcome.stderr
    assert outcome.returncode == 0


def test_outputs_on_stdin(shell: str, tasks: Path) -> None:
    assert run(shell, tasks, "outputs_on_stdin").messages == [result(big="yes", n=1)]


def test_returning_without_a_result_is_an_empty_result(shell: str, tasks: Path) -> None:
    assert run(shell, tasks, "nothing").messages == [result()]


def test_progress(shell: str, tasks: Path) -> None:
    progress = {"type": "notify", "status": "InProgress"}
    assert run(shell, tasks, "steps").messages == [
        {**progress, "message": "starting", "progressPercentage": 0},
        {**progress, "progressPercentage": 0.5},
        {**progress, "message": "done", "progressPercentage": 1},
        result(),
    ]


def test_xc_error_ends_the_task(shell: str, tasks: Path) -> None:
    assert run(shell, tasks, "fails").messages == [error("disk full", "Critical")]
    outcome = run(shell, tasks, "fails_plainly")
    assert outcome.messages == [error("plain")]
    assert "never" not in outcome.stderr


def test_a_failing_command_is_an_error_naming_its_exit_code_and_last_line(
    shell: str, tasks: Path
) -> None:
    outcome = run(shell, tasks, "command_fails")
    assert len(outcome.messages) == 1
    assert outcome.messages[0]["message"].startswith("exit code 2: ls: cannot access")
    assert "/no/such/dir" in outcome.messages[0]["message"]
    assert "about to fail" in outcome.stderr
    assert outcome.returncode == 0


def test_an_exit_without_a_result(shell: str, tasks: Path) -> None:
    assert run(shell, tasks, "exits").messages == [error("exit code 3")]


def test_the_first_terminal_message_wins(shell: str, tasks: Path) -> None:
    outcome = run(shell, tasks, "twice")
    assert outcome.messages == [result(a="1")]
    assert "dropped" in outcome.stderr


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("xc_progress 1.5 x", "xc_progress: fraction '1.5' is not a number in [0, 1]"),
        ("xc_progress -0.1", "xc_progress: fraction '-0.1' is not a number in [0, 1]"),
        ("xc_progress half", "xc_progress: fraction 'half' is not a number in [0, 1]"),
        ("xc_progress", "usage: xc_progress FRACTION [MESSAGE]"),
        ("xc_error x Bad", "xc_error: level 'Bad' is not one of None, Minor, Critical, Fatal"),
        ("xc_result oops", "xc_result: 'oops' is not NAME=TEXT or NAME:=JSON"),
        ("xc_result =x", "xc_result: '=x' is not NAME=TEXT or NAME:=JSON"),
        ("xc_result n:=nope", "xc_result: the value of n is not JSON: nope"),
        ("echo 1 | xc_result -", "xc_result: stdin is not a JSON object"),
        ("echo '{} {}' | xc_result -", "xc_result: stdin is not a JSON object"),
        ("xc_int", "usage: xc_int NAME"),
    ],
)
def test_wrong_calls_fail_the_task_naming_them(
    shell: str, tasks: Path, call: str, message: str
) -> None:
    assert run(shell, tasks, "wrong", call=call).messages == [error(f"exit code 2: {message}")]


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("input", "héllo wörld", "héllo wörld"),
        ("input", {"a": [1]}, '{"a":[1]}'),
        ("input", 1.5, "1.5"),
        ("int", 42, "42"),
        ("int", " -007 ", "-7"),
        ("int", "+3", "3"),
        ("int", 3.0, "3"),
        ("number", "1e-3", "0.001"),
        ("number", " 2 ", "2"),
        ("bool", True, "true"),
        ("bool", "FALSE", "false"),
    ],
)
def test_accessors(shell: str, tasks: Path, kind: str, value: Any, expected: str) -> None:
    assert run(shell, tasks, "read", kind=kind, v=value).messages == [result(value=expected)]


@pytest.mark.parametrize(
    ("kind", "value", "problem"),
    [
        ("int", "1.5", 'xc_int: input \'v\' is not an integer: "1.5"'),
        ("int", "0x10", 'xc_int: input \'v\' is not an integer: "0x10"'),
        ("number", "1e999", 'xc_number: input \'v\' is not a finite number: "1e999"'),
        ("number", "NaN", 'xc_number: input \'v\' is not a finite number: "NaN"'),
        ("bool", "yes", 'xc_bool: input \'v\' is not a boolean: "yes"'),
        ("input", None, "xc_input: input 'v' is missing"),
    ],
)
def test_accessors_name_the_input(
    shell: str, tasks: Path, kind: str, value: Any, problem: str
) -> None:
    outcome = run(shell, tasks, "read", kind=kind, v=value)
    assert outcome.messages == [error(f"exit code 2: {problem}")]


def test_the_envelope_fields(shell: str, tasks: Path) -> None:
    assert run(shell, tasks, "fields", x=1).messages == [
        result(namespace="sh", task="fields", id="ti-1", inputs={"x": 1})
    ]


def test_invalid_utf8_becomes_the_replacement_character(shell: str, tasks: Path) -> None:
    assert run(shell, tasks, "bad_text").messages == [error("bad \ufffd byte")]


@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        ("", "invalid envelope: no envelope on stdin"),
        ("[1]", "invalid envelope: not a JSON object"),
        ('{"protocol": 1, "task": "nothing"} {}', "invalid envelope: more than one JSON value"),
        ('{"protocol": 2, "task": "nothing"}', "invalid envelope: unsupported protocol 2"),
        ('{"task": "nothing"}', 'invalid envelope: unsupported protocol "(none)"'),
        ('{"protocol": 1}', "invalid envelope: no task name"),
        ('{"protocol": 1, "task": "nothing", "inputs": [1]}', "invalid envelope: the inputs"),
        ('{"protocol": 1, "task": "nope"}', "unknown task 'nope': tasks.sh has no function"),
        ('{"protocol": 1, "task": "rm -rf /"}', "unknown task 'rm -rf /' in tasks.sh"),
        ("not json", "invalid envelope: not JSON (parse error"),
    ],
)
def test_setup_errors_exit_2(shell: str, tasks: Path, stdin: str, message: str) -> None:
    outcome = run_stdin(shell, tasks, stdin)
    assert len(outcome.messages) == 1
    assert outcome.messages[0]["message"].startswith(message)
    assert outcome.returncode == 2


def test_bash_runs_the_helper_too(tasks: Path) -> None:
    bash = find_shell("bash")
    assert run(bash, tasks, "outputs").messages == [
        result(text="a b=c", number=42, list=[1, "x"], empty="")
    ]
    assert run(bash, tasks, "steps").messages[-1] == result()
    assert run(bash, tasks, "fails").messages == [error("disk full", "Critical")]
    assert run(bash, tasks, "read", kind="int", v=" 07").messages == [result(value="7")]
    outcome = run(bash, tasks, "command_fails")
    assert outcome.messages[0]["message"].startswith("exit code 2: ls: cannot access")
    assert run_stdin(bash, tasks, "[1]").messages == [error("invalid envelope: not a JSON object")]


def test_a_task_file_that_stops_the_shell(shell: str, tmp_path: Path) -> None:
    broken = tmp_path / "broken.sh"
    broken.write_text("task_x() {\n  if then\n}\n")
    outcome = run_stdin(shell, broken, envelope("x"))
    assert outcome.messages == [
        error(
            f"the task file {broken.name} stopped the shell (exit code 2) before a task ran;"
            " see stderr"
        )
    ]
    assert outcome.returncode == 2
    missing = run_stdin(shell, tmp_path / "missing.sh", envelope("x"))
    assert missing.messages == [error("cannot read the task file missing.sh")]


def test_without_jq(shell: str, tasks: Path) -> None:
    outcome = run_stdin(shell, tasks, envelope("nothing"), {"PATH": "/nonexistent"})
    assert outcome.messages == [error("xc_task.sh needs jq, which is not installed")]
    assert outcome.returncode == 2


def test_a_secret_is_read_from_its_file(shell: str, tasks: Path, tmp_path: Path) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "api_token").write_text("t0ken-value\n")
    env = {"XC_TASK_SECRETS_DIR": str(secrets)}

    def read(name: str) -> Run:
        call = f'v=$(xc_secret {name}); xc_result value="$v"'
        return run_stdin(shell, tasks, envelope("wrong", "sh", call=call), env)

    assert read("api_token").messages == [result(value="t0ken-value")]
    assert read("other").messages == [
        error(
            f"exit code 2: xc_secret: secret 'other' is not given to this task "
            f"(no {secrets}/other)"
        )
    ]
    assert read("../api_token").messages == [
        error("exit code 2: xc_secret: not a secret name: ../api_token")
    ]

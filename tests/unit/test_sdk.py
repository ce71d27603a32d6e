"""The Python task SDK (xc_task) and the sample tasks, run as processes on the host.

No Docker: `python -m xc_task MODULE` reads the envelope on stdin and writes
protocol messages on stdout, as it does in a container.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from tests.unit.sdk_runs import (
    CONTRACTS,
    ROOT,
    RUN_TIMEOUT_S,
    SDK_DIR,
    Run,
    envelope,
    error,
    result,
    run_process,
)

PYTHON_SDK_DIR = SDK_DIR / "python"
SAMPLE_DIR = ROOT / "task_images" / "sample"


def run_sdk(
    stdin: str | bytes, module: str = "sample", *args: str, extra_path: Path | None = None
) -> Run:
    path = [PYTHON_SDK_DIR, SAMPLE_DIR] + ([extra_path] if extra_path else [])
    env = {"PYTHONPATH": os.pathsep.join(map(str, path)), "PYTHONDONTWRITEBYTECODE": "1"}
    return run_process(
        [sys.executable, "-m", "xc_task", module, *args], stdin, extra_path or ROOT, env
    )


# ------------------------------------------------------------ the sample tasks


def test_simple() -> None:
    run = run_sdk(envelope("simple", arg="hello"))
    assert run.messages == [result(msg='The argument received was "hello".')]
    assert run.returncode == 0


def test_double() -> None:
    run = run_sdk(envelope("double", str_in="ab", nbr_in="21"))
    assert run.messages == [result(str_out="abab", nbr_out="42")]


def test_double_defaults() -> None:
    run = run_sdk(envelope("double"))
    assert run.messages == [result(str_out="xyz (default)xyz (default)", nbr_out="246")]


def test_double_rejects_a_non_integer() -> None:
    run = run_sdk(envelope("double", str_in="ab", nbr_in="4x"))
    assert run.messages == [error("Incorrect value '4x' for nbr_in, should be integer")]
    assert run.returncode == 0


def test_reporting_task_reports_every_second() -> None:
    run = run_sdk(envelope("reporting_task", n="2", param="p1"))
    progress = {"type": "notify", "status": "InProgress"}
    assert run.messages == [
        {
            **progress,
            "message": 'Input "p1": going to sleep for 2 seconds.',
            "progressPercentage": "0.0",
        },
        {**progress, "message": "1", "progressPercentage": "0.5"},
        {**progress, "message": "2", "progressPercentage": "1.0"},
        {**progress, "message": "Waking up."},
        result(result='Input "p1", result is ok'),
    ]


def test_reporting_task_rejects_a_non_integer() -> None:
    run = run_sdk(envelope("reporting_task", n="soon", param="p"))
    assert run.messages == [error("Incorrect value 'soon' for n, should be integer")]


def test_error_placeholder() -> None:
    run = run_sdk(envelope("error_placeholder"))
    assert run.messages == [error('Task "error_placeholder" reports a fatal error.')]
    assert run.returncode == 0


def test_zero_division_becomes_an_error_with_the_traceback_on_stderr() -> None:
    run = run_sdk(envelope("zero_division"))
    assert run.messages == [error("ZeroDivisionError: division by zero")]
    assert "Traceback" in run.stderr
    assert run.returncode == 0


def test_rectangle_reads_typed_inputs_through_the_task() -> None:
    run = run_sdk(envelope("rectangle", width="2.5", height=4))
    assert run.messages == [result(area=10.0, perimeter=13.0, square=False)]
    run = run_sdk(envelope("rectangle", width=-1, height="x"))
    assert run.messages == [error("input 'height' is not a finite number: \"x\"")]
    run = run_sdk(envelope("rectangle", width=-1, height=1))
    assert run.messages == [error("width (-1) and height (1) must not be negative", "Minor")]


def test_catalog_output_is_the_module_catalog() -> None:
    env = dict(
        os.environ,
        PYTHONPATH=f"{PYTHON_SDK_DIR}{os.pathsep}{SAMPLE_DIR}",
        PYTHONDONTWRITEBYTECODE="1",
    )
    proc = subprocess.run(
        [sys.executable, "-m", "xc_task", "sample", "--catalog"],
        capture_output=True,
        env=env,
        timeout=RUN_TIMEOUT_S,
        check=True,
    )
    catalog = json.loads(proc.stdout)
    CONTRACTS.check_catalog(catalog, "sample --catalog")
    by_name = {d["name"]: d for d in catalog}
    reference = ["simple", "double", "reporting_task", "error_placeholder", "zero_division"]
    assert list(by_name) == [*reference, "rectangle"]
    for definition in catalog:
        assert definition["namespace"] == "sample"
        assert definition["schemaVersion"] == 0
        assert {"displayName", "description", "shortDescription"} <= definition.keys()
        assert None not in definition.values()
        for param in definition.get("inputs", []) + definition.get("outputs", []):
            assert definition["name"] not in reference or param["baseType"] == "String"
            assert None not in param.values()
    types = {p["name"]: p["baseType"] for p in by_name["rectangle"]["outputs"]}
    assert types == {"area": "Number", "perimeter": "Number", "square": "Boolean"}
    defaults = {p["name"]: p.get("defaultValue") for p in by_name["double"]["inputs"]}
    assert defaults == {"str_in": "xyz (default)", "nbr_in": "123"}
    assert [p["name"] for p in by_name["double"]["outputs"]] == ["str_out", "nbr_out"]
    assert "defaultValue" not in by_name["simple"]["inputs"][0]
    assert all("defaultValue" not in p for p in by_name["reporting_task"]["inputs"])
    assert [p["name"] for p in by_name["reporting_task"]["outputs"]] == ["result"]
    for name in ("error_placeholder", "zero_division"):
        assert "inputs" not in by_name[name]
        assert "outputs" not in by_name[name]


# ------------------------------------------------------------- the SDK itself


def test_unknown_task() -> None:
    run = run_sdk(envelope("no_such_task"))
    assert run.messages == [error("unknown task 'no_such_task' in module sample")]
    assert run.returncode == 2


def test_a_callable_the_catalog_does_not_declare_is_unknown() -> None:
    run = run_sdk(envelope("task_definitions"))
    assert run.messages == [error("unknown task 'task_definitions' in module sample")]


def test_unknown_envelope_fields_are_ignored() -> None:
    data = json.loads(envelope("simple", arg="x"))
    data["someday"] = {"new": "field"}
    run = run_sdk(json.dumps(data))
    assert run.messages == [result(msg='The argument received was "x".')]


@pytest.mark.parametrize(
    ("stdin", "problem"),
    [
        ("", "no envelope"),
        ("not json", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        ("[1]", "not an object"),
        ('{"protocol": 2, "task": "simple", "inputs": {}}', "unsupported protocol 2"),
        ('{"protocol": true, "task": "simple", "inputs": {}}', "unsupported protocol True"),
        ('{"task": "simple", "inputs": {}}', "unsupported protocol None"),
        ('{"protocol": 1, "inputs": {}}', "no task name"),
        ('{"protocol": 1, "task": "simple", "inputs": []}', "inputs are not a JSON object"),
    ],
)
def test_bad_envelope(stdin: str | bytes, problem: str) -> None:
    run = run_sdk(stdin)
    assert len(run.messages) == 1
    assert run.messages[0]["status"] == "Error"
    assert run.messages[0]["message"].startswith("invalid envelope: ")
    assert problem in run.messages[0]["message"]
    assert run.returncode == 2


def test_missing_module() -> None:
    run = run_sdk(envelope("simple", arg="x"), "no_such_module")
    assert len(run.messages) == 1
    assert run.messages[0]["message"].startswith(
        "cannot load task module no_such_module: ModuleNotFoundError"
    )
    assert run.returncode == 2


def start_sdk(module_dir: Path, module: str) -> subprocess.Popen[bytes]:
    """`python -m xc_task MODULE` with stdin left open: a warm container waiting for its task."""
    env = {"PYTHONPATH": os.pathsep.join(map(str, [PYTHON_SDK_DIR, module_dir]))}
    return subprocess.Popen(
        [sys.executable, "-m", "xc_task", module],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=module_dir,
        env={**env, "PYTHONDONTWRITEBYTECODE": "1"},
    )


def test_the_module_is_imported_while_waiting_for_the_envelope(tmp_path: Path) -> None:
    marker = tmp_path / "imported"
    (tmp_path / "slow_import.py").write_text(
        f"open({str(marker)!r}, 'w').close()\n"
        "def task_definitions():\n    return [{'name': 'hello'}]\n"
        "def hello(task):\n    return {'said': 'hello'}\n"
    )
    process = start_sdk(tmp_path, "slow_import")
    try:
        deadline = time.monotonic() + RUN_TIMEOUT_S
        while not marker.exists():
            assert process.poll() is None and time.monotonic() < deadline, "never imported"
            time.sleep(0.01)
        out, _ = process.communicate(envelope("hello").encode(), timeout=RUN_TIMEOUT_S)
    finally:
        process.kill()
    assert [json.loads(line) for line in out.splitlines()] == [result(said="hello")]


def test_a_module_that_cannot_load_is_reported_to_the_task_that_arrives(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("raise RuntimeError('no database here')\n")
    process = start_sdk(tmp_path, "broken")
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            process.wait(timeout=1)  # still waiting for its task
        out, err = process.communicate(envelope("hello").encode(), timeout=RUN_TIMEOUT_S)
    finally:
        process.kill()
    [message] = [json.loads(line) for line in out.splitlines()]
    assert message["status"] == "Error"
    assert message["message"] == (
        "cannot load task module broken: RuntimeError: no database here"
    )
    assert b"Traceback" in err
    assert process.returncode == 2


def test_usage() -> None:
    run = run_sdk("", "--catalog")
    assert (run.returncode, run.messages) == (2, [])
    assert "usage" in run.stderr


USER_MODULE = """
import os
import subprocess
import sys


def task_definitions():
    names = ["chatty", "completes", "twice", "bad_status", "returns_list", "returns_none",
             "empty_exception", "progress", "not_json", "bad_progress", "error_level"]
    return [{"namespace": "user", "name": name} for name in names]


def chatty(notifier):
    print("printed to stdout")
    sys.stdout.write('{"type": "result", "outputs": {"forged": "yes"}}\\n')
    os.write(1, b"written to fd 1\\n")
    subprocess.run([sys.executable, "-c", "print('from a child process')"], check=True)
    return {"ok": "yes"}


def completes(notifier):
    notifier.notify("Completed", "all done", {"x": "1"})
    return {"ignored": "1"}


def twice(notifier):
    notifier.notify("Error", "first")
    notifier.notify("Completed", "second", {"a": "b"})
    notifier.notify("Error", "third")
    notifier.notify("InProgress", "late")


def bad_status(notifier):
    notifier.notify("Done", "x")


def returns_list(notifier):
    return [1]


def returns_none(notifier):
    notifier.notify("InProgress", "working")


def empty_exception(notifier):
    raise RuntimeError()


def progress(notifier, fraction):
    notifier.notify("InProgress", "as a number", progressPercentage=float(fraction))
    notifier.notify("InProgress", "as text", progressPercentage=fraction)
    notifier.notify("InProgress", "no progress")
    return {}


def not_json(notifier):
    return {"x": object()}


def bad_progress(notifier):
    notifier.notify("InProgress", "x", progressPercentage="half")


def error_level(notifier):
    notifier.notify("Error", "bad", errorLevel="Critical")
"""


@pytest.fixture
def user_module(tmp_path: Path) -> Path:
    (tmp_path / "usertasks.py").write_text(textwrap.dedent(USER_MODULE))
    return tmp_path


def run_user(task: str, folder: Path, **inputs: Any) -> Run:
    return run_sdk(envelope(task, "user", **inputs), "usertasks", extra_path=folder)


def test_print_never_reaches_stdout(user_module: Path) -> None:
    run = run_user("chatty", user_module)
    assert run.messages == [result(ok="yes")]
    for text in ("printed to stdout", "forged", "written to fd 1", "from a child process"):
        assert text in run.stderr


def test_notify_completed_is_the_result(user_module: Path) -> None:
    run = run_user("completes", user_module)
    assert run.messages == [{"type": "result", "outputs": {"x": "1"}, "message": "all done"}]
    assert "ignored" in run.stderr
    assert run.returncode == 0


def test_only_the_first_terminal_message_is_sent(user_module: Path) -> None:
    run = run_user("twice", user_module)
    assert run.messages == [error("first")]
    assert run.stderr.count("dropped") == 3


def test_an_unknown_status_is_a_value_error(user_module: Path) -> None:
    run = run_user("bad_status", user_module)
    assert run.messages == [
        error("ValueError: unknown status 'Done': expected InProgress, Error or Completed")
    ]


def test_returning_a_non_dict_is_an_error(user_module: Path) -> None:
    run = run_user("returns_list", user_module)
    assert run.messages == [error("task returned list, expected a dict")]


def test_returning_none_is_an_empty_result(user_module: Path) -> None:
    run = run_user("returns_none", user_module)
    assert run.messages == [
        {"type": "notify", "status": "InProgress", "message": "working"},
        result(),
    ]


def test_an_exception_without_a_message_is_its_type(user_module: Path) -> None:
    assert run_user("empty_exception", user_module).messages == [error("RuntimeError")]


def test_progress_is_passed_through_as_given(user_module: Path) -> None:
    run = run_user("progress", user_module, fraction="0.25")
    assert [m.get("progressPercentage") for m in run.messages] == [0.25, "0.25", None, None]
    assert run.messages[-1] == result()


def test_a_non_numeric_progress_fails_the_task(user_module: Path) -> None:
    run = run_user("bad_progress", user_module)
    assert run.messages == [error("ValueError: progressPercentage 'half' is not a number")]


def test_outputs_that_are_not_json(user_module: Path) -> None:
    run = run_user("not_json", user_module)
    assert len(run.messages) == 1
    assert run.messages[0]["message"].startswith("task outputs are not JSON: ")


def test_error_level(user_module: Path) -> None:
    run = run_user("error_level", user_module)
    assert run.messages == [{**error("bad"), "errorLevel": "Critical"}]


def test_missing_input_is_reported(user_module: Path) -> None:
    run = run_user("progress", user_module)
    assert len(run.messages) == 1
    assert run.messages[0]["message"].startswith("TypeError: progress() missing 1 required")


def test_the_task_starts_once_its_envelope_line_is_in_without_waiting_for_stdin_to_end() -> None:
    env = {"PYTHONPATH": os.pathsep.join(map(str, [PYTHON_SDK_DIR, SAMPLE_DIR]))}
    with subprocess.Popen(
        [sys.executable, "-m", "xc_task", "sample"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=os.environ | env,
    ) as proc:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(envelope("simple", arg="now").encode())  # one line; stdin stays open
        proc.stdin.flush()
        try:
            assert proc.wait(RUN_TIMEOUT_S) == 0
        finally:
            proc.kill()
        assert json.loads(proc.stdout.read()) == result(msg='The argument received was "now".')


def test_an_envelope_over_several_lines_is_read_to_the_end_of_stdin() -> None:
    typed = json.dumps(json.loads(envelope("simple", arg="by hand")), indent=2)
    assert typed.count("\n") > 3
    run = run_sdk(typed)
    assert run.messages == [result(msg='The argument received was "by hand".')]

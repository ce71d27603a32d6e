"""The accessors of structured inputs in the Python and shell SDKs (the Go and Node.js
SDKs test theirs in their own languages: `make sdk-test`): an Object input, and each kind
of multi-value input (allowMultipleValues), every item read as its type reads one value,
a wrong item named by its index. Each runs as a process on the host, as in a container."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.unit.sdk_runs import Run, envelope, error, result
from tests.unit.test_sdk import run_sdk
from tests.unit.test_sdk_sh import find_shell, run_stdin

MODULE = """
def task_definitions():
    return [{"namespace": "s", "name": "read"}]


def read(task):
    return {"value": getattr(task, task.inputs["kind"])("v")}
"""
SH_TASKS = """
task_read() {
    value=$(xc_$(xc_input kind) v)
    xc_result value="$value"
}
task_count() {
    xc_ints v | while read -r item; do echo "item $item" >&2; done
    xc_result count:="$(xc_ints v | wc -l)"
}
"""
POINT = {"lat": 48.85, "lon": 2.35, "tags": ["a", {"b": None}]}
READ = [
    # (accessor in Python, in sh, the value, what Python returns, what sh prints)
    ("object", "object", POINT, POINT, '{"lat":48.85,"lon":2.35,"tags":["a",{"b":null}]}'),
    ("strings", "strings", ["a", "", "b c"], ["a", "", "b c"], "a\n\nb c"),
    ("integers", "ints", [1, " -7 ", "+3", 3.0], [1, -7, 3, 3], "1\n-7\n3\n3"),
    ("numbers", "numbers", [0.5, "1e-3", 2], [0.5, 0.001, 2.0], "0.5\n0.001\n2"),
    ("booleans", "bools", [True, "False"], [True, False], "true\nfalse"),
    ("objects", "objects", [{"a": 1}, {}], [{"a": 1}, {}], '{"a":1}\n{}'),
    ("integers", "ints", [], [], ""),
]
WRONG = [
    # (accessor in Python, in sh, the value, the problem: after "input 'v"
    ("integers", "ints", [1, "x"], '[1]\' is not an integer: "x"'),
    ("numbers", "numbers", [1, "1e999"], '[1]\' is not a finite number: "1e999"'),
    ("booleans", "bools", ["yes"], '[0]\' is not a boolean: "yes"'),
    ("strings", "strings", ["a", None], "[1]' is missing"),
    ("objects", "objects", [{}, 2], "[1]' is not a JSON object: 2"),
    ("strings", "strings", "[1]", '\' is not a list (a JSON array): "[1]"'),
    ("object", "object", [1], "' is not a JSON object: [1]"),
    ("object", "object", "{}", '\' is not a JSON object: "{}"'),
    ("integers", "ints", None, "' is missing"),
]


@pytest.fixture(scope="module")
def module(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("structured")
    (folder / "structuredtasks.py").write_text(textwrap.dedent(MODULE))
    return folder


@pytest.fixture(scope="module")
def sh_tasks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sh-structured") / "tasks.sh"
    path.write_text(textwrap.dedent(SH_TASKS))
    return path


def python_read(module: Path, kind: str, value: Any) -> Run:
    stdin = envelope("read", "s", kind=kind, v=value)
    return run_sdk(stdin, "structuredtasks", extra_path=module)


def sh_read(tasks: Path, task: str, **inputs: Any) -> Run:
    return run_stdin(find_shell("dash"), tasks, envelope(task, "s", **inputs))


@pytest.mark.parametrize(("py", "sh", "value", "py_value", "sh_text"), READ)
def test_python_reads_structured_inputs(
    module: Path, py: str, sh: str, value: Any, py_value: Any, sh_text: str
) -> None:
    assert python_read(module, py, value).messages == [result(value=py_value)]


@pytest.mark.parametrize(("py", "sh", "value", "problem"), WRONG)
def test_python_names_the_wrong_item(
    module: Path, py: str, sh: str, value: Any, problem: str
) -> None:
    assert python_read(module, py, value).messages == [error(f"input 'v{problem}")]


@pytest.mark.parametrize(("py", "sh", "value", "py_value", "sh_text"), READ)
def test_sh_reads_structured_inputs(
    sh_tasks: Path, py: str, sh: str, value: Any, py_value: Any, sh_text: str
) -> None:
    assert sh_read(sh_tasks, "read", kind=sh, v=value).messages == [result(value=sh_text)]


@pytest.mark.parametrize(("py", "sh", "value", "problem"), WRONG)
def test_sh_names_the_wrong_item(
    sh_tasks: Path, py: str, sh: str, value: Any, problem: str
) -> None:
    outcome = sh_read(sh_tasks, "read", kind=sh, v=value)
    assert outcome.messages == [error(f"exit code 2: xc_{sh}: input 'v{problem}")]


def test_sh_lists_read_line_by_line_keep_their_last_item(sh_tasks: Path) -> None:
    outcome = sh_read(sh_tasks, "count", v=[1, 2, 3])
    assert outcome.messages == [result(count=3)]
    assert "item 3" in outcome.stderr


def test_sh_refuses_a_string_item_holding_a_line_break(sh_tasks: Path) -> None:
    outcome = sh_read(sh_tasks, "read", kind="strings", v=["a", "b\nc"])
    assert outcome.messages == [
        error("exit code 2: xc_strings: input 'v[1]' is not a string on one line: \"b\\nc\"")
    ]

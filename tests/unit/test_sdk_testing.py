"""The SDKs' in-process test harnesses: Python's xc_task_testing.call and sh's
xc_task_testing.sh (Go's xctask.Call and Node's xc_task_testing.js are tested in their
languages, by `make sdk-test`). A test sees the outputs, the progress and the error
(message, level, what was raised) that the runner would see."""

from __future__ import annotations

import importlib
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import unavailable
from tests.unit.sdk_runs import SDK_DIR

MODULE = '''
from xc_task import TaskError


class QuotaError(Exception):
    pass


def task_definitions():
    return [{"namespace": "t", "name": n} for n in ("hello", "minor", "typed", "wrong", "raw")]


def hello(task):
    who = task.string("who")
    task.progress(0.5, f"greeting {who}")
    return {"greeting": f"Hello, {who}!", "pair": (1, 2)}


def minor(task):
    raise TaskError("times is -1", "Minor")


def typed(task):
    raise QuotaError("over quota")


def wrong(task):
    return ["not", "a", "dict"]


def raw(notifier, n="1"):
    notifier.notify("InProgress", "half", progressPercentage="50")
    return {"n": n}


def undeclared(task):
    return {}
'''


@pytest.fixture
def harness(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """xc_task_testing, and a task module `harnessed` to call."""
    (tmp_path / "harnessed.py").write_text(MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.syspath_prepend(str(SDK_DIR / "python"))
    yield importlib.import_module("xc_task_testing")
    for name in ("harnessed", "xc_task_testing", "xc_task", "xc_task_inputs"):
        sys.modules.pop(name, None)


def _module() -> ModuleType:
    return importlib.import_module("harnessed")


def test_python_call_sees_outputs_as_json_and_progress(harness: Any) -> None:
    done = harness.call(_module(), "hello", {"who": "you"})
    assert done.status == "Completed"
    assert done.outputs == {"greeting": "Hello, you!", "pair": [1, 2]}
    assert done.progress == [(0.5, "greeting you")]
    assert (done.message, done.level, done.exception) == (None, None, None)
    assert [m["type"] for m in done.messages] == ["notify", "result"]
    raw = harness.call("harnessed", "raw", {"n": 3})
    assert (raw.outputs, raw.progress) == ({"n": 3}, [(50.0, "half")])


def test_python_call_sees_the_error_its_level_and_the_exception(harness: Any) -> None:
    done = harness.call(_module(), "minor")
    assert (done.status, done.message, done.level) == ("Error", "times is -1", "Minor")
    assert type(done.exception).__name__ == "TaskError"
    done = harness.call(_module(), "typed")
    assert (done.message, done.level) == ("QuotaError: over quota", None)
    assert type(done.exception).__name__ == "QuotaError"
    done = harness.call(_module(), "hello", {})
    assert (done.message, done.level) == ("input 'who' is missing", None)
    assert harness.call(_module(), "wrong").message == "task returned list, expected a dict"


def test_python_call_of_a_task_not_in_the_catalog_is_the_runners_error(harness: Any) -> None:
    done = harness.call(_module(), "undeclared")
    assert (done.status, done.message) == ("Error", "unknown task 'undeclared' in module harnessed")


def test_python_call_refuses_inputs_that_are_not_json(harness: Any) -> None:
    with pytest.raises(ValueError, match="the inputs are not JSON"):
        harness.call(_module(), "hello", {"who": object()})


SH_TASKS = r"""
task_hello() {
    who=$(xc_input who)
    xc_progress 0.5 "greeting $who"
    xc_progress 1
    xc_result greeting="Hello, $who!" n:=2 list:='[1, "x"]'
}
task_minor() { xc_error "times is -1" Minor; }
task_fails() { echo "no such file" >&2; false; }
"""

SH_TEST = r"""
. "$(dirname -- "$0")/sdk/xc_task_testing.sh"
xc_call "$(dirname -- "$0")/tasks.sh" hello '{"who": "you"}'
xc_expect status "$XC_STATUS" Completed
xc_expect greeting "$(xc_output greeting)" "Hello, you!"
xc_expect n "$(xc_output n)" 2
xc_expect list "$(xc_output list)" '[1,"x"]'
xc_expect progress "$XC_PROGRESS" "0.5 greeting you
1"
xc_call "$(dirname -- "$0")/tasks.sh" minor
xc_expect status "$XC_STATUS" Error
xc_expect message "$XC_MESSAGE" "times is -1"
xc_expect level "$XC_LEVEL" Minor
xc_expect outputs "$XC_OUTPUTS" "{}"
xc_call "$(dirname -- "$0")/tasks.sh" fails
xc_expect failed "$XC_MESSAGE" "exit code 1: no such file"
xc_expect level "$XC_LEVEL" ""
xc_call "$(dirname -- "$0")/tasks.sh" nope
xc_expect unknown "$XC_MESSAGE" \
    "unknown task 'nope': $(dirname -- "$0")/tasks.sh has no function task_nope"
xc_expect exit "$XC_EXIT" 2
"""


def _sh_folder(tmp_path: Path, test: str) -> Path:
    if shutil.which("jq") is None:
        unavailable("jq is not installed (make toolchains)")
    (tmp_path / "sdk").mkdir()
    for name in ("xc_task.sh", "xc_task_testing.sh"):
        shutil.copy(SDK_DIR / "sh" / name, tmp_path / "sdk" / name)
    (tmp_path / "tasks.sh").write_text(SH_TASKS)
    (tmp_path / "test_tasks.sh").write_text(test)
    return tmp_path


@pytest.mark.parametrize("shell", ["dash", "bash"])
def test_sh_harness_sees_outputs_progress_and_errors(tmp_path: Path, shell: str) -> None:
    folder = _sh_folder(tmp_path, SH_TEST + "xc_tests_done\n")
    done = _run(shell, folder)
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    assert done.stdout == "13 checks, 0 failed\n"


def test_sh_harness_fails_the_test_and_says_what_differed(tmp_path: Path) -> None:
    test = SH_TEST + textwrap.dedent("""
        xc_call "$(dirname -- "$0")/tasks.sh" hello '{"who": "me"}'
        xc_expect greeting "$(xc_output greeting)" "Hello, you!"
        xc_tests_done
    """)
    folder = _sh_folder(tmp_path, test)
    done = _run("dash", folder)
    assert done.returncode == 1
    assert "FAIL greeting: expected 'Hello, you!', got 'Hello, me!'" in done.stderr
    assert done.stdout == "14 checks, 1 failed\n"


def _run(shell: str, folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [shell, "test_tasks.sh"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

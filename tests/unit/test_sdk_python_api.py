"""The Python SDK's API shared with the other languages' SDKs: progress, result, error,
inputs and their accessors, TaskError; run as processes on the host, as in a container."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.unit.sdk_runs import Run, envelope, error, result
from tests.unit.test_sdk import run_sdk

MODULE = """
from xc_task import TaskError


def task_definitions():
    names = ["steps", "fails", "levels", "wrong_progress", "wrong_level", "wrong_message",
             "fields", "typed", "read", "keywords", "bad_error_level", "after_result", "secret"]
    return [{"namespace": "api", "name": name} for name in names]


def steps(task):
    task.progress(0, "starting")
    task.progress(0.5)
    task.progress(1, "done")
    task.result({"n": 1})


def fails(task):
    raise TaskError("disk full", "Critical")


def levels(task):
    task.error("plain")


def wrong_progress(task):
    task.progress(task.inputs["fraction"], "x")


def wrong_level(task):
    task.error("x", "Severe")


def wrong_message(task):
    task.error(3)


def fields(task):
    return {"seen": [task.namespace, task.name, task.instance_id, task.inputs]}


def typed(task):
    return {
        "s": task.string("s"), "i": task.integer("i"), "is": task.integer("is"),
        "i3": task.integer("i3"), "f": task.number("f"), "fs": task.number("fs"),
        "b": task.boolean("b"), "bs": task.boolean("bs"),
    }


def read(task):
    getattr(task, task.inputs["kind"])(task.inputs["name"])


def keywords(task, a, b="default"):
    return {"a": a, "b": b}


def bad_error_level(task):
    raise TaskError("x", "bad")


def after_result(task):
    task.result({})
    raise TaskError("late")


def secret(task):
    return {"value": task.secret(task.inputs["name"])}
"""


@pytest.fixture
def module(tmp_path: Path) -> Path:
    (tmp_path / "apitasks.py").write_text(textwrap.dedent(MODULE))
    return tmp_path


def run(task: str, folder: Path, **inputs: Any) -> Run:
    return run_sdk(envelope(task, "api", **inputs), "apitasks", extra_path=folder)


def test_progress_then_result(module: Path) -> None:
    progress = {"type": "notify", "status": "InProgress"}
    assert run("steps", module).messages == [
        {**progress, "message": "starting", "progressPercentage": 0},
        {**progress, "progressPercentage": 0.5},
        {**progress, "message": "done", "progressPercentage": 1},
        result(n=1),
    ]


def test_a_task_error_is_the_message_as_is_with_its_level(module: Path) -> None:
    outcome = run("fails", module)
    assert outcome.messages == [error("disk full", "Critical")]
    assert outcome.returncode == 0
    assert "Traceback" not in outcome.stderr
    assert run("levels", module).messages == [error("plain")]


@pytest.mark.parametrize(
    ("fraction", "shown"), [(1.5, "1.5"), (-0.1, "-0.1"), (True, "True"), ("0.5", "'0.5'")]
)
def test_a_fraction_outside_0_1_fails_the_task(module: Path, fraction: Any, shown: str) -> None:
    assert run("wrong_progress", module, fraction=fraction).messages == [
        error(f"ValueError: progress fraction {shown} is not a finite number in [0, 1]")
    ]


def test_wrong_levels_and_messages_fail_the_task(module: Path) -> None:
    levels = "errorLevel must be one of None, Minor, Critical, Fatal"
    assert run("wrong_level", module).messages == [error(f"ValueError: {levels}, not 'Severe'")]
    assert run("bad_error_level", module).messages == [error(f"ValueError: {levels}, not 'bad'")]
    assert run("wrong_message", module).messages == [
        error("TypeError: error message must be a str, not int")
    ]


def test_the_envelope_fields(module: Path) -> None:
    assert run("fields", module, x=1).messages == [result(seen=["api", "fields", "ti-1", {"x": 1}])]


def test_accessors_convert_what_the_catalog_types_allow(module: Path) -> None:
    inputs = {"s": "t", "i": 12, "is": " -7 ", "i3": 3.0, "f": 1, "fs": "1e-3", "b": True}
    assert run("typed", module, bs="False", **inputs).messages == [
        result(s="t", i=12, **{"is": -7}, i3=3, f=1.0, fs=0.001, b=True, bs=False)
    ]


@pytest.mark.parametrize(
    ("kind", "value", "problem"),
    [
        ("string", 1, "is not a string: 1"),
        ("integer", "1.5", 'is not an integer: "1.5"'),
        ("integer", True, "is not an integer: true"),
        ("integer", "0x10", 'is not an integer: "0x10"'),
        ("number", "1e999", 'is not a finite number: "1e999"'),
        ("number", 10**400, "is not a finite number: 1000000"),
        ("number", "NaN", 'is not a finite number: "NaN"'),
        ("boolean", "yes", 'is not a boolean: "yes"'),
        ("string", None, "is missing"),
    ],
)
def test_accessors_name_the_input(module: Path, kind: str, value: Any, problem: str) -> None:
    outcome = run("read", module, kind=kind, name="v", v=value)
    assert len(outcome.messages) == 1
    assert outcome.messages[0]["message"].startswith(f"input 'v' {problem}")


def test_a_function_of_more_parameters_gets_its_inputs_as_keywords(module: Path) -> None:
    assert run("keywords", module, a="x").messages == [result(a="x", b="default")]


def test_a_task_error_after_the_result_is_dropped(module: Path) -> None:
    outcome = run("after_result", module)
    assert outcome.messages == [result()]
    assert "dropped" in outcome.stderr


def test_a_secret_is_read_from_its_file_as_text(
    module: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "api_token").write_text("t0ken-value\n")
    monkeypatch.setenv("XC_TASK_SECRETS_DIR", str(secrets))
    assert run("secret", module, name="api_token").messages == [result(value="t0ken-value")]
    assert run("secret", module, name="other").messages == [
        error(
            f"secret 'other' is not given to this task (no {secrets}/other): the runner's "
            "configuration declares an image's secrets"
        )
    ]
    assert run("secret", module, name="../secrets/api_token").messages == [
        error("ValueError: not a secret name: '../secrets/api_token'")
    ]

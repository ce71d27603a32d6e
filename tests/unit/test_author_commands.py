"""The task author's commands on fakes: `check` of an image's labels and examples, what
`exec` prints and reads, their settings, and task text made safe to print."""

from __future__ import annotations

import argparse
import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from runner.app.imagecheck import check_image
from runner.app.oneshot import OneShot, RecordingContainer
from runner.cli.check import report_lines, table
from runner.cli.execute import Printer, task_name
from runner.cli.inputfiles import read_input_json
from runner.config.oneshot import OneShotSettings, oneshot_settings
from runner.contracts import Contracts
from runner.core.catalog import CATALOG_LABEL
from runner.core.errors import ConfigError, UsageError
from runner.core.examples import EXAMPLES_LABEL
from runner.core.model import TaskStatus
from runner.core.protocol import Stream
from runner.core.text import printable, printable_json
from tests.unit.fakes import FakeContainer, FakeEngine, message

CONTRACTS = Contracts()
CATALOG = [
    {
        "namespace": "n",
        "name": "t",
        "inputs": [{"name": "x", "baseType": "Integer"}],
        "outputs": [{"name": "y", "baseType": "Integer"}],
    }
]
RESULT = {"type": "result", "outputs": {"y": 2}}


class Engine(FakeEngine):
    def image_labels(self, image: str) -> Mapping[str, str]:
        if image not in self.labels:
            raise ConfigError(f"image {image} not found in the engine (build it first)")
        return self.labels[image]


def oneshot(labels: dict[str, str], *containers: FakeContainer) -> OneShot:
    engine = Engine(containers=list(containers), labels={"img": labels})
    return OneShot(OneShotSettings(("img",), "xc-check-test"), engine, CONTRACTS)


def labelled(examples: Any = None, catalog: Any = CATALOG) -> dict[str, str]:
    labels = {CATALOG_LABEL: json.dumps(catalog)}
    if examples is not None:
        labels[EXAMPLES_LABEL] = examples if isinstance(examples, str) else json.dumps(examples)
    return labels


def example(x: Any, status: str = "Completed", **expect: Any) -> dict[str, Any]:
    return {"task": "t", "inputs": {"x": x}, "expect": {"status": status, **expect}}


def test_an_image_with_a_valid_catalog_and_passing_examples_passes() -> None:
    container = FakeContainer([[message(RESULT)], None])
    tool = oneshot(labelled([example(1, outputs={"y": 2}), example("z", "Error")]), container)
    report = check_image(tool, "img")
    assert report.passed and report.tasks == 1 and report.problems == []
    assert [(e.status.status, e.passed) for e in report.examples or ()] == [
        ("Completed", True),
        ("Error", True),  # inputs refused by the runner: no container
    ]
    assert json.loads(container.stdin)["inputs"] == {"x": 1}
    assert table([report])[1].split() == ["img", "1", "task", "2/2", "passed", "passed"]


def test_the_run_of_an_example_is_held_to_its_expectation_and_to_the_protocol() -> None:
    container = FakeContainer([[(Stream.STDOUT, b"hello\n"), message(RESULT)], None])
    report = check_image(oneshot(labelled([example(1, outputs={"y": 3})]), container), "img")
    assert not report.passed
    (run,) = report.examples or ()
    assert run.mismatches == ["outputs.y: expected 3, got 2"]
    assert [str(v) for v in run.violations] == [
        "stdout line 1, byte 0: not valid JSON (Expecting value): every stdout line must be "
        "one JSON message (logs go to stderr)"
    ]
    assert report_lines(report)[1].startswith("FAIL  examples[0] n/t: Completed in ")


@pytest.mark.parametrize(
    ("labels", "problem"),
    [
        ({}, f"label {CATALOG_LABEL}: missing or empty: a task image declares its task catalog"),
        ({CATALOG_LABEL: "{nope"}, f"label {CATALOG_LABEL}: not valid JSON: Expecting property"),
        (labelled(catalog=[{"name": "t"}]), "catalog[0]: missing 'namespace'"),
        (labelled("[1,"), f"label {EXAMPLES_LABEL}: not valid JSON: Expecting value"),
        (labelled(""), f"label {EXAMPLES_LABEL}: missing or empty"),
        (labelled([{"task": "t"}]), "examples[0]: missing 'inputs', 'expect'"),
        (
            labelled([example(1), {**example(1), "task": "u"}]),
            "examples[1].task: the catalog has no task u (it has: n/t)",
        ),
    ],
)
def test_a_bad_label_is_a_problem_at_its_path_and_nothing_runs(
    labels: dict[str, str], problem: str
) -> None:
    tool = oneshot(labels)
    report = check_image(tool, "img")
    assert str(report.problems[0]).startswith(problem)
    assert report.examples is None and not report.passed
    assert tool.engine.launched == []  # type: ignore[attr-defined]
    assert report_lines(report)[0] == f"FAIL  {report.problems[0]}"


def test_an_image_that_does_not_exist_is_named() -> None:
    report = check_image(oneshot({}), "other")
    assert report.missing == "image other not found in the engine (build it first)"
    assert table([report])[1].split()[1:] == ["-", "-", "FAILED", "(no", "such", "image)"]


def test_an_image_without_examples_passes_on_its_catalog() -> None:
    report = check_image(oneshot(labelled()), "img")
    assert report.passed and report.examples is None
    assert report_lines(report) == [
        "ok    catalog: 1 task",
        "--    no examples (label xc-scenario.examples): none run",
    ]


def test_recorded_stdout_stops_one_byte_over_the_cap() -> None:
    inner = FakeContainer(
        [[(Stream.STDOUT, b"abc"), (Stream.STDERR, b"zz")], [(Stream.STDOUT, b"def")]]
    )
    recording = RecordingContainer(inner, cap=4)
    assert recording.read(1) == [(Stream.STDOUT, b"abc"), (Stream.STDERR, b"zz")]
    recording.read(1)
    assert bytes(recording.stdout) == b"abcd"


def test_exec_prints_outputs_on_stdout_and_the_rest_on_stderr(
    capsys: pytest.CaptureFixture[str],
) -> None:
    printer = Printer()
    printer.submit(TaskStatus("1", "InProgress", "one \x1b[2J third", progress="0.3333"))
    printer.submit(TaskStatus("1", "InProgress", "waking up"))
    printer.submit(TaskStatus("1", "Completed", "done", output_values={"y": "é\u202e"}))
    printer.submit(TaskStatus("1", "Error", "bad\nthing", error_level="Fatal"))
    out, err = capsys.readouterr()
    assert out == '{"y": "é\\u202e"}\n'
    assert json.loads(out) == {"y": "é\u202e"}
    assert err.splitlines() == [
        "[ 33%] one \\x1b[2J third",
        "[    ] waking up",
        "Completed: done",
        "Error (Fatal): bad\\x0athing",
    ]


def test_printable_task_text_escapes_what_would_take_effect() -> None:
    assert printable("plain é ✓ 日本 tab\there") == "plain é ✓ 日本 tab\there"
    assert printable("\x1b]0;title\x07\u200b\u2028\U000e0001\udfff\r") == (
        "\\x1b]0;title\\x07\\u200b\\u2028\\U000e0001\\udfff\\x0d"
    )
    value = {"k\x85": ["\U000e0001", "\x7f", "ok", "\udfff"]}
    text = printable_json(value)
    assert text.isprintable() and json.loads(text) == value
    text.encode("utf-8")  # no lone surrogate is left to fail the encoding


def test_inputs_from_json_and_the_task_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert read_input_json(None) == {}
    path = tmp_path / "in.json"
    path.write_text('{"x": [1]}')
    assert read_input_json(str(path)) == {"x": [1]}
    monkeypatch.setattr("sys.stdin", io.StringIO('{"y": true}'))
    assert read_input_json("-") == {"y": True}
    path.write_text("{x")
    with pytest.raises(UsageError, match=r"--input-json: .*in.json is not valid JSON"):
        read_input_json(str(path))
    assert task_name("ns/task") == ("ns", "task")
    for bad in ("task", "/task", "ns/", ""):
        with pytest.raises(UsageError, match="NAMESPACE/TASK"):
            task_name(bad)


def test_settings_take_the_policy_of_run_and_a_runner_id_of_their_own(tmp_path: Path) -> None:
    config = tmp_path / "policy.toml"
    config.write_text(
        '[defaults]\nmemory = "1g"\n[images."img"]\ncpus = 2\n[images."other"]\ncpus = 3\n'
    )
    args = argparse.Namespace(config_path=str(config), pids="64", exit_grace_s=None)
    first = oneshot_settings("exec", ["img"], args, {"XC_RUNNER_STOP_GRACE_S": "1"})
    second = oneshot_settings("exec", ["img"], args, {})
    assert first.runner_id.startswith("xc-exec-") and first.runner_id != second.runner_id
    policy = first.policies.for_image("img")
    assert (policy.limits.memory_bytes, policy.limits.cpus, policy.limits.pids) == (1024**3, 2, 64)
    assert first.stop_grace_s == 1.0 and first.exit_grace_s == 2.0
    assert "other" not in first.policies.images  # another image's section is left out
    with pytest.raises(ConfigError, match="--pids: not a whole number"):
        oneshot_settings("exec", ["img"], argparse.Namespace(pids="x"), {})

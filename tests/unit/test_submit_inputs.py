"""What `submit` and `exec` read before anything reaches a server or an engine: inputs as
JSON (inline, a file, stdin), read strictly; the lines of `--from-file`; what the demo
leaves to the user; how a status line shows an Error's level."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from runner.cli.demo import unsubmitted
from runner.cli.inputfiles import read_input_json
from runner.cli.output import status_line
from runner.cli.submitting import from_file
from runner.core.catalog import Catalog, TaskRoute
from runner.core.errors import UsageError


def test_input_json_is_the_text_itself_when_it_starts_with_a_brace(tmp_path: Path) -> None:
    assert read_input_json(' {"a": {"b": [1, 2.5, null]}}') == {"a": {"b": [1, 2.5, None]}}
    with pytest.raises(UsageError, match="--input-json: the text given is not valid JSON"):
        read_input_json("{a: 1}")
    path = tmp_path / "inputs.json"
    path.write_text('{"x": 1}')
    assert read_input_json(str(path)) == {"x": 1}


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('{"a": NaN}', "inputs.a: NaN is not a finite number"),
        ('{"a": [0, 1e999]}', "inputs.a[1]: a number too large"),
        ('{"a": "\\ud800"}', "inputs.a: not valid Unicode text"),
        ('{"\\udc00": 1}', "the name is not valid Unicode text"),
        (
            '{"a": ' + "[" * 64 + "]" * 64 + "}",
            "stdin is nested deeper than the limit of 64 levels",
        ),
        ('{"a": ' + "[" * 100_000 + "]" * 100_000 + "}", "stdin is nested deeper than the limit"),
        ("[1]", "--input-json: stdin must hold a JSON object of inputs by name"),
    ],
)
def test_input_json_is_read_strictly(text: str, says: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))
    with pytest.raises(UsageError) as raised:
        read_input_json("-")
    assert says in str(raised.value)


def test_from_file_reads_bodies_or_one_task_s_inputs(tmp_path: Path) -> None:
    path = tmp_path / "many.jsonl"
    path.write_text(
        '{"namespace": "n", "name": "t"}\n\n   \n'
        '{"namespace": "n", "name": "u", "timeOutInMillis": 7}\n'
    )
    bodies = from_file(str(path), None, 9)
    assert [(s.where, s.body) for s in bodies] == [
        (f"{path}:1: ", {"timeOutInMillis": 9, "namespace": "n", "name": "t"}),
        (f"{path}:4: ", {"timeOutInMillis": 7, "namespace": "n", "name": "u"}),
    ]
    path.write_text('{"a": 1}\n[2]\n{"a": NaN}\n')
    inputs = from_file(str(path), ("n", "t"), None)
    assert inputs[0].body == {"namespace": "n", "name": "t", "inputData": {"a": 1}}
    assert inputs[1].unreadable == f"{path}:2: must be a JSON object of inputs"
    assert inputs[2].unreadable == f"{path}:3: inputs.a: NaN is not a finite number"
    path.write_text("\n \n")
    with pytest.raises(UsageError, match="holds no instance"):
        from_file(str(path), None, None)
    with pytest.raises(UsageError, match="--from-file: cannot read"):
        from_file(str(tmp_path / "absent"), None, None)


def route(image: str, namespace: str, name: str, *inputs: dict[str, object]) -> TaskRoute:
    return TaskRoute(image, {"namespace": namespace, "name": name, "inputs": list(inputs)})


def test_the_demo_says_what_it_leaves_to_the_user() -> None:
    sample = [
        route("xc-tasks/sample", "sample", "simple"),
        route("xc-tasks/sample", "sample", "rectangle"),
    ]
    assert unsubmitted(Catalog(sample), "http://127.0.0.1:8077") == []  # an image it submits to
    own = Catalog(
        [
            *sample,
            route(
                "me/geo",
                "geo",
                "distance",
                {"name": "from"},
                {"name": "unit", "defaultValue": "km"},
            ),
            route("me/geo", "geo", "ping"),
        ]
    )
    assert unsubmitted(own, "http://127.0.0.1:8077") == [
        "the demo submits to the sample images' tasks only: submit these yourself, from "
        "another terminal (or with the cockpit's form):",
        "  XC_SCENARIO_SERVER=http://127.0.0.1:8077 xc-runner submit geo distance from=...",
        "  XC_SCENARIO_SERVER=http://127.0.0.1:8077 xc-runner submit geo ping",
    ]


def test_a_status_line_shows_the_error_level() -> None:
    error = {
        "status": "Error",
        "message": "down",
        "errorLevel": "Fatal",
        "taskInstanceId": "5d1c0a2e9",
    }
    assert status_line(error) == '5d1c0a2e Error (Fatal) "down"'
    assert status_line({**error, "errorLevel": None}) == '5d1c0a2e Error      "down"'

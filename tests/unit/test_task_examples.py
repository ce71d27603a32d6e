"""Examples of a task image (runner/app/taskfolder.py): checked against their schema and
the image's catalog before they go in the xc-scenario.examples label."""

from __future__ import annotations

import json
from typing import Any

import pytest

from runner.app.taskfolder import ExamplesError, examples_label, parse_examples
from tests.unit.sdk_runs import ROOT

CATALOG = [
    {"namespace": "a", "name": "add"},
    {"namespace": "a", "name": "twice"},
    {"namespace": "b", "name": "twice"},
]
GOOD = {"task": "add", "inputs": {"x": 1}, "expect": {"status": "Completed", "outputs": {"y": 2}}}


def test_the_label_is_the_examples_minified() -> None:
    text = json.dumps([GOOD, {**GOOD, "expect": {"status": "Error", "message": "no"}}], indent=2)
    assert json.loads(examples_label(text, CATALOG)) == json.loads(text)
    assert "\n" not in examples_label(text, CATALOG)


@pytest.mark.parametrize(
    ("examples", "problem"),
    [
        ("not json", "the examples are not JSON"),
        ({"task": "add"}, "examples: {'task': 'add'} is not a JSON array of task examples"),
        ([{"task": "add", "inputs": {}}], "examples[0]: missing 'expect'"),
        ([{**GOOD, "extra": 1}], "examples[0]: not declared: 'extra'"),
        ([{**GOOD, "expect": {"status": "Done"}}], "examples[0].expect.status: 'Done' is not one"),
        ([{**GOOD, "expect": {"status": "Error", "outputs": {}}}], "examples[0].expect"),
        ([{**GOOD, "inputs": []}], "examples[0].inputs: [] is not of type 'object'"),
        ([GOOD, {**GOOD, "task": "nope"}], "examples[1].task: the catalog has no task nope"),
        ([{**GOOD, "task": "twice"}], "examples[0].task: task twice is in several namespaces"),
        ([{**GOOD, "namespace": "b"}], "examples[0].task: the catalog has no task b/add"),
    ],
)
def test_bad_examples_are_named(examples: Any, problem: str) -> None:
    text = examples if isinstance(examples, str) else json.dumps(examples)
    with pytest.raises(ExamplesError) as raised:
        parse_examples(text, CATALOG)
    assert str(raised.value).startswith(problem)


def test_a_namespace_picks_one_of_two_tasks_of_the_same_name() -> None:
    both = json.dumps([{**GOOD, "task": "twice", "namespace": "b"}, GOOD])
    assert len(parse_examples(both, CATALOG)) == 2


@pytest.mark.parametrize("folder", ["greet-sh", "numbers-go", "textstats-node"])
def test_the_sample_images_examples_fit_their_catalogs(folder: str) -> None:
    images = ROOT / "task_images" / folder
    catalog = json.loads((images / "catalog.json").read_text())
    examples = parse_examples((images / "examples.json").read_text(), catalog)
    assert {example["task"] for example in examples} == {d["name"] for d in catalog}

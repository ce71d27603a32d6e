"""Task image examples (runner.core.examples): matching a task, comparing a run's result."""

from __future__ import annotations

from typing import Any

import pytest

from runner.contracts import Contracts
from runner.core.catalog import TaskRoute
from runner.core.conformance import Problem
from runner.core.examples import (
    Example,
    Expect,
    example_route,
    examples_from,
    mismatches,
    same_json,
)
from runner.core.model import TaskStatus

CONTRACTS = Contracts()


def route(namespace: str, name: str) -> TaskRoute:
    return TaskRoute("img", {"namespace": namespace, "name": name})


ROUTES = [route("a", "add"), route("a", "sub"), route("b", "sub")]


def example(task: str, namespace: str | None = None) -> Example:
    return Example(0, task, namespace)


def test_examples_from_a_label_that_matches_the_schema() -> None:
    document = [
        {"task": "add", "inputs": {"x": 1}, "expect": {"status": "Completed", "outputs": {"y": 2}}},
        {
            "namespace": "b",
            "task": "sub",
            "inputs": {},
            "expect": {"status": "Error", "message": "no"},
        },
    ]
    assert CONTRACTS.examples_problems(document) == []
    assert examples_from(document) == [
        Example(0, "add", None, {"x": 1}, Expect("Completed", {"y": 2}, None)),
        Example(1, "sub", "b", {}, Expect("Error", None, "no")),
    ]


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ({}, Problem("examples", "{} is not a JSON array of task examples")),
        ([{"task": "add", "inputs": {}}], Problem("examples[0]", "missing 'expect'")),
        (
            [{"task": "add", "inputs": {}, "expect": {"status": "Error", "outputs": {}}}],
            Problem("examples[0].expect", "must not have 'outputs'"),
        ),
        (
            [{"task": "add", "inputs": [], "expect": {"status": "Completed"}}],
            Problem("examples[0].inputs", "[] is not of type 'object'"),
        ),
    ],
)
def test_an_examples_label_breaking_its_schema_is_placed_by_path(
    document: Any, problem: Problem
) -> None:
    assert CONTRACTS.examples_problems(document) == [problem]


def test_an_example_names_one_task_of_the_catalog() -> None:
    assert example_route(example("add"), ROUTES) == ROUTES[0]
    assert example_route(example("sub", "b"), ROUTES) == ROUTES[2]
    assert example_route(example("nope"), ROUTES) == Problem(
        "examples[0].task", "the catalog has no task nope (it has: a/add, a/sub, b/sub)"
    )
    assert example_route(example("add", "b"), ROUTES) == Problem(
        "examples[0].task", "the catalog has no task b/add (it has: a/add, a/sub, b/sub)"
    )
    assert example_route(example("sub"), ROUTES) == Problem(
        "examples[0].task", "task sub is in several namespaces (a, b): name one with 'namespace'"
    )


def completed(outputs: dict[str, Any], message: str = "") -> TaskStatus:
    return TaskStatus("1", "Completed", message, output_values=outputs)


def test_a_result_as_expected_has_no_mismatch() -> None:
    assert (
        mismatches(Expect("Completed", {"n": 42, "s": "x"}), completed({"s": "x", "n": 42.0})) == []
    )
    assert mismatches(Expect("Completed"), completed({"anything": 1})) == []
    assert mismatches(Expect("Error", message="bad"), TaskStatus("1", "Error", "bad")) == []
    assert mismatches(Expect("Error"), TaskStatus("1", "Error", "whatever")) == []


def test_each_difference_from_the_expectation_is_named() -> None:
    assert mismatches(Expect("Completed"), TaskStatus("1", "Error", "boom")) == [
        'expected Completed, got Error: "boom"'
    ]
    assert mismatches(Expect("Error", message="a"), TaskStatus("1", "Error", "b")) == [
        'expected the message "a", got "b"'
    ]
    assert mismatches(
        Expect("Completed", {"n": "42", "gone": 1}),
        completed({"n": 42, "new": True}),
    ) == [
        'outputs.n: expected "42", got 42',
        "outputs.gone: expected 1, got no such output",
        "outputs.new: not expected, got true",
    ]


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        (42, 42.0, True),
        ("42", 42, False),
        (True, 1, False),
        (False, 0, False),
        (True, True, True),
        (None, None, True),
        (None, "", False),
        ([1, {"a": 2.0}], [1.0, {"a": 2}], True),
        ([1, 2], [2, 1], False),
        ({"a": 1}, {"a": 1, "b": None}, False),
        ("é", "é", True),
    ],
)
def test_json_values_compare_as_json(a: Any, b: Any, same: bool) -> None:
    assert same_json(a, b) is same
    assert same_json(b, a) is same

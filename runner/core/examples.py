"""A task image's examples (label `xc-scenario.examples`), and how a run is held to one.

Pure: the label's JSON is checked against schemas/task-examples.schema.json by
the contracts first; here each example is matched with its task of the catalog,
and a run's terminal status is compared with what the example expects.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from runner.core.catalog import TaskRoute
from runner.core.conformance import Problem
from runner.core.model import TaskStatus
from runner.core.text import clip

EXAMPLES_LABEL = "xc-scenario.examples"


@dataclass(frozen=True)
class Expect:
    status: str  # Completed or Error
    outputs: Mapping[str, Any] | None = None  # all of them, when given
    message: str | None = None  # exactly, when given


@dataclass(frozen=True)
class Example:
    index: int
    task: str
    namespace: str | None
    inputs: Mapping[str, Any] = field(default_factory=dict)
    expect: Expect = field(default_factory=lambda: Expect("Completed"))

    @property
    def path(self) -> str:
        return f"examples[{self.index}]"


def examples_from(document: Sequence[Mapping[str, Any]]) -> list[Example]:
    """The examples of a label that matches the examples schema."""
    return [
        Example(
            index=index,
            task=item["task"],
            namespace=item.get("namespace"),
            inputs=item["inputs"],
            expect=Expect(
                item["expect"]["status"],
                item["expect"].get("outputs"),
                item["expect"].get("message"),
            ),
        )
        for index, item in enumerate(document)
    ]


def example_route(example: Example, routes: Sequence[TaskRoute]) -> TaskRoute | Problem:
    """The catalog's task the example names, or the problem with the name."""
    found = [
        r for r in routes if r.name == example.task and example.namespace in (None, r.namespace)
    ]
    if len(found) == 1:
        return found[0]
    where = f"{example.path}.task"
    named = f"{example.namespace}/{example.task}" if example.namespace else example.task
    if not found:
        known = ", ".join(f"{r.namespace}/{r.name}" for r in routes)
        return Problem(where, f"the catalog has no task {named} (it has: {known})")
    namespaces = ", ".join(r.namespace for r in found)
    return Problem(
        where, f"task {named} is in several namespaces ({namespaces}): name one with 'namespace'"
    )


def mismatches(expect: Expect, status: TaskStatus) -> list[str]:
    """How a run's terminal status differs from what the example expects."""
    if status.status != expect.status:
        said = f": {json.dumps(status.message, ensure_ascii=False)}" if status.message else ""
        return [f"expected {expect.status}, got {status.status}{said}"]
    found: list[str] = []
    if expect.message is not None and status.message != expect.message:
        found.append(
            f"expected the message {json.dumps(expect.message, ensure_ascii=False)}, "
            f"got {json.dumps(status.message, ensure_ascii=False)}"
        )
    if expect.outputs is not None:
        found += _output_mismatches(expect.outputs, status.output_values or {})
    return found


def _output_mismatches(expected: Mapping[str, Any], got: Mapping[str, Any]) -> list[str]:
    found: list[str] = []
    for name in [*expected, *(n for n in got if n not in expected)]:
        if name not in got:
            found.append(f"outputs.{name}: expected {_show(expected[name])}, got no such output")
        elif name not in expected:
            found.append(f"outputs.{name}: not expected, got {_show(got[name])}")
        elif not same_json(expected[name], got[name]):
            found.append(
                f"outputs.{name}: expected {_show(expected[name])}, got {_show(got[name])}"
            )
    return found


def same_json(a: Any, b: Any) -> bool:
    """Equal as JSON values: 42 equals 42.0, but "42" is not 42 and true is not 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    return type(a) is type(b) and bool(a == b)


def _show(value: Any) -> str:
    return clip(json.dumps(value, ensure_ascii=False), 200)

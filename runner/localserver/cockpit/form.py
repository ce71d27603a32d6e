"""The submit form's check: the runner's own validation of a task's inputs, each problem
placed on the input it is about.

The inputs are checked exactly as the runner checks them before it starts a
container (`Contracts.input_problems`, the JSON Schema derived from the catalog
by runner.core.catalog, defaults filled in first); this module only says which
field of the form each problem belongs to.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from runner.contracts import Contracts
from runner.core.catalog import TaskRoute
from runner.core.conformance import Problem

_NOUN = "input"  # how Contracts names the inputs object in its problems


def route_of(definition: Mapping[str, Any]) -> TaskRoute:
    """The task as the runner routes it, from its published definition."""
    return TaskRoute("(the published catalog)", definition)


def input_problems(
    definition: Mapping[str, Any], input_data: Mapping[str, Any], contracts: Contracts
) -> list[dict[str, Any]]:
    """Each problem as `{"input": name or None, "message", "path"}`: None is the form's own."""
    names = [str(p["name"]) for p in definition.get("inputs") or []]
    found = contracts.input_problems(route_of(definition), input_data)
    return [placed for problem in found for placed in place(problem, names)]


def place(problem: Problem, names: Sequence[str]) -> Iterator[dict[str, Any]]:
    """The problem on its input: `input.<name>...` is that input's; one about the whole
    object (`missing 'a', 'b'`) is on each input it names, else on the form."""
    if problem.path == _NOUN:
        named: list[str | None] = [name for name in names if repr(name) in problem.what]
        for name in named or [None]:
            yield {"input": name, "message": problem.what, "path": problem.path}
        return
    # The longest name first: an input `a.b` is not input `a`'s field `b`.
    for name in sorted(names, key=len, reverse=True):
        field = f"{_NOUN}.{name}"
        if problem.path == field or problem.path.startswith((f"{field}.", f"{field}[")):
            yield {"input": name, "message": problem.what, "path": problem.path}
            return
    yield {"input": None, "message": str(problem), "path": problem.path}

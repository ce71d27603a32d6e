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
    placed = [placed for problem in found for placed in place(problem, names)]
    # The checks may find one problem twice (the schema, then the defaults): say it once.
    unique = {(p["input"], p["message"], p["path"]): p for p in placed}
    return list(unique.values())


def place(problem: Problem, names: Sequence[str]) -> Iterator[dict[str, Any]]:
    """The problem on its input: `input.<name>...` is that input's; one about the whole
    object is on each input it names (`missing 'a', 'b'` is `missing 'a'` on a and
    `missing 'b'` on b), else on the form."""
    if problem.path == _NOUN:
        named = [name for name in names if repr(name) in problem.what]
        missing = problem.what.startswith("missing ")
        for name in named:
            what = f"missing {name!r}" if missing else problem.what
            yield {"input": name, "message": what, "path": problem.path}
        if not named:
            yield {"input": None, "message": problem.what, "path": problem.path}
        return
    # The longest name first: an input `a.b` is not input `a`'s field `b`.
    for name in sorted(names, key=len, reverse=True):
        field = f"{_NOUN}.{name}"
        if problem.path == field or problem.path.startswith((f"{field}.", f"{field}[")):
            yield {"input": name, "message": problem.what, "path": problem.path}
            return
    yield {"input": None, "message": str(problem), "path": problem.path}

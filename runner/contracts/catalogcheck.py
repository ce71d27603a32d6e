"""What a catalog's schema cannot say, checked after it (Contracts.catalog_problems): names
against the rule of runner/core/names.py, tasks and parameters declared once, each
parameter held to the catalog rules (runner/core/catalogrules.py), its customRegex one RE2
can run within the catalog's budget, its default of its own type. Each problem names its
task (and parameter) beside its JSON path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from runner.contracts import regex
from runner.core.catalogrules import parameter_problems
from runner.core.conformance import Problem
from runner.core.names import NAME_RULE, name_problem
from runner.core.text import printable

# A parameter's defaultValue against its own type: (the parameter, where it is) -> problems.
DefaultCheck = Callable[[Mapping[str, Any], str], list[Problem]]


def name_problems(catalog: Any) -> Iterator[Problem]:
    """Each namespace and task name of a catalog against the rule of runner/core/names.py."""
    if not isinstance(catalog, list):
        return
    for index, definition in enumerate(catalog):
        for field in ("namespace", "name"):
            value = definition.get(field) if isinstance(definition, dict) else None
            if isinstance(value, str) and (why := name_problem(value)) is not None:
                shown = printable(repr(value[:80]))
                yield Problem(f"catalog[{index}].{field}", f"{shown}: {why} ({NAME_RULE})")


def semantic_problems(
    catalog: Iterable[Mapping[str, Any]], default_problems: DefaultCheck
) -> Iterator[Problem]:
    """What the schema cannot say: unique names, and defaults that fit their own type.
    Each problem names its task (and parameter) beside its JSON path."""
    seen: dict[tuple[str, str], int] = {}
    budget = regex.Budget()  # what the catalog's regexes may compile to, together
    for index, definition in enumerate(catalog):
        key = (definition["namespace"], definition["name"])
        if key in seen:
            yield Problem(
                f"catalog[{index}]",
                f"task {key[0]}/{key[1]} declared twice (first at catalog[{seen[key]}])",
            )
        seen.setdefault(key, index)
        for kind in ("inputs", "outputs"):
            yield from _parameter_problems(
                f"catalog[{index}].{kind}",
                f"({key[0]}/{key[1]}) {kind[:-1]}",
                definition.get(kind) or [],
                budget,
                default_problems,
            )


def _parameter_problems(
    where: str,
    what: str,
    params: Sequence[Mapping[str, Any]],
    budget: regex.Budget,
    default_problems: DefaultCheck,
) -> Iterator[Problem]:
    seen: dict[str, int] = {}
    for index, param in enumerate(params):
        name = param["name"]
        if name in seen:
            yield Problem(
                f"{where}[{index}].name",
                f"{what} {name!r} declared twice (first at {where}[{seen[name]}])",
            )
        seen.setdefault(name, index)
        broken = [
            Problem(f"{where}[{index}].{f}", f"{what} {name!r}: {why}")
            for f, why in parameter_problems(param)
        ]
        if broken:
            yield from broken
            continue
        pattern = param.get("customRegex")
        if pattern and (why := budget.refusal(pattern)) is not None:
            yield Problem(
                f"{where}[{index}].customRegex",
                f"{what} {name!r}: customRegex {printable(repr(pattern[:200]))} is refused "
                f"(catalog regexes are run by RE2, in linear time): {why}",
            )
            continue
        if param.get("defaultValue") is not None:
            for found in default_problems(param, f"{where}[{index}].defaultValue"):
                yield Problem(found.path, f"{what} {name!r}: {found.what}")

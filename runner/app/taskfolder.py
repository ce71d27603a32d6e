"""A task image's folder as `xc-runner build` reads it: its catalog.json and
examples.json, checked, become the image's labels.

The rules are the runner's own (schemas/ through runner.contracts, and
runner.core.examples: every example names one task of the catalog), so that `build`
refuses what `xc-runner check` and `run` would. Each mistake is one line naming the
file and the place in it.
"""

from __future__ import annotations

import errno
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from runner.contracts import Contracts
from runner.core.catalog import CATALOG_LABEL, MAX_CATALOG_BYTES, routes
from runner.core.conformance import Problem
from runner.core.documents import TooDeep, read_json
from runner.core.examples import EXAMPLES_LABEL, example_route, examples_from
from runner.core.text import clip
from runner.files import Unreadable, read_capped

__all__ = ["EXAMPLES_LABEL", "ExamplesError", "FolderLabels", "examples_label", "parse_examples"]

CATALOG_FILE = "catalog.json"
EXAMPLES_FILE = "examples.json"


class ExamplesError(ValueError):
    """The examples are not valid; the message says where and why."""


@dataclass(frozen=True)
class FolderLabels:
    """The labels of the image a folder builds, and its tasks (NAMESPACE/NAME); or, in
    `problems`, one line per mistake in its files."""

    labels: Mapping[str, str]
    tasks: Sequence[str]
    problems: Sequence[str]


@cache
def _contracts() -> Contracts:
    """The schemas, read once for every image built."""
    return Contracts()


def folder_labels(folder: Path, shown: str) -> FolderLabels:
    """catalog.json (required) and examples.json (if there is one) of `folder`, checked;
    `shown` is how the folder is named in the problems' lines."""
    where = f"{shown}/{CATALOG_FILE}"
    catalog, problems = _read_json(folder / CATALOG_FILE, where)
    if not problems:
        problems = _lines(where, "catalog", _contracts().catalog_problems(catalog))
    if problems:
        return FolderLabels({}, (), problems)
    labels = {CATALOG_LABEL: _minified(catalog)}
    tasks = [f"{d['namespace']}/{d['name']}" for d in catalog]
    if (folder / EXAMPLES_FILE).is_file():
        examples, problems = _read_json(folder / EXAMPLES_FILE, f"{shown}/{EXAMPLES_FILE}")
        if not problems:
            found = examples_problems(examples, catalog)
            problems = _lines(f"{shown}/{EXAMPLES_FILE}", "examples", found)
        labels[EXAMPLES_LABEL] = _minified(examples)
    return FolderLabels(labels, tasks, problems)


def _read_json(path: Path, shown: str) -> tuple[Any, list[str]]:
    """The file's JSON: a regular file of at most MAX_CATALOG_BYTES, nested at most
    MAX_DEPTH deep (as the labels it becomes are read)."""
    try:
        content = read_capped(path, MAX_CATALOG_BYTES)
    except Unreadable as exc:
        if exc.errno == errno.ENOENT:
            return None, [f"{shown}: missing (a task image's folder declares its tasks in it)"]
        return None, [f"{shown}: cannot be read: {exc}"]
    try:
        return read_json(content), []
    except TooDeep as exc:
        return None, [f"{shown}: {exc}"]
    except json.JSONDecodeError as exc:
        return None, [f"{shown}: line {exc.lineno} column {exc.colno}: not JSON: {exc.msg}"]
    except ValueError as exc:  # not UTF-8
        return None, [f"{shown}: not JSON: {clip(str(exc), 200)}"]


def _lines(shown: str, noun: str, problems: Sequence[Problem]) -> list[str]:
    """`my-task/catalog.json: [0].inputs[1].baseType: ...`, one line per problem."""
    return [
        f"{shown}: {problem.path.removeprefix(noun) or '(the whole file)'}: {problem.what}"
        for problem in problems
    ]


def _minified(document: Any) -> str:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def examples_problems(examples: Any, catalog: Sequence[Mapping[str, Any]]) -> list[Problem]:
    """Every problem of the examples against their schema, then against the catalog."""
    found = _contracts().examples_problems(examples)
    if found:
        return found
    tasks = routes("(being built)", catalog)
    return [
        problem
        for problem in (example_route(example, tasks) for example in examples_from(examples))
        if isinstance(problem, Problem)
    ]


def parse_examples(text: str, catalog: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The examples of examples.json; ExamplesError unless valid for this catalog."""
    try:
        examples = read_json(text)
    except TooDeep as exc:
        raise ExamplesError(f"the examples are {exc}") from None
    except ValueError as exc:
        raise ExamplesError(f"the examples are not JSON: {exc}") from None
    problems = _contracts().catalog_problems(list(catalog))
    if problems:
        raise ExamplesError(f"image (being built): label {CATALOG_LABEL}: {problems[0]}")
    found = examples_problems(examples, catalog)
    if found:
        raise ExamplesError("; ".join(str(problem) for problem in found))
    result: list[dict[str, Any]] = examples
    return result


def examples_label(text: str, catalog: Sequence[Mapping[str, Any]]) -> str:
    """The examples, checked and minified for the label."""
    return _minified(parse_examples(text, catalog))

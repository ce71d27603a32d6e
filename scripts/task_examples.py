"""A task image's examples, checked before they go in the xc-scenario.examples label.

The rules are the runner's own (schemas/task-examples.schema.json through
runner.contracts, and runner.core.examples: every example names one task of the
catalog), so that `make images` refuses what `xc-runner check` would.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from runner.contracts import Contracts
from runner.contracts.validation import joined
from runner.core.catalog import CATALOG_LABEL, routes
from runner.core.conformance import Problem
from runner.core.errors import ConfigError
from runner.core.examples import EXAMPLES_LABEL, example_route, examples_from

__all__ = ["EXAMPLES_LABEL", "ExamplesError", "examples_label", "parse_examples"]


class ExamplesError(ValueError):
    """The examples are not valid; the message says where and why."""


@cache
def _contracts() -> Contracts:
    """The schemas, read once for every image built."""
    return Contracts()


def parse_examples(text: str, catalog: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The examples of examples.json; ExamplesError unless valid for this catalog."""
    try:
        examples = json.loads(text)
    except ValueError as exc:
        raise ExamplesError(f"the examples are not JSON: {exc}") from None
    contracts = _contracts()
    problem = joined(contracts.examples_problems(examples))
    if problem:
        raise ExamplesError(problem)
    try:
        contracts.check_catalog(list(catalog), f"image (being built): label {CATALOG_LABEL}")
    except ConfigError as exc:
        raise ExamplesError(str(exc)) from None
    tasks = routes("(being built)", catalog)
    for example in examples_from(examples):
        found = example_route(example, tasks)
        if isinstance(found, Problem):
            raise ExamplesError(str(found))
    result: list[dict[str, Any]] = examples
    return result


def examples_label(text: str, catalog: Sequence[Mapping[str, Any]]) -> str:
    """The examples, checked and minified for the label."""
    examples = parse_examples(text, catalog)
    return json.dumps(examples, ensure_ascii=False, separators=(",", ":"))


if __name__ == "__main__":
    from scripts.usage import part_of

    sys.exit(part_of(__doc__, "make images"))

"""A task image's examples: the label xc-scenario.examples, checked against its catalog.

Pure: the text of <folder>/examples.json and the image's catalog in, the label
out, or ExamplesError naming the problem (schemas/task-examples.schema.json,
then: every example names a task of the catalog).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

import jsonschema

from runner.contracts import problems, schema_dir

EXAMPLES_LABEL = "xc-scenario.examples"
SCHEMA_FILE = "task-examples.schema.json"


class ExamplesError(ValueError):
    """The examples are not valid; the message says where and why."""


@cache
def _validator() -> jsonschema.Draft202012Validator:
    schema = json.loads((schema_dir() / SCHEMA_FILE).read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


def example_route(
    example: Mapping[str, Any], catalog: Sequence[Mapping[str, Any]]
) -> tuple[str, str] | None:
    """(namespace, task) of the catalog's task the example names; None if none or ambiguous."""
    found = {
        (d.get("namespace"), d.get("name"))
        for d in catalog
        if d.get("name") == example["task"]
        and example.get("namespace", d.get("namespace")) == d.get("namespace")
    }
    if len(found) != 1:
        return None
    namespace, name = found.pop()
    return str(namespace), str(name)


def parse_examples(text: str, catalog: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The examples of examples.json; ExamplesError unless valid for this catalog."""
    try:
        examples = json.loads(text)
    except ValueError as exc:
        raise ExamplesError(f"the examples are not JSON: {exc}") from None
    problem = problems(_validator(), examples, "examples")
    if problem:
        raise ExamplesError(problem)
    for index, example in enumerate(examples):
        if example_route(example, catalog) is None:
            where = f"{example.get('namespace', '')}/{example['task']}".lstrip("/")
            raise ExamplesError(
                f"examples[{index}]: the catalog has no task {where}"
                " (or has it in several namespaces: name one with 'namespace')"
            )
    result: list[dict[str, Any]] = examples
    return result


def examples_label(text: str, catalog: Sequence[Mapping[str, Any]]) -> str:
    """The examples, checked and minified for the label."""
    examples = parse_examples(text, catalog)
    return json.dumps(examples, ensure_ascii=False, separators=(",", ":"))

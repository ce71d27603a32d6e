"""The wire contracts in schemas/, checked with jsonschema.

The only module of the runner that imports jsonschema. Validation errors become
short sentences that name the offending field; callers get either a problem
string or one of the runner's typed errors. Every `pattern` is matched by RE2
(runner/contracts/regex.py), in time linear in the text, never by Python's
backtracking `re`; a catalog whose customRegex RE2 cannot run is refused.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
import referencing
from jsonschema.exceptions import ValidationError
from jsonschema.protocols import Validator

from runner.contracts import regex
from runner.contracts.catalogcheck import name_problems, semantic_problems
from runner.core.catalog import TaskRoute, finite_double, fits_int64, value_schema
from runner.core.catalogrules import not_a_list, unsendable
from runner.core.conformance import Problem
from runner.core.errors import ConfigError, TaskRejected
from runner.core.text import clip, short

SCHEMA_FILES = (
    "catalog.schema.json",
    "task-input.schema.json",
    "task-message.schema.json",
    "task-instance.schema.json",
    "task-status.schema.json",
    "task-examples.schema.json",
)
_MAX_REPORTED = 5


def _matched_by(match: Callable[[str, str], bool], noun: str) -> Any:
    """A keyword whose value is a regex matched by RE2, with Python's syntax and meaning:
    `pattern` (searched), and `customRegex` of the schemas derived from a catalog (the
    whole value matched: runner/core/catalog.py)."""

    def keyword(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[Any]:
        if not validator.is_type(instance, "string"):
            return
        try:
            found = match(pattern, instance)
        except regex.RegexRefused as exc:
            yield ValidationError(f"the {noun} {pattern!r} cannot be run: {exc}")
            return
        if not found:
            regex_word = "the regex " if noun == "regex" else ""
            yield ValidationError(f"{instance!r} does not match {regex_word}{pattern!r}")

    return keyword


_Draft: type[Validator] = jsonschema.validators.extend(  # type: ignore[no-untyped-call]
    jsonschema.Draft202012Validator,
    {
        "pattern": _matched_by(regex.search, "pattern"),
        "customRegex": _matched_by(regex.matches_whole, "regex"),
    },
)
# The schemas' formats, but "regex": jsonschema checks one with Python's `re.compile`, which
# backtracks on nothing here but warns (FutureWarning, naming its own source lines) and
# reads a regex other than RE2 does. A catalog's regexes are checked as they are run.
_FORMATS = jsonschema.FormatChecker(())
_FORMATS.checkers = {
    name: check
    for name, check in jsonschema.Draft202012Validator.FORMAT_CHECKER.checkers.items()
    if name != "regex"
}
# The formats of the schemas derived from catalogs (runner.core.catalog), asserted.
_DERIVED_FORMATS = jsonschema.FormatChecker(formats=())
_DERIVED_FORMATS.checks("int64")(fits_int64)
_DERIVED_FORMATS.checks("double")(finite_double)


def schema_dir() -> Path:
    """schemas/ in a source checkout, or the copy packaged inside the wheel."""
    package = Path(__file__).resolve().parent.parent
    packaged = package / "_schemas"
    return packaged if packaged.is_dir() else package.parent / "schemas"


def _location(error: ValidationError, noun: str) -> str:
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    return f"{noun}{path}" if path else noun


def located(error: ValidationError, noun: str) -> Problem:
    """Where the error is (`noun[0].field`) and what is wrong."""
    schema: Mapping[str, Any] = error.schema if isinstance(error.schema, Mapping) else {}
    instance = error.instance
    where = _location(error, noun)
    if error.validator == "required" and isinstance(error.validator_value, list):
        present = instance if isinstance(instance, dict) else {}
        missing = [n for n in error.validator_value if n not in present]
        return Problem(where, f"missing {', '.join(repr(m) for m in missing)}")
    if error.validator == "additionalProperties" and isinstance(instance, dict):
        known = set(schema.get("properties", {}))
        extra = sorted(k for k in instance if k not in known)
        return Problem(where, f"not declared: {', '.join(repr(e) for e in extra)}")
    refused = error.validator_value if error.validator == "not" else None
    if isinstance(refused, Mapping) and list(refused) == ["required"]:
        return Problem(where, f"must not have {', '.join(repr(n) for n in refused['required'])}")
    if error.validator in ("anyOf", "oneOf", "type") and "title" in schema:
        return Problem(where, f"{short(instance)} is not {schema['title']}")
    return Problem(where, clip(error.message, 200))


def problem_list(validator: Validator, instance: Any, noun: str) -> list[Problem]:
    """Every problem of `instance`, each at its path from `noun`, in path order, once
    (jsonschema reports each missing property apart: `missing 'a', 'b'` says them all)."""
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.path)))
    return list(dict.fromkeys(located(e, noun) for e in errors))


def problems(validator: Validator, instance: Any, noun: str) -> str | None:
    return joined(problem_list(validator, instance, noun))


def joined(found: Sequence[Problem]) -> str | None:
    """The first few problems as one line; None for none."""
    if not found:
        return None
    text = "; ".join(str(p) for p in found[:_MAX_REPORTED])
    more = len(found) - _MAX_REPORTED
    return text + (f" (and {more} more)" if more > 0 else "")


class Contracts:
    """Validators for every schema in schemas/, and for schemas derived from catalogs."""

    def __init__(self, directory: Path | None = None) -> None:
        directory = directory or schema_dir()
        self.schemas: dict[str, dict[str, Any]] = {}
        for name in SCHEMA_FILES:
            path = directory / name
            try:
                self.schemas[name] = json.loads(path.read_text())
            except (OSError, ValueError) as exc:
                raise ConfigError(f"cannot load schema {path}: {exc}") from None
        resources = [
            (s["$id"], referencing.Resource.from_contents(s)) for s in self.schemas.values()
        ]
        self._registry: referencing.Registry[Any] = referencing.Registry().with_resources(resources)
        self._validators: dict[str, Validator] = {}

    def validator(self, name: str, pointer: str = "") -> Validator:
        """A validator for a schema file, or for a definition inside it (`#/$defs/x`)."""
        uri = self.schemas[name]["$id"] + pointer
        validator = self._validators.get(uri)
        if validator is None:
            validator = _Draft(
                {"$ref": uri},
                registry=self._registry,
                format_checker=_FORMATS,
            )
            self._validators[uri] = validator
        return validator

    def check_catalog(self, catalog: Any, source: str) -> None:
        problem = joined(self.catalog_problems(catalog))
        if problem:
            raise ConfigError(f"{source}: {problem}")

    def catalog_problems(self, catalog: Any) -> list[Problem]:
        """Every problem of a catalog: its schema's, else those the schema cannot say.
        A namespace or name against the rule of runner/core/names.py is named with it.
        `check`, a runner's start-up and the local server's catalog endpoint all ask here."""
        if (wrong := not_a_list(catalog)) is not None:
            return [wrong]
        names = list(name_problems(catalog))
        named = {problem.path for problem in names}
        found = problem_list(self.validator("catalog.schema.json"), catalog, "catalog")
        found = names + [problem for problem in found if problem.path not in named]
        if found:
            return found
        found = list(semantic_problems(catalog, _default_problems))
        return found + unsendable(catalog, found)

    def examples_problems(self, examples: Any) -> list[Problem]:
        """Every problem of an examples label against schemas/task-examples.schema.json."""
        return problem_list(self.validator("task-examples.schema.json"), examples, "examples")

    def check_message(self, message: Mapping[str, Any]) -> str | None:
        """The message against the one definition its type and status select."""
        found = self.message_problems(message)
        if found and found[0].path == "message.status" and len(found) == 1:
            return f"status {found[0].what}"
        return joined(found)

    def message_problems(self, message: Mapping[str, Any]) -> list[Problem]:
        if message.get("type") == "result":
            pointer = "#/$defs/result"
        elif message.get("status") == "InProgress":
            pointer = "#/$defs/notifyProgress"
        elif message.get("status") == "Error":
            pointer = "#/$defs/notifyError"
        else:
            found = message.get("status")
            return [Problem("message.status", f"must be 'InProgress' or 'Error', not {found!r}")]
        validator = self.validator("task-message.schema.json", pointer)
        return problem_list(validator, message, "message")

    def check(self, name: str, instance: Any, noun: str, pointer: str = "") -> str | None:
        """What is wrong with `instance` against a schema file (or a definition inside
        it: `pointer` "#/$defs/x"), in sentences that name `noun`'s fields; None if fine."""
        return problems(self.validator(name, pointer), instance, noun)

    def task_inputs(self, route: TaskRoute, input_data: Mapping[str, Any] | None) -> dict[str, Any]:
        """The inputs a task container receives; TaskRejected names what is wrong."""
        values = route.inputs_from(input_data)
        problem = problems(_derived(route.input_schema), values, "input")
        if problem:
            raise TaskRejected(f"invalid inputs for {route.namespace}/{route.name}: {problem}")
        return values

    def input_problems(
        self, route: TaskRoute, input_data: Mapping[str, Any] | None
    ) -> list[Problem]:
        """Every problem of a task's inputs (defaults filled in), each at `input.<name>`."""
        return problem_list(_derived(route.input_schema), route.inputs_from(input_data), "input")

    def task_outputs(
        self, route: TaskRoute, outputs: Mapping[str, Any]
    ) -> tuple[dict[str, Any], str | None]:
        values = route.outputs_from(outputs)
        problem = problems(_derived(route.output_schema), values, "output")
        return values, problem

    def output_problems(self, route: TaskRoute, outputs: Mapping[str, Any]) -> list[Problem]:
        """A result's outputs against the task's catalog, each problem at `outputs.<name>`."""
        return problem_list(_derived(route.output_schema), route.outputs_from(outputs), "outputs")


def _derived(schema: Mapping[str, Any]) -> Validator:
    return _compile_derived(json.dumps(schema, sort_keys=True))


@lru_cache(maxsize=1024)
def _compile_derived(schema_text: str) -> Validator:
    return _Draft(json.loads(schema_text), format_checker=_DERIVED_FORMATS)


def _default_problems(param: Mapping[str, Any], where: str) -> list[Problem]:
    """A parameter's defaultValue against its own type, each problem at `where`."""
    return problem_list(_derived(value_schema(param)), param["defaultValue"], where)

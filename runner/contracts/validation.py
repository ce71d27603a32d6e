"""The wire contracts in schemas/, checked with jsonschema.

The only module of the runner that imports jsonschema. Validation errors become
short sentences that name the offending field; callers get either a problem
string or one of the runner's typed errors.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
import referencing
from jsonschema.exceptions import ValidationError
from jsonschema.protocols import Validator

from runner.core.catalog import TaskRoute, value_schema
from runner.core.errors import ConfigError, TaskRejected

SCHEMA_FILES = (
    "catalog.schema.json",
    "task-input.schema.json",
    "task-message.schema.json",
    "task-instance.schema.json",
    "task-status.schema.json",
)
_MAX_REPORTED = 5


def schema_dir() -> Path:
    """schemas/ in a source checkout, or the copy packaged inside the wheel."""
    package = Path(__file__).resolve().parent.parent
    packaged = package / "_schemas"
    return packaged if packaged.is_dir() else package.parent / "schemas"


def _location(error: ValidationError, noun: str) -> str:
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    return f"{noun}{path}" if path else noun


def describe(error: ValidationError, noun: str) -> str:
    """One sentence naming where the error is and what is wrong."""
    schema: Mapping[str, Any] = error.schema if isinstance(error.schema, Mapping) else {}
    instance = error.instance
    where = _location(error, noun)
    if error.validator == "required" and isinstance(error.validator_value, list):
        present = instance if isinstance(instance, dict) else {}
        missing = [n for n in error.validator_value if n not in present]
        return f"{where}: missing {', '.join(repr(m) for m in missing)}"
    if error.validator == "additionalProperties" and isinstance(instance, dict):
        known = set(schema.get("properties", {}))
        extra = sorted(k for k in instance if k not in known)
        return f"{where}: not declared: {', '.join(repr(e) for e in extra)}"
    if error.validator in ("anyOf", "oneOf", "type") and "title" in schema:
        return f"{where}: {_short(instance)} is not {schema['title']}"
    return f"{where}: {_clip(error.message)}"


def _clip(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _short(value: Any) -> str:
    return _clip(repr(value), 80)


def problems(validator: Validator, instance: Any, noun: str) -> str | None:
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.path)))
    if not errors:
        return None
    text = "; ".join(describe(e, noun) for e in errors[:_MAX_REPORTED])
    more = len(errors) - _MAX_REPORTED
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
            validator = jsonschema.Draft202012Validator(
                {"$ref": uri},
                registry=self._registry,
                format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
            )
            self._validators[uri] = validator
        return validator

    def check_catalog(self, catalog: Any, source: str) -> None:
        problem = problems(self.validator("catalog.schema.json"), catalog, "catalog")
        if problem is None:
            problem = _semantic_problem(catalog)
        if problem:
            raise ConfigError(f"{source}: {problem}")

    def check_message(self, message: Mapping[str, Any]) -> str | None:
        """The message against the one definition its type and status select."""
        if message.get("type") == "result":
            pointer = "#/$defs/result"
        elif message.get("status") == "InProgress":
            pointer = "#/$defs/notifyProgress"
        elif message.get("status") == "Error":
            pointer = "#/$defs/notifyError"
        else:
            return f"status must be 'InProgress' or 'Error', not {message.get('status')!r}"
        return problems(self.validator("task-message.schema.json", pointer), message, "message")

    def check(self, name: str, instance: Any, noun: str, pointer: str = "") -> str | None:
        """What is wrong with `instance` against a schema file (or a definition inside
        it: `pointer` "#/$defs/x"), in sentences that name `noun`'s fields; None if fine."""
        return problems(self.validator(name, pointer), instance, noun)

    def task_inputs(self, route: TaskRoute, input_data: Mapping[str, Any] | None) -> dict[str, Any]:
        """The inputs a task container receives; TaskRejected names what is wrong."""
        inputs = route.inputs_from(input_data)
        problem = problems(_derived(route.input_schema), inputs, "input")
        if problem:
            raise TaskRejected(f"invalid inputs for {route.namespace}/{route.name}: {problem}")
        return inputs

    def task_outputs(
        self, route: TaskRoute, outputs: Mapping[str, Any]
    ) -> tuple[dict[str, Any], str | None]:
        values = route.outputs_from(outputs)
        problem = problems(_derived(route.output_schema), values, "output")
        return values, problem


def _derived(schema: Mapping[str, Any]) -> Validator:
    return _compile_derived(json.dumps(schema, sort_keys=True))


@lru_cache(maxsize=1024)
def _compile_derived(schema_text: str) -> Validator:
    return jsonschema.Draft202012Validator(json.loads(schema_text))


def _semantic_problem(catalog: Iterable[Mapping[str, Any]]) -> str | None:
    """What the schema cannot say: unique names, and defaults that fit their own type."""
    seen: set[tuple[str, str]] = set()
    for index, definition in enumerate(catalog):
        key = (definition["namespace"], definition["name"])
        where = f"catalog[{index}] ({key[0]}/{key[1]})"
        if key in seen:
            return f"{where}: task declared twice"
        seen.add(key)
        for kind in ("inputs", "outputs"):
            params = definition.get(kind) or []
            names = [p["name"] for p in params]
            duplicates = sorted({n for n in names if names.count(n) > 1})
            if duplicates:
                return f"{where}: {kind} declared twice: {', '.join(duplicates)}"
            for param in params:
                default = param.get("defaultValue")
                if default is None:
                    continue
                problem = problems(_derived(value_schema(param)), default, "defaultValue")
                if problem:
                    return f"{where}: {kind} {param['name']!r}: {problem}"
    return None

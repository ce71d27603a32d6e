"""Task catalogs: which image runs which task, and the JSON Schemas derived from them.

Pure logic: reading the catalog label goes through a callable, and checking
against schemas/catalog.schema.json through another, so nothing here needs
Docker or jsonschema.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from runner.core.documents import TooDeep, read_json
from runner.core.errors import ConfigError
from runner.core.protocol import NUMERIC_STRING

CATALOG_LABEL = "xc-scenario.catalog"
# A catalog (an image's label, or one namespace's as published) is at most this much JSON:
# reading and checking one costs about a microsecond a byte.
MAX_CATALOG_BYTES = 512 * 1024
TYPE_ANNOTATION_SUFFIXES = ("#type", "#subtype")

# An Integer is a 64-bit integer, as the platform and the typed SDKs read it: a JSON number
# such as 1e308 is integral but no task could read it, nor its text "9223372036854775808"
# (format int64: `fits_int64`). A Number is a finite double, as its text too ("1e999"
# overflows: format double, `finite_double`). The formats' names are OpenAPI's.
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_INT64 = {"minimum": _INT64_MIN, "maximum": _INT64_MAX}
_INTEGER_TEXT = r"^\s*[-+]?[0-9]{1,19}\s*$"
_NUMBER_TEXT = f"^{NUMERIC_STRING.pattern}$"
_BOOLEAN_TEXT = r"^(true|false|True|False|TRUE|FALSE)$"

# baseType (lower-cased) -> the JSON Schema of one value. Numbers and booleans
# may also arrive as their text, as the platform's forms produce strings.
_BASE_TYPES: dict[str, dict[str, Any]] = {
    "string": {"title": "a string", "type": "string"},
    "integer": {
        "title": "a 64-bit integer (or its text)",
        "anyOf": [
            {"type": "integer", **_INT64},
            {"type": "string", "pattern": _INTEGER_TEXT, "format": "int64"},
        ],
    },
    "number": {
        "title": "a number (or its text)",
        "anyOf": [
            {"type": "number", "format": "double"},
            {"type": "string", "pattern": _NUMBER_TEXT, "format": "double"},
        ],
    },
    "boolean": {
        "title": "a boolean (or true/false as text)",
        "anyOf": [{"type": "boolean"}, {"type": "string", "pattern": _BOOLEAN_TEXT}],
    },
    "object": {"title": "a JSON object", "type": "object"},
    "any": {},  # any JSON value, said on purpose (an unknown type is refused instead)
}
_BASE_TYPE_ALIASES = {
    "string": "string",
    "text": "string",
    "integer": "integer",
    "int": "integer",
    "long": "integer",
    "short": "integer",
    "number": "number",
    "double": "number",
    "float": "number",
    "decimal": "number",
    "boolean": "boolean",
    "bool": "boolean",
    "object": "object",
    "json": "object",
    "map": "object",
    "any": "any",
}
BASE_TYPE_NAMES = tuple(_BASE_TYPE_ALIASES)  # what a baseType may be, in any case


def fits_int64(value: object) -> bool:
    """Format int64: an integer's text is in the 64-bit range (other values: not its say)."""
    if not isinstance(value, str):
        return True
    try:
        return _INT64_MIN <= int(value) <= _INT64_MAX
    except ValueError:  # not an integer's text: the pattern says so
        return True


def finite_double(value: object) -> bool:
    """Format double: a number, or a number's text, is a finite double (1e999 and 10**400
    are not: they overflow to infinity)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return True
    try:
        return math.isfinite(float(value))
    except ValueError:  # not a number's text: the pattern says so
        return True
    except OverflowError:  # an int too large for a double
        return False


def base_kind(base_type: str | None) -> str | None:
    """The JSON kind of a baseType (String when it has none); None for a type we do not
    know, which a catalog may not declare (runner.core.parameters)."""
    return _BASE_TYPE_ALIASES.get((base_type or "String").strip().lower())


def value_schema(param: Mapping[str, Any]) -> dict[str, Any]:
    """JSON Schema of one input or output, from its CatalogParameterType."""
    kind = base_kind(param.get("baseType"))
    schema: dict[str, Any] = dict(_BASE_TYPES[kind]) if kind else {}
    allowed = param.get("allowedValues")
    if allowed:
        schema = {"enum": _allowed_variants(allowed, kind)}
    regex = param.get("customRegex")
    if regex:
        # The platform matches the whole value; JSON Schema's pattern searches, and a
        # regex's own flags (`(?i)`) must stay at its start: a keyword of the runner's own.
        schema["customRegex"] = regex
    if param.get("allowMultipleValues"):
        schema = {"type": "array", "items": schema}
    return schema


def _allowed_variants(allowed: Sequence[str], kind: str | None) -> list[Any]:
    variants: list[Any] = list(allowed)
    for text in allowed:
        try:
            if kind == "integer":
                variants.append(int(text))
            elif kind == "number":
                variants.append(float(text))
            elif kind == "boolean" and text.lower() in ("true", "false"):
                variants.append(text.lower() == "true")
        except ValueError:
            continue
    return variants


def has_default(param: Mapping[str, Any]) -> bool:
    return param.get("defaultValue") is not None


def parameters_schema(params: Iterable[Mapping[str, Any]] | None) -> dict[str, Any]:
    """JSON Schema of a whole inputs (or outputs) object.

    Every parameter without a default is required; names the catalog does not
    declare are refused.
    """
    params = list(params or ())
    return {
        "type": "object",
        "properties": {p["name"]: value_schema(p) for p in params},
        "required": [p["name"] for p in params if not has_default(p)],
        "additionalProperties": False,
    }


def normalize_values(
    data: Mapping[str, Any] | None, params: Iterable[Mapping[str, Any]] | None
) -> dict[str, Any]:
    """Drop `#type`/`#subtype` annotations, then fill absent or null values from defaults."""
    values = {
        key: value
        for key, value in (data or {}).items()
        if not key.endswith(TYPE_ANNOTATION_SUFFIXES) and value is not None
    }
    for param in params or ():
        if param["name"] not in values and has_default(param):
            values[param["name"]] = param["defaultValue"]
    return values


@dataclass(frozen=True)
class TaskRoute:
    """One task of the catalog and the image that runs it."""

    image: str
    definition: Mapping[str, Any]

    @cached_property
    def input_schema(self) -> Mapping[str, Any]:
        """JSON Schema of the task's inputs object, derived from its definition."""
        return parameters_schema(self.definition.get("inputs"))

    @cached_property
    def output_schema(self) -> Mapping[str, Any]:
        """JSON Schema of the task's outputs object, derived from its definition."""
        return parameters_schema(self.definition.get("outputs"))

    @property
    def namespace(self) -> str:
        return str(self.definition["namespace"])

    @property
    def name(self) -> str:
        return str(self.definition["name"])

    @property
    def timeout_ms(self) -> int | None:
        value = self.definition.get("timeOutInMillis")
        return int(value) if value else None

    def inputs_from(self, input_data: Mapping[str, Any] | None) -> dict[str, Any]:
        return normalize_values(input_data, self.definition.get("inputs"))

    def outputs_from(self, outputs: Mapping[str, Any]) -> dict[str, Any]:
        return normalize_values(outputs, self.definition.get("outputs"))


class Catalog:
    """Every task the runner serves, by namespace and name."""

    def __init__(self, routes: Iterable[TaskRoute]) -> None:
        self._routes: dict[tuple[str, str], TaskRoute] = {}
        for route in routes:
            key = (route.namespace, route.name)
            if key in self._routes:
                other = self._routes[key].image
                raise ConfigError(
                    f"task {key[0]}/{key[1]} is declared by two images: {other} and {route.image}"
                )
            self._routes[key] = route

    def route(self, namespace: str, name: str) -> TaskRoute | None:
        return self._routes.get((namespace, name))

    @property
    def namespaces(self) -> tuple[str, ...]:
        return tuple(sorted({ns for ns, _ in self._routes}))

    def definitions(self, namespace: str) -> list[Mapping[str, Any]]:
        return [r.definition for (ns, _), r in self._routes.items() if ns == namespace]

    def __len__(self) -> int:
        return len(self._routes)

    def __iter__(self) -> Iterator[TaskRoute]:
        return iter(self._routes.values())


CatalogCheck = Callable[[Any, str], None]  # raises ConfigError naming the source


def routes_from_label(
    image: str, labels: Mapping[str, str] | None, check: CatalogCheck
) -> list[TaskRoute]:
    """The tasks an image declares in its catalog label, checked against the schema."""
    text = (labels or {}).get(CATALOG_LABEL)
    if not text or not text.strip():
        raise ConfigError(
            f"image {image}: no {CATALOG_LABEL} label (or an empty one); a task image must "
            "declare its task catalog in that label (see README)"
        )
    try:
        catalog = read_label(text)
    except ValueError as exc:
        raise ConfigError(f"image {image}: label {CATALOG_LABEL} is {exc}") from None
    check(catalog, f"image {image}: label {CATALOG_LABEL}")
    return routes(image, catalog)


def read_label(text: str) -> Any:
    """A label's JSON; ValueError saying what it is instead (too large, too deep, not valid
    JSON), to follow "label NAME is"."""
    if (too_large := size_problem(text)) is not None:
        raise ValueError(too_large)
    try:
        return read_json(text)
    except TooDeep:
        raise
    except ValueError as exc:
        raise ValueError(f"not valid JSON: {exc}") from None


def size_problem(text: str | bytes) -> str | None:
    """Why a catalog's (or a label's) JSON text is too large to be read, or None."""
    size = len(text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text)
    if size <= MAX_CATALOG_BYTES:
        return None
    return f"{size:,} bytes, over the limit of {MAX_CATALOG_BYTES // 1024} KiB"


def routes(image: str, definitions: Iterable[Mapping[str, Any]]) -> list[TaskRoute]:
    """The tasks of an image's catalog, already checked against the schema."""
    return [TaskRoute(image, definition) for definition in definitions]

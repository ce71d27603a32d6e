"""What a catalog may declare, beyond what schemas/catalog.schema.json says.

`check`, a runner's start-up and the local server's catalog endpoint all hold a catalog
to these rules (runner.contracts.Contracts.catalog_problems), so a catalog that passes
one passes the others. Each broken rule refuses the catalog; none is only a warning:

- a catalog that is not an array (a label holding `null`);
- a `baseType` the runner does not know (`"Objekt"`): no value of it could be checked,
  and no typed SDK could read one;
- a `customRegex` on an input that is not a String: a pattern binds only strings, so
  `"500"` would be refused and `500` accepted;
- an empty `allowedValues`: no value could ever be given;
- a value no platform could be sent: a number that is not a finite double (a default
  `1e999`), a lone surrogate, nesting deeper than a platform takes.

The defaults are held to their own type elsewhere (their schema, runner.core.catalog):
an Integer's text within 64 bits, a Number finite.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from runner.core.catalog import BASE_TYPE_NAMES, base_kind
from runner.core.conformance import Problem
from runner.core.documents import MAX_DEPTH
from runner.core.jsoncheck import first_problem_at

# How deep a catalog may nest (a default of type Object): as deep as a platform takes a body.
MAX_CATALOG_DEPTH = MAX_DEPTH
_KINDS = {dict: "an object", str: "a string", int: "a number", float: "a number", bool: "a boolean"}

_CANONICAL = ("String", "Integer", "Number", "Boolean", "Object", "Any")
_KNOWN = (
    f"{', '.join(_CANONICAL)}, in any case, or an alias: "
    f"{', '.join(n for n in BASE_TYPE_NAMES if n.capitalize() not in _CANONICAL)}"
)


def not_a_list(catalog: Any) -> Problem | None:
    """The catalog's problem when it is not an array at all."""
    if isinstance(catalog, list):
        return None
    kind = "null" if catalog is None else _KINDS.get(type(catalog), "not JSON")
    return Problem("catalog", f"must be a JSON array of task definitions, not {kind}")


def unsendable(catalog: Any, found: Sequence[Problem]) -> list[Problem]:
    """The first value of the catalog that no platform could be sent, unless it lies where
    a problem in `found` is already said."""
    bad = first_problem_at(catalog, "catalog", MAX_CATALOG_DEPTH)
    if bad is None or any(_within(bad[0], problem.path) for problem in found):
        return []
    return [Problem(*bad)]


def _within(path: str, outer: str) -> bool:
    """Whether `path` is `outer` or inside it (`a[1].b` is inside `a[1]`, not `a[10]`)."""
    return path == outer or path.startswith((f"{outer}.", f"{outer}["))


def parameter_problems(param: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """Each rule `param` breaks, as (its field, what is wrong)."""
    base_type = param.get("baseType")
    kind = base_kind(base_type)
    if kind is None:
        yield "baseType", f"baseType {base_type!r} is not a type the runner knows{_hint(base_type)}"
    elif param.get("customRegex") and kind != "string":
        yield (
            "customRegex",
            f'customRegex binds String values only, not {base_type!r} ones ("500" would be '
            "refused, 500 accepted); use allowedValues, or make the input a String",
        )
    if param.get("allowedValues") == []:
        yield (
            "allowedValues",
            "allowedValues is empty: no value could be given; leave it out to allow any value",
        )


def _hint(base_type: object) -> str:
    if not isinstance(base_type, str):
        return f" ({_KNOWN})"
    close = difflib.get_close_matches(base_type.lower(), BASE_TYPE_NAMES, n=1, cutoff=0.6)
    guess = f"; did you mean {close[0].capitalize()!r}?" if close else ""
    return f"{guess} ({_KNOWN})"

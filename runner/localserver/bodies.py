"""Every request body checked whole before anything is stored: HttpError 400 names the field.

`jsontext.parse` has already refused bad JSON, too deep nesting, numbers that
are not finite doubles and strings that are not Unicode text; here each field
is checked for its own type and range.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from functools import lru_cache
from typing import Any

from runner.contracts import Contracts
from runner.core.errors import ConfigError
from runner.core.names import NAME_RULE, name_problem
from runner.core.protocol import NUMERIC_STRING
from runner.localserver.errors import HttpError, quoted

_MAX_INT32 = 2**31 - 1
# Java's int and JavaScript's setTimeout both stop at 2**31 - 1 ms (24.8 days).
MAX_TIMEOUT_MS = _MAX_INT32
MAX_MESSAGE_CHARS = 64 * 1024  # the runner cuts messages at 16 KiB
MAX_INSTANCE_ID_CHARS = 200
_MAX_INT64 = 2**63 - 1
_SUBMIT_FIELDS = ("namespace", "name", "inputData", "timeOutInMillis")


def object_of(body: Any, noun: str, fields: Collection[str]) -> dict[str, Any]:
    """`body` as a JSON object of only these fields; 400 naming what is not (`noun` names it)."""
    if not isinstance(body, dict):
        raise HttpError(400, f"{noun}: must be a JSON object")
    unknown = sorted(set(body) - set(fields))
    if unknown:
        raise HttpError(400, f"{noun}: unknown field(s) {', '.join(quoted(u) for u in unknown)}")
    return body


def status(body: Any, contracts: Contracts) -> dict[str, Any]:
    """A task status as the runner posts it, with every field in range."""
    problem = contracts.check("task-status.schema.json", body, "status")
    if problem:
        raise HttpError(400, problem)
    instance_id = body["taskInstanceId"]
    if isinstance(instance_id, int) and abs(instance_id) > _MAX_INT64:
        raise HttpError(
            400, f"status.taskInstanceId: {quoted(instance_id)} is not a 64-bit integer"
        )
    if isinstance(instance_id, str) and not 0 < len(instance_id) <= MAX_INSTANCE_ID_CHARS:
        raise HttpError(
            400, f"status.taskInstanceId: must be 1 to {MAX_INSTANCE_ID_CHARS} characters long"
        )
    message = body.get("message")
    if message is not None and len(message) > MAX_MESSAGE_CHARS:
        raise HttpError(
            400,
            f"status.message: {len(message)} characters, over the limit of {MAX_MESSAGE_CHARS}",
        )
    _progress(body.get("progressPercentage"))
    return dict(body)


def _progress(value: Any) -> None:
    """A fraction done in [0, 1]: a number, or its text as the reference worker posts it."""
    if value is None:
        return
    number = value
    if isinstance(value, str):
        number = float(value) if len(value) <= 64 and NUMERIC_STRING.fullmatch(value) else None
    if number is None or not math.isfinite(number) or not 0 <= number <= 1:
        raise HttpError(
            400,
            f"status.progressPercentage: {quoted(value)} is not a number from 0 to 1 "
            "(the fraction done, as a number or its text)",
        )


Submission = tuple[str, str, dict[str, Any], int | None]


def submission(body: Any, contracts: Contracts, noun: str = "body") -> Submission:
    """The submit body's namespace, name, inputData and timeOutInMillis; `noun` names the
    body in a refusal (`body[3]`, one of a bulk submit's)."""
    if not isinstance(body, dict):
        raise HttpError(400, f"{noun} must be a JSON object with namespace, name and inputData")
    unknown = sorted(set(body) - set(_SUBMIT_FIELDS))
    if unknown:
        raise HttpError(
            400,
            f"{noun}: unknown field(s) {', '.join(quoted(u) for u in unknown)}; "
            f"expected {', '.join(_SUBMIT_FIELDS)}",
        )
    for field in ("namespace", "name"):
        _identifier(body.get(field), f"{noun}.{field}", contracts)
    inputs = body.get("inputData")
    if inputs is not None and not isinstance(inputs, dict):
        raise HttpError(400, f"{noun}.inputData: must be an object, not {type(inputs).__name__}")
    timeout = body.get("timeOutInMillis")
    if timeout is not None:
        _timeout(timeout, f"{noun}.timeOutInMillis")
    return body["namespace"], body["name"], inputs or {}, timeout


def _identifier(value: Any, where: str, contracts: Contracts) -> None:
    if isinstance(value, str) and _good_identifier(value, contracts):
        return  # most names recur (a bulk submit's): each is checked once
    problem = contracts.check("catalog.schema.json", value, where, "#/$defs/identifier")
    if problem:
        raise HttpError(400, problem)
    if (why := name_problem(value)) is not None:
        raise HttpError(400, f"{where}: {quoted(value)}: {why} ({NAME_RULE})")


@lru_cache(maxsize=1024)
def _good_identifier(value: str, contracts: Contracts) -> bool:
    schema = "catalog.schema.json"
    return not contracts.check(schema, value, "", "#/$defs/identifier") and not name_problem(value)


def _timeout(value: Any, where: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_TIMEOUT_MS:
        raise HttpError(
            400, f"{where}: must be a whole number from 1 to {MAX_TIMEOUT_MS}, not {quoted(value)}"
        )


def catalog(body: Any, namespace: str, contracts: Contracts) -> list[dict[str, Any]]:
    """A catalog for `namespace`, held to the rules `check` and a runner's start-up hold it to
    (Contracts.catalog_problems: its schema, 32-bit ranges, unique names, known types,
    defaults of their own type)."""
    try:
        contracts.check_catalog(body, f"catalog of namespace {quoted(namespace)}")
    except ConfigError as exc:
        raise HttpError(400, str(exc)) from None
    for index, definition in enumerate(body):
        where = f"catalog[{index}] ({definition['namespace']}/{definition['name']})"
        if definition["namespace"] != namespace:
            raise HttpError(
                400, f"{where}: namespace is not the URL's namespace {quoted(namespace)}"
            )
    return list(body)

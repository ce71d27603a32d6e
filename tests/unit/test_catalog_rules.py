"""The catalog rules beyond the schema (runner.core.catalogrules), held the same way by
`check` (Contracts.catalog_problems), a runner's start-up (routes_from_label) and the
local server's catalog endpoint (bodies.catalog): each refuses, naming the place."""

from __future__ import annotations

import json
from typing import Any

import pytest

from runner.contracts import Contracts
from runner.core.catalog import CATALOG_LABEL, TaskRoute, routes_from_label
from runner.core.errors import ConfigError, TaskRejected
from runner.localserver import bodies
from runner.localserver.errors import HttpError

CONTRACTS = Contracts()


def task(*inputs: dict[str, Any], **fields: Any) -> list[dict[str, Any]]:
    return [{"namespace": "ns", "name": "t", **fields, "inputs": list(inputs)}]


REFUSED = [
    (
        task({"name": "o", "baseType": "Objekt"}),
        "catalog[0].inputs[0].baseType: (ns/t) input 'o': baseType 'Objekt' is not a type the "
        "runner knows; did you mean 'Object'?",
    ),
    (task({"name": "o", "baseType": "Widget"}), "'Widget' is not a type the runner knows (String"),
    (
        task({"name": "n", "baseType": "Integer", "customRegex": "[0-9]{3}"}),
        "catalog[0].inputs[0].customRegex: (ns/t) input 'n': customRegex binds String values "
        "only, not 'Integer' ones",
    ),
    (
        task({"name": "c", "allowedValues": []}),
        "catalog[0].inputs[0].allowedValues: (ns/t) input 'c': allowedValues is empty",
    ),
    (
        task({"name": "n", "baseType": "Integer", "defaultValue": "9223372036854775808"}),
        "catalog[0].inputs[0].defaultValue: (ns/t) input 'n': '9223372036854775808' is not a "
        "64-bit integer (or its text)",
    ),
    (
        task({"name": "n", "baseType": "Long", "defaultValue": "-9223372036854775809"}),
        "'-9223372036854775809' is not a 64-bit integer",
    ),
    (
        task({"name": "x", "baseType": "Number", "defaultValue": "1e999"}),
        "catalog[0].inputs[0].defaultValue: (ns/t) input 'x': '1e999' is not a number",
    ),
    (
        task({"name": "x", "baseType": "Double", "defaultValue": 10**400}),
        "catalog[0].inputs[0].defaultValue: (ns/t) input 'x': 1000",
    ),
    (
        task({"name": "o", "baseType": "Object", "defaultValue": {"a": [float("inf")]}}),
        "catalog[0].inputs[0].defaultValue.a[0]: a number too large",
    ),
    (None, "catalog: must be a JSON array of task definitions, not null"),
    ({"namespace": "ns"}, "catalog: must be a JSON array of task definitions, not an object"),
    (task(schemaVersion=2**32), "catalog[0].schemaVersion: 4294967296 is greater than the max"),
    (task(versionNumber=-(2**31) - 1), "catalog[0].versionNumber: -2147483649 is less than"),
    (task(timeOutInMillis=2**31), "catalog[0].timeOutInMillis: 2147483648 is greater than"),
]


@pytest.mark.parametrize(("catalog", "words"), REFUSED)
def test_check_refuses(catalog: Any, words: str) -> None:
    found = [str(problem) for problem in CONTRACTS.catalog_problems(catalog)]
    assert any(words in line for line in found), found


@pytest.mark.parametrize(("catalog", "words"), REFUSED)
def test_a_runner_start_up_refuses_the_same(catalog: Any, words: str) -> None:
    label = json.dumps(catalog, allow_nan=True)  # Infinity: as json.loads reads 1e999
    with pytest.raises(ConfigError) as raised:
        routes_from_label("img", {CATALOG_LABEL: label}, CONTRACTS.check_catalog)
    assert words in str(raised.value)


@pytest.mark.parametrize(("catalog", "words"), REFUSED)
def test_the_local_server_refuses_the_same(catalog: Any, words: str) -> None:
    with pytest.raises(HttpError) as raised:
        bodies.catalog(catalog, "ns", CONTRACTS)
    assert raised.value.status == 400
    assert words in raised.value.message


@pytest.mark.parametrize(
    "param",
    [
        {"name": "n", "baseType": "Integer", "defaultValue": "9223372036854775807"},
        {"name": "n", "baseType": "Integer", "defaultValue": " -9223372036854775808 "},
        {"name": "n", "baseType": "int", "defaultValue": -(2**63)},
        {"name": "x", "baseType": "Number", "defaultValue": "1.7976931348623157e308"},
        {"name": "x", "baseType": "FLOAT", "defaultValue": 1e308},
        {"name": "s", "baseType": "String", "customRegex": "[a-z]+", "defaultValue": "abc"},
        {"name": "s", "customRegex": "[a-z]+"},
        {"name": "s", "baseType": None, "allowedValues": None},
        {"name": "o", "baseType": "Map", "defaultValue": {"a": [1, "x", None]}},
        {"name": "v", "baseType": "Any", "defaultValue": [1, {"x": None}]},
        {"name": "v", "baseType": "ANY"},
        {"name": "m", "baseType": "Integer", "allowMultipleValues": True, "defaultValue": [1]},
    ],
)
def test_what_the_rules_let_through(param: dict[str, Any]) -> None:
    catalog = task(param)
    assert CONTRACTS.catalog_problems(catalog) == []
    assert bodies.catalog(catalog, "ns", CONTRACTS) == catalog


def test_every_problem_of_a_catalog_is_said() -> None:
    catalog = task(
        {"name": "a", "baseType": "Objekt"},
        {"name": "b", "allowedValues": []},
        {"name": "c", "baseType": "Integer", "defaultValue": "99999999999999999999"},
    )
    paths = [problem.path for problem in CONTRACTS.catalog_problems(catalog)]
    assert paths == [
        "catalog[0].inputs[0].baseType",
        "catalog[0].inputs[1].allowedValues",
        "catalog[0].inputs[2].defaultValue",
    ]


@pytest.mark.parametrize(
    ("param", "value", "words"),
    [
        ({"baseType": "Integer"}, "9223372036854775808", "'9223372036854775808' is not a 64-bit"),
        ({"baseType": "Integer"}, "-9223372036854775809", "is not a 64-bit integer"),
        ({"baseType": "Number"}, "1e999", "input.v: '1e999' is not a number (or its text)"),
        ({"baseType": "Number"}, "-1e400", "'-1e400' is not a number"),
        ({"baseType": "Number"}, 10**400, "is not a number"),
        (
            {"baseType": "Integer", "allowMultipleValues": True},
            ["1", "9223372036854775808"],
            "input.v[1]: '9223372036854775808' is not a 64-bit integer",
        ),
    ],
)
def test_an_input_out_of_range_is_refused_before_a_container_starts(
    param: dict[str, Any], value: Any, words: str
) -> None:
    route = TaskRoute("img", task({"name": "v", **param})[0])
    with pytest.raises(TaskRejected) as raised:
        CONTRACTS.task_inputs(route, {"v": value})
    assert words in str(raised.value)


def test_a_missing_input_is_said_once() -> None:
    names = ("lat1", "lon1", "lat2", "lon2")
    route = TaskRoute("img", task(*({"name": n, "baseType": "Number"} for n in names))[0])
    with pytest.raises(TaskRejected) as raised:
        CONTRACTS.task_inputs(route, {"lat1": 1})
    assert str(raised.value) == (
        "invalid inputs for ns/t: input: missing 'lon1', 'lat2', 'lon2'"
    )

"""Catalogs: label loading, routing, and the JSON Schemas derived from parameter types."""

from __future__ import annotations

import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from runner.contracts.validation import SCHEMA_FILES, Contracts
from runner.core.catalog import (
    CATALOG_LABEL,
    Catalog,
    TaskRoute,
    normalize_values,
    parameters_schema,
    routes_from_label,
)
from runner.core.errors import ConfigError, TaskRejected

CONTRACTS = Contracts()


@pytest.mark.parametrize("name", SCHEMA_FILES)
def test_every_schema_file_is_a_valid_2020_12_schema(name: str) -> None:
    Draft202012Validator.check_schema(CONTRACTS.schemas[name])


DOUBLE = {
    "namespace": "sample",
    "name": "double",
    "schemaVersion": 0,
    "inputs": [
        {"name": "str_in", "baseType": "String", "defaultValue": "xyz (default)"},
        {"name": "nbr_in", "baseType": "String", "defaultValue": "123"},
    ],
    "outputs": [
        {"name": "str_out", "baseType": "String"},
        {"name": "nbr_out", "baseType": "String"},
    ],
}


def route_of(definition: dict[str, Any], image: str = "img") -> TaskRoute:
    labels = {CATALOG_LABEL: json.dumps([definition])}
    return routes_from_label(image, labels, CONTRACTS.check_catalog)[0]


def test_type_annotations_are_dropped_and_defaults_fill_missing_or_null_values() -> None:
    data = {"str_in": "ab", "str_in#type": "String", "x#subtype": "y", "nbr_in": None}
    assert normalize_values(data, DOUBLE["inputs"]) == {"str_in": "ab", "nbr_in": "123"}
    assert normalize_values(None, DOUBLE["inputs"]) == {"str_in": "xyz (default)", "nbr_in": "123"}


def test_inputs_without_default_are_required_and_unknown_ones_refused() -> None:
    schema = parameters_schema([{"name": "arg"}, {"name": "opt", "defaultValue": ""}])
    assert schema["required"] == ["arg"]
    assert schema["additionalProperties"] is False


def test_integers_span_64_bits() -> None:
    route = route_of(
        {"namespace": "ns", "name": "t", "inputs": [{"name": "n", "baseType": "Long"}]}
    )
    for value in (2**63 - 1, -(2**63), 7.0, "-9223372036854775808", " 42 "):
        assert CONTRACTS.task_inputs(route, {"n": value}) == {"n": value}


def test_valid_inputs_pass_through() -> None:
    route = route_of(DOUBLE)
    assert CONTRACTS.task_inputs(route, {"str_in": "ab", "str_in#type": "String"}) == {
        "str_in": "ab",
        "nbr_in": "123",
    }


@pytest.mark.parametrize(
    ("param", "value", "words"),
    [
        ({"name": "arg"}, None, "input: missing 'arg'"),
        ({"name": "arg"}, 5, "input.arg: 5 is not a string"),
        ({"name": "n", "baseType": "Integer"}, "1.5", "input.n: '1.5' is not a 64-bit integer"),
        ({"name": "n", "baseType": "Long"}, 1e308, "input.n: 1e+308 is not a 64-bit integer"),
        ({"name": "n", "baseType": "Integer"}, 2**63, f"input.n: {2**63} is not a 64-bit"),
        ({"name": "n", "baseType": "Integer"}, "1" * 20, f"input.n: '{'1' * 20}' is not a 64"),
        ({"name": "n", "baseType": "Double"}, "abc", "input.n: 'abc' is not a number"),
        ({"name": "b", "baseType": "Boolean"}, "yes", "input.b: 'yes' is not a boolean"),
        ({"name": "o", "baseType": "Object"}, "x", "input.o: 'x' is not a JSON object"),
        (
            {"name": "c", "allowedValues": ["red", "blue"]},
            "green",
            "input.c: 'green' is not one of",
        ),
        ({"name": "r", "customRegex": "[a-z]+"}, "abc1", "input.r: 'abc1' does not match"),
        (
            {"name": "m", "allowMultipleValues": True},
            "one",
            "input.m: 'one' is not of type 'array'",
        ),
        ({"name": "m", "allowMultipleValues": True}, ["a", 2], "input.m[1]: 2 is not a string"),
    ],
)
def test_invalid_inputs_are_rejected_naming_the_input(
    param: dict[str, Any], value: Any, words: str
) -> None:
    route = route_of({"namespace": "ns", "name": "t", "inputs": [param]})
    data = {} if value is None else {param["name"]: value}
    with pytest.raises(TaskRejected) as raised:
        CONTRACTS.task_inputs(route, data)
    assert "invalid inputs for ns/t" in str(raised.value)
    assert words in str(raised.value)


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ({"name": "n", "baseType": "Integer"}, "42"),
        ({"name": "n", "baseType": "Integer"}, 42),
        ({"name": "n", "baseType": "Long"}, " -7 "),
        ({"name": "x", "baseType": "Double"}, "1e-3"),
        ({"name": "b", "baseType": "Boolean"}, "true"),
        ({"name": "b", "baseType": "Boolean"}, False),
        ({"name": "c", "allowedValues": ["red", "blue"]}, "red"),
        ({"name": "c", "baseType": "Integer", "allowedValues": ["1", "2"]}, 2),
        ({"name": "r", "customRegex": "[a-z]+|[0-9]+"}, "123"),
        ({"name": "m", "allowMultipleValues": True, "allowedValues": ["a", "b"]}, ["a", "b"]),
        ({"name": "o", "baseType": "json"}, {"any": ["thing"]}),
    ],
)
def test_valid_typed_inputs_are_accepted(param: dict[str, Any], value: Any) -> None:
    route = route_of({"namespace": "ns", "name": "t", "inputs": [param]})
    assert CONTRACTS.task_inputs(route, {param["name"]: value}) == {param["name"]: value}


def test_unknown_input_is_rejected_by_name() -> None:
    with pytest.raises(TaskRejected, match="not declared: 'bogus'"):
        CONTRACTS.task_inputs(route_of(DOUBLE), {"bogus": "1"})


def test_outputs_are_checked_against_the_catalog() -> None:
    route = route_of(DOUBLE)
    values, problem = CONTRACTS.task_outputs(route, {"str_out": "a", "nbr_out": "2"})
    assert (values, problem) == ({"str_out": "a", "nbr_out": "2"}, None)
    _, problem = CONTRACTS.task_outputs(route, {"str_out": "a"})
    assert problem == "output: missing 'nbr_out'"
    _, problem = CONTRACTS.task_outputs(route, {"str_out": "a", "nbr_out": "2", "x": 1})
    assert problem == "output: not declared: 'x'"
    _, problem = CONTRACTS.task_outputs(route, {"str_out": ["a"], "nbr_out": "2"})
    assert problem is not None and problem.startswith("output.str_out:")


@pytest.mark.parametrize(
    ("labels", "words"),
    [
        ({}, "image img: no xc-scenario.catalog label"),
        ({CATALOG_LABEL: "not json"}, "is not valid JSON"),
        ({CATALOG_LABEL: "[]"}, "should be non-empty"),
        ({CATALOG_LABEL: '[{"name": "t"}]'}, "catalog[0]: missing 'namespace'"),
        ({CATALOG_LABEL: '[{"namespace": "a/b", "name": "t"}]'}, "catalog[0].namespace"),
        (
            {
                CATALOG_LABEL: '[{"namespace": "n", "name": "t", "inputs": [{"name": "x", '
                '"customRegex": "("}]}]'
            },
            "catalog[0].inputs[0].customRegex",
        ),
        (
            {CATALOG_LABEL: '[{"namespace": "n", "name": "t"}, {"namespace": "n", "name": "t"}]'},
            "catalog[1]: task n/t declared twice (first at catalog[0])",
        ),
        (
            {
                CATALOG_LABEL: '[{"namespace": "n", "name": "t", "inputs": [{"name": "x"}, '
                '{"name": "x"}]}]'
            },
            "catalog[0].inputs[1].name: (n/t) input 'x' declared twice "
            "(first at catalog[0].inputs[0])",
        ),
        (
            {
                CATALOG_LABEL: '[{"namespace": "n", "name": "t", "inputs": [{"name": "x", '
                '"baseType": "Integer", "defaultValue": "ten"}]}]'
            },
            "catalog[0].inputs[0].defaultValue: (n/t) input 'x': 'ten' is not a 64-bit integer",
        ),
    ],
)
def test_a_bad_catalog_label_is_refused_naming_image_and_problem(
    labels: dict[str, str], words: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        routes_from_label("img", labels, CONTRACTS.check_catalog)
    assert "image img" in str(raised.value)
    assert words in str(raised.value)


def test_catalog_routes_by_namespace_and_name_and_refuses_duplicates_across_images() -> None:
    simple = {"namespace": "sample", "name": "simple", "inputs": [{"name": "arg"}]}
    other = {"namespace": "other", "name": "simple"}
    catalog = Catalog([route_of(DOUBLE, "a"), route_of(simple, "a"), route_of(other, "b")])
    assert catalog.namespaces == ("other", "sample")
    route = catalog.route("sample", "double")
    assert route is not None and route.image == "a"
    assert catalog.route("sample", "nope") is None
    assert [d["name"] for d in catalog.definitions("sample")] == ["double", "simple"]
    with pytest.raises(ConfigError, match="sample/double is declared by two images: a and c"):
        Catalog([route_of(DOUBLE, "a"), route_of(DOUBLE, "c")])


def test_null_optional_fields_as_java_serializers_write_them_are_accepted() -> None:
    definition = {
        "namespace": "n",
        "name": "t",
        "displayName": None,
        "timeOutInMillis": None,
        "inputs": [
            {
                "name": "x",
                "defaultValue": None,
                "customRegex": None,
                "allowedValues": None,
                "allowMultipleValues": None,
            }
        ],
        "outputs": None,
    }
    route = route_of(definition)
    with pytest.raises(TaskRejected, match="missing 'x'"):
        CONTRACTS.task_inputs(route, {})
    assert route.timeout_ms is None

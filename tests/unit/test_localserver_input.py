"""The local server's reading of untrusted bodies (jsontext.py, bodies.py): pure, no HTTP."""

from __future__ import annotations

import json
from typing import Any

import pytest

from runner.contracts import Contracts
from runner.localserver import bodies
from runner.localserver.errors import HttpError
from runner.localserver.jsontext import MAX_DEPTH, nesting_depth, parse, stored


@pytest.fixture(scope="module")
def contracts() -> Contracts:
    return Contracts()


def refusal(call: Any, *args: Any) -> str:
    with pytest.raises(HttpError) as refused:
        call(*args)
    assert refused.value.status == 400
    return refused.value.message


def test_depth_is_measured_without_recursion() -> None:
    assert nesting_depth('{"a": [1, {"b": []}]}') == 4
    assert nesting_depth('["[[[[", "]]]", "\\"[[["]') == 1, "brackets in strings do not count"
    assert nesting_depth("[" * 1_000_000) == MAX_DEPTH + 1, "stops counting past the limit"
    assert nesting_depth("1") == 0


def test_depth_limit_is_exact() -> None:
    assert parse(("[" * MAX_DEPTH + "]" * MAX_DEPTH).encode(), "body") == json.loads(
        "[" * MAX_DEPTH + "]" * MAX_DEPTH
    )
    too_deep = ("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)).encode()
    assert "limit of 64 levels" in refusal(parse, too_deep, "body")
    assert "limit of 64" in refusal(parse, b'{"a": ' + b"[" * 100_000, "body")


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (b'{"p": NaN}', "body.p: 'NaN' is not a finite number"),
        (b'{"p": [1, Infinity]}', "body.p[1]: 'Infinity'"),
        (b'{"p": -Infinity}', "body.p: '-Infinity'"),
        (b'{"p": 1e999}', "body.p: '1e999'"),
        (b'{"p": -1e309}', "body.p: '-1e309'"),
        (b'{"p": 2' + b"0" * 308 + b"}", "body.p: '2000"),
        (b'{"p": 1' + b"0" * 5000 + b"}", "body.p"),
        (b'{"m": "\\udfff"}', "body.m: a string holds a lone UTF-16 surrogate (\\udfff"),
        (b'{"m": ["ok", "x\\ud800"]}', "body.m[1]"),
        (b'{"k\\udc00": 1}', "body.k\\udc00 (the key)"),
        (b'{"a": {"b\\ud83d": {}}}', "body.a.b\\ud83d (the key)"),
        (b'{"m": "\xed\xbf\xbf"}', "not UTF-8: invalid byte at offset 7"),
        (b'{"m": "\xff"}', "not UTF-8"),
        (b'{"m": "open', "a string is not terminated"),
        (b'{"m": 1', "not JSON"),
        (b"", "is empty"),
        (b" \r\n", "is empty"),
    ],
)
def test_what_cannot_be_written_back_is_refused_where_it_is(body: bytes, named: str) -> None:
    assert named in refusal(parse, body, "body")


def test_what_can_be_written_back_is_accepted() -> None:
    body = '{"pair": "\\ud83d\\ude00", "max": 1.7976931348623157e308, "tiny": 5e-324, "big": 1'
    value = parse((body + "0" * 308 + ', "nul": "\\u0000"}').encode(), "body")
    assert value["pair"] == "\U0001f600"
    assert value["big"] == 10**308
    assert json.loads(json.dumps(value, allow_nan=False)) == value


def test_stored_values_that_cannot_be_served_read_as_none() -> None:
    assert stored('{"a": 1}') == {"a": 1}
    assert stored(None) is None
    assert stored("[" * 2000 + "]" * 2000) is None, "rows older versions stored too deep"
    assert stored("NaN") is None
    assert stored('"\\udfff"') is None


# -- statuses --------------------------------------------------------------------


def status(**fields: Any) -> dict[str, Any]:
    return {"taskInstanceId": "i-1", "status": "InProgress", **fields}


@pytest.mark.parametrize("progress", [0, 1, 0.5, "0.5", " 1 ", ".25", "1e-1", "0E5", None])
def test_progress_in_range_is_accepted(contracts: Contracts, progress: Any) -> None:
    assert bodies.status(status(progressPercentage=progress), contracts)["progressPercentage"] == (
        progress
    )


@pytest.mark.parametrize(
    "progress", [150, -5, 1.0000001, "abc", "NaN", "nan", "inf", "1e999", "1_0", "", "150", True]
)
def test_progress_out_of_range_is_refused(contracts: Contracts, progress: Any) -> None:
    message = refusal(bodies.status, status(progressPercentage=progress), contracts)
    assert "status.progressPercentage" in message


def test_status_fields_are_checked(contracts: Contracts) -> None:
    assert "status.status" in refusal(bodies.status, status(status="Done"), contracts)
    huge_id = status(taskInstanceId=2**64)
    assert "status.taskInstanceId" in refusal(bodies.status, huge_id, contracts)
    assert "1 to 200" in refusal(bodies.status, status(taskInstanceId="x" * 201), contracts)
    long_message = status(message="m" * (bodies.MAX_MESSAGE_CHARS + 1))
    assert "status.message: 65537 characters" in refusal(bodies.status, long_message, contracts)
    assert bodies.status(status(message="m" * bodies.MAX_MESSAGE_CHARS), contracts)


# -- submissions -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (
            {"namespace": "s", "name": "t", "timeOutInMillis": 18446744073709551616},
            "timeOutInMillis",
        ),
        ({"namespace": "s", "name": "t", "timeOutInMillis": 2**31}, "1 to 2147483647"),
        ({"namespace": "s", "name": "t", "timeOutInMillis": 0}, "timeOutInMillis"),
        ({"namespace": "s", "name": "t", "timeOutInMillis": True}, "timeOutInMillis"),
        ({"namespace": "s", "name": "t", "timeOutInMillis": 5.0}, "timeOutInMillis"),
        ({"namespace": "", "name": "t"}, "body.namespace"),
        ({"namespace": "a/b", "name": "t"}, "body.namespace"),
        ({"namespace": "s", "name": " t"}, "body.name"),
        ({"namespace": "s", "name": "t" * 201}, "body.name"),
        ({"namespace": "s", "name": "t", "inputData": []}, "body.inputData"),
        ({"namespace": "s", "name": "t", "extra": 1}, "'extra'"),
        ([], "JSON object"),
    ],
)
def test_submission_fields_are_checked(contracts: Contracts, body: Any, named: str) -> None:
    assert named in refusal(bodies.submission, body, contracts)


def test_submission_limits_are_accepted(contracts: Contracts) -> None:
    body = {"namespace": "s", "name": "t" * 200, "timeOutInMillis": 2**31 - 1}
    assert bodies.submission(body, contracts) == ("s", "t" * 200, {}, 2**31 - 1)


# -- catalogs --------------------------------------------------------------------


def catalog_with(**param: Any) -> list[dict[str, Any]]:
    return [{"namespace": "s", "name": "task", "inputs": [{"name": "count", **param}]}]


@pytest.mark.parametrize(
    "param",
    [
        {"baseType": "Integer", "defaultValue": "many"},
        {"baseType": "Number", "defaultValue": "1,5"},
        {"baseType": "Boolean", "defaultValue": "yes"},
        {"baseType": "Object", "defaultValue": [1]},
        {"baseType": "String", "defaultValue": 5},
        {"allowedValues": ["a", "b"], "defaultValue": "c"},
        {"customRegex": "[0-9]+", "defaultValue": "12a"},
    ],
)
def test_catalog_default_of_the_wrong_type_names_task_and_input(
    contracts: Contracts, param: dict[str, Any]
) -> None:
    message = refusal(bodies.catalog, catalog_with(**param), "s", contracts)
    assert "(s/task)" in message and "'count'" in message and "defaultValue" in message


def test_catalog_checks(contracts: Contracts) -> None:
    good = catalog_with(baseType="Integer", defaultValue="42")
    assert bodies.catalog(good, "s", contracts) == good
    assert "URL's namespace 'other'" in refusal(bodies.catalog, good, "other", contracts)
    twice = good + good
    assert "declared twice" in refusal(bodies.catalog, twice, "s", contracts)
    slow = [{**good[0], "timeOutInMillis": 18446744073709551616}]
    assert "catalog[0].timeOutInMillis: 18446744073709551616 is greater than the maximum" in (
        refusal(bodies.catalog, slow, "s", contracts)
    )
    version = [{**good[0], "schemaVersion": 2**40}]
    assert "schemaVersion" in refusal(bodies.catalog, version, "s", contracts)

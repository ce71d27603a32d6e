"""`POST /local/api/task-instances/bulk` over real HTTP on 127.0.0.1: many instances in one
request, as a JSON array or as JSON lines, each checked as one submit is, all or none."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from runner.localserver import LocalServer
from runner.localserver.bulk import MAX_INSTANCES

pytestmark = pytest.mark.integration

KEY = "bulk-key"
BULK = "/local/api/task-instances/bulk"
CATALOG = [{"namespace": "sample", "name": "simple", "inputs": [{"name": "arg"}]}]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalServer]:
    with LocalServer(tmp_path / "scenario.db", port=0, api_key=KEY) as running:
        yield running


@pytest.fixture
def http(server: LocalServer) -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.headers["Authorization"] = f"bearer {KEY}"
        path = "/taskcatalog/api/catalog-task-definitions/sample"
        assert session.post(server.url + path, json=CATALOG, timeout=10).status_code == 200
        yield session


def simple(arg: str, **fields: Any) -> dict[str, Any]:
    return {"namespace": "sample", "name": "simple", "inputData": {"arg": arg}, **fields}


def post(server: LocalServer, http: requests.Session, body: bytes) -> requests.Response:
    return http.post(server.url + BULK, data=body, timeout=30)


def queued(server: LocalServer, http: requests.Session) -> list[dict[str, Any]]:
    """Every instance the server has queued, oldest first, by handing them all out."""
    path = "/polling/api/namespaces/sample/task-instances/poll"
    found = []
    while (answer := http.post(server.url + path, timeout=10)).status_code == 200:
        found.append(answer.json())
    assert answer.status_code == 204
    return found


def test_an_array_is_queued_in_its_order(server: LocalServer, http: requests.Session) -> None:
    body = [simple(f"a{i}") for i in range(5)] + [simple("slow", timeOutInMillis=5000)]
    answer = post(server, http, json.dumps(body).encode())
    assert answer.status_code == 201, answer.text
    ids = answer.json()["ids"]
    assert len(ids) == 6 and len(set(ids)) == 6 and answer.json()["warnings"] == []
    handed = queued(server, http)
    assert [i["id"] for i in handed] == ids
    assert [i["inputData"]["arg"] for i in handed] == ["a0", "a1", "a2", "a3", "a4", "slow"]
    assert handed[-1]["timeOutInMillis"] == 5000


def test_json_lines_are_queued_blank_lines_skipped(
    server: LocalServer, http: requests.Session
) -> None:
    lines = [json.dumps(simple(f"l{i}")) for i in range(3)]
    answer = post(server, http, ("\n".join(lines[:2]) + "\n\n  \n" + lines[2] + "\n").encode())
    assert answer.status_code == 201, answer.text
    assert [i["inputData"]["arg"] for i in queued(server, http)] == ["l0", "l1", "l2"]


def test_one_refused_instance_queues_none_and_each_is_named(
    server: LocalServer, http: requests.Session
) -> None:
    lines = [
        json.dumps(simple("fine")),
        json.dumps({"namespace": "sample", "name": "a/b"}),
        "{not json",
        json.dumps(simple("fine", timeOutInMillis=0)),
        '{"namespace": "sample", "name": "simple", "inputData": {"x": 1e999}}',
        json.dumps({**simple("x"), "extra": 1}),
    ]
    answer = post(server, http, "\n".join(lines).encode())
    assert answer.status_code == 400
    problems = answer.json()["problems"]
    assert [p.split(":")[0] for p in problems] == ["line 2", "line 3", "line 4", "line 5", "line 6"]
    assert problems[0].startswith("line 2: body.name: 'a/b'")
    assert problems[1].startswith("line 3: body is not JSON")
    assert problems[2].startswith("line 4: body.timeOutInMillis: must be a whole number")
    assert (
        problems[3] == "line 5: body.inputData.x: '1e999' is not a finite number that fits a double"
    )
    assert problems[4].startswith("line 6: body: unknown field(s) 'extra'")
    assert answer.json()["error"].startswith("nothing was queued: line 2: ")
    assert queued(server, http) == []
    array = post(server, http, json.dumps([simple("ok"), {"namespace": "sample"}]).encode())
    assert array.status_code == 400
    assert array.json()["problems"] == ["body[1].name: None is not of type 'string'"]
    assert queued(server, http) == []


def test_a_task_not_in_the_catalog_is_queued_with_one_warning(
    server: LocalServer, http: requests.Session
) -> None:
    other = {"namespace": "sample", "name": "nosuch", "inputData": {}}
    answer = post(server, http, json.dumps([other, simple("a"), other]).encode())
    assert answer.status_code == 201
    assert answer.json()["warnings"] == [
        "task sample/nosuch is not in the published catalog; "
        "a runner will answer it with an Error status"
    ]
    assert len(queued(server, http)) == 3


def test_over_the_limit_is_refused_whole(server: LocalServer, http: requests.Session) -> None:
    line = json.dumps(simple("a")).encode()
    answer = post(server, http, b"\n".join([line] * (MAX_INSTANCES + 1)))
    assert answer.status_code == 413
    assert f"over the limit of {MAX_INSTANCES}: send them in batches" in answer.json()["error"]
    assert queued(server, http) == []
    full = post(server, http, b"\n".join([line] * MAX_INSTANCES))
    assert full.status_code == 201 and len(full.json()["ids"]) == MAX_INSTANCES


@pytest.mark.parametrize("body", [b"", b" \n\n", b"{}", b"[]"])
def test_an_empty_or_shapeless_body(
    server: LocalServer, http: requests.Session, body: bytes
) -> None:
    answer = post(server, http, body)
    if body == b"[]":  # nothing to queue: nothing queued
        assert answer.status_code == 201 and answer.json() == {"ids": [], "warnings": []}
    else:
        assert answer.status_code == 400, answer.text


def test_the_key_is_required(server: LocalServer) -> None:
    answer = requests.post(server.url + BULK, data=json.dumps([simple("a")]), timeout=10)
    assert answer.status_code == 401

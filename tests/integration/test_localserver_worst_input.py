"""The worst input each field accepts is stored, then every page and instance reads back.

"Worst": as deep as the depth limit allows, numbers at the ends of their range,
text at its length limit in characters that need escapes (astral, NUL, U+FFFF,
right-to-left marks). Every answer must be strict JSON (no NaN or Infinity, no
lone surrogate) holding exactly what was sent, and `xc-runner status` must print it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from runner.localserver.bodies import MAX_MESSAGE_CHARS, MAX_TIMEOUT_MS
from runner.localserver.jsontext import MAX_DEPTH
from tests.conftest import REPO
from tests.integration.local_process import ServerProcess, server_process

pytestmark = pytest.mark.integration

KEY = "worst-input-key"
ODD = "\u0000\uffff\U0010ffff\u202e\U0001f600\u00e9"  # NUL, non-character, astral, RTL
# The catalog's longest name, in the oddest characters a name may hold (runner/core/names.py
# refuses controls, format and bidirectional characters in names).
NAME_ODD = "\uffff\U0010ffff\U0001f600\u00e9"  # non-character, astral, emoji, accent
NAME = ("t" + NAME_ODD * 60)[:200]
EXTREMES = [
    1.7976931348623157e308,
    -1.7976931348623157e308,
    5e-324,
    10**308,
    -(10**308),
    0,
    -0.0,
    True,
    None,
    "",
]


def deep(levels: int, leaf: Any) -> Any:
    """`leaf` inside `levels` alternating objects and arrays, the outermost an object."""
    value = leaf
    for level in range(levels):
        value = {ODD: value} if (levels - level) % 2 else [value]
    return value


def strict(text: str) -> Any:
    """json.loads that refuses NaN and Infinity, as JavaScript's JSON.parse does."""

    def refuse(constant: str) -> Any:
        raise AssertionError(f"the answer holds {constant}, which is not JSON")

    return json.loads(text, parse_constant=refuse)


def get(http: requests.Session, url: str) -> Any:
    answer = http.get(url, timeout=60)
    assert answer.status_code == 200, answer.text[:300]
    answer.content.decode("utf-8")  # strict UTF-8
    return strict(answer.text)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with server_process(tmp_path_factory.mktemp("worst") / "scenario.db", KEY) as running:
        yield running


def test_worst_accepted_inputs_read_back(server: ServerProcess) -> None:
    # Depth counts every array and object of the body, the body itself included:
    # [definition {inputs [param {defaultValue...}]}] leaves 60 levels to a default,
    # {inputData {...}} and {outputValues {...}} 62 to their values (61 + EXTREMES).
    catalog = [
        {
            "namespace": "worst",
            "name": NAME,
            "description": ODD * 1000,
            "schemaVersion": MAX_TIMEOUT_MS,
            "timeOutInMillis": MAX_TIMEOUT_MS,
            "invariants": [ODD],
            "inputs": [
                {"name": ODD, "baseType": "Object", "defaultValue": deep(MAX_DEPTH - 4, ODD)},
                {"name": "n", "baseType": "Number", "defaultValue": 1.7976931348623157e308},
            ],
        }
    ]
    inputs = {ODD: deep(MAX_DEPTH - 3, EXTREMES), "": ODD * 100_000, "n": 5e-324}
    outputs = {ODD: deep(MAX_DEPTH - 3, EXTREMES)}
    progresses: list[Any] = [0, 1, "1", " .5E-0 ", 5e-324, "0.999999999999999999999"]
    with server.session() as http:
        published = http.post(
            server.url + "/taskcatalog/api/catalog-task-definitions/worst", json=catalog, timeout=60
        )
        assert published.status_code == 200, published.text[:500]
        submit = {
            "namespace": "worst",
            "name": NAME,
            "inputData": inputs,
            "timeOutInMillis": MAX_TIMEOUT_MS,
        }
        created = http.post(server.url + "/local/api/task-instances", json=submit, timeout=60)
        assert created.status_code == 201, created.text[:500]
        instance_id = created.json()["id"]
        poll = http.post(
            server.url + "/polling/api/namespaces/worst/task-instances/poll", timeout=60
        )
        handed_out = strict(poll.text)
        statuses = [
            {"status": "InProgress", "message": ODD, "progressPercentage": p} for p in progresses
        ]
        statuses.append(
            {
                "status": "Completed",
                "message": ("\U0001f600" * MAX_MESSAGE_CHARS),
                "outputValues": outputs,
            }
        )
        for status in statuses:
            answer = http.post(
                server.url + "/taskstatus/api/task-statuses",
                json={"taskInstanceId": instance_id, **status},
                timeout=60,
            )
            assert answer.status_code == 200, answer.text[:500]
        read_back(http, server, catalog, handed_out, instance_id, statuses)
    printed = subprocess.run(
        [sys.executable, "-m", "runner", "status", instance_id],
        env={**os.environ, "XC_SCENARIO_SERVER": server.url, "XC_SCENARIO_APIKEY": KEY},
        cwd=REPO,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert printed.returncode == 0, printed.stderr.decode(errors="replace")[-2000:]


def read_back(
    http: requests.Session,
    server: ServerProcess,
    catalog: list[dict[str, Any]],
    handed_out: dict[str, Any],
    instance_id: str,
    sent: list[dict[str, Any]],
) -> None:
    listed = get(http, server.url + "/taskcatalog/api/catalog-task-definitions/worst")
    assert [{k: v for k, v in d.items() if k != "versionNumber"} for d in listed] == catalog
    assert handed_out["inputData"][ODD] == deep(MAX_DEPTH - 3, EXTREMES)
    assert handed_out["timeOutInMillis"] == MAX_TIMEOUT_MS
    view = get(http, f"{server.url}/local/api/task-instances/{instance_id}")
    assert view["instance"]["inputData"] == handed_out["inputData"]
    assert view["state"] == "Completed"
    records = view["statuses"]
    pages, after = [], 0
    while page := get(http, f"{server.url}/local/api/statuses?after={after}")["statuses"]:
        pages.append(page)
        after = page[-1]["seq"]
    assert [r for p in pages for r in p] == records, "every page reads back, and holds them all"
    for record, status in zip(records, sent, strict=True):
        assert record["status"] == status["status"]
        assert record["message"] == status["message"]
        assert record["progressPercentage"] == status.get("progressPercentage")
        assert record["outputValues"] == status.get("outputValues")

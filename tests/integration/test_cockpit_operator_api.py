"""The cockpit's tools for an operator of many tasks, over real HTTP on 127.0.0.1: sorted
and time-ranged pages, failure groups, bulk actions with their progress, and exports
streamed in chunks, with their one-use links that need no key.

The runner is played by hand (poll, then post statuses), so each answer is known.
"""

from __future__ import annotations

import csv
import io
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from runner.localserver.cockpit.assets import CONTENT_SECURITY_POLICY
from runner.localserver.records import iso
from tests.integration.browser import ServerForTheNetwork
from tests.integration.test_cockpit_api import (
    AUTH,
    CATALOG,
    KEY,
    PAGE,
    Client,
    client,
    raw,
    server,
)

pytestmark = pytest.mark.integration

__all__ = ["client", "server"]  # the fixtures, shared with test_cockpit_api.py


def run(client: Client, count: int, fail_with: str | None = None) -> list[str]:
    """`count` rectangles submitted, handed out and ended, one after another (in Error with
    `fail_with` and a number, else Completed)."""
    ids = []
    for k in range(count):
        assert client.submit({"width": k + 1}).status_code == 201
        instance_id = client.hand_out()
        if fail_with is None:
            client.status(instance_id, "Completed", message="", outputValues={"area": k + 1})
        else:
            client.status(instance_id, "Error", message=f"{fail_with} {k}")
        ids.append(instance_id)
    return ids


def test_pages_sorted_either_way_and_a_time_range(client: Client) -> None:
    ended = run(client, 4)
    assert client.submit({"width": 9}).status_code == 201  # queued: not ended
    newest = client.data("tasks", sort="ended", limit=2)
    assert [t["id"] for t in newest["tasks"]] == ended[:1:-1]
    after = client.data("tasks", sort="ended", limit=10, cursor=newest["next"])
    assert [t["id"] for t in after["tasks"]] == [ended[1], ended[0], after["tasks"][-1]["id"]]
    assert after["tasks"][-1]["state"] == "Queued" and after["next"] is None  # not ended: last
    oldest = client.data("tasks", sort="ended", order="asc", limit=10)
    assert [t["id"] for t in oldest["tasks"][:4]] == ended
    assert [t["key"][0] for t in client.data("tasks", sort="state", order="asc")["tasks"]] == [
        0, 2, 2, 2, 2,
    ]  # fmt: skip
    hour_ago = iso(datetime.now(UTC) - timedelta(hours=1))
    assert client.data("tasks", endedFrom=hour_ago)["total"] == 4
    assert client.data("tasks", submittedFrom=hour_ago)["total"] == 5
    assert client.data("tasks", endedTo=hour_ago)["total"] == 0
    for bad, words in (
        (
            {"sort": "ended", "cursor": "12"},
            "cursor='12' is not a cursor of a list sorted by ended",
        ),
        ({"endedFrom": "noon"}, "endedFrom: 'noon' is not an ISO 8601 time"),
    ):
        answer = client.get("/local/api/cockpit/tasks", PAGE, **bad)
        assert answer.status_code == 400 and words in answer.json()["error"], answer.text


def test_failures_grouped_and_their_list(client: Client) -> None:
    failed = run(client, 5, "boom")
    run(client, 2)
    found = client.data("failures")
    assert found["failures"] == 5 and found["count"] == 1
    group = found["groups"][0]
    assert (group["message"], group["count"], group["example"]) == ("boom <n>", 5, "boom 4")
    assert group["tasks"] == [{"task": "sample/rectangle", "count": 5}]
    listed = client.data("tasks", failure=group["key"], limit=10)
    assert sorted(t["id"] for t in listed["tasks"]) == sorted(failed)


def test_a_bulk_cancel_is_one_request_followed_to_its_result(client: Client) -> None:
    ended = run(client, 2)
    for k in range(6):
        assert client.submit({"width": k}).status_code == 201
    marks = client.data("tasks", limit=1)
    answer = client.post(
        "/local/api/cockpit/bulk",
        {"action": "cancel", "match": {"namespace": "sample"}, "upTo": marks["lastInstance"]},
        PAGE,
    )
    assert answer.status_code == 202, answer.text
    action = answer.json()["action"]
    deadline = time.monotonic() + 30
    while action["state"] == "running" and time.monotonic() < deadline:
        time.sleep(0.05)
        action = client.data(f"bulk/{action['id']}")["action"]
    assert action["result"] == "6 cancelled, 2 had already ended."
    assert client.data("tasks", state="Cancelled")["total"] == 6
    changed = client.data("tasks", after=marks["last"], since=marks["lastInstance"],
                          changes=marks["lastChange"])  # fmt: skip
    assert len(changed["tasks"]) == 6 and not set(ended) & {t["id"] for t in changed["tasks"]}
    refused = client.post("/local/api/cockpit/bulk", {"action": "cancel", "ids": "x"}, PAGE)
    assert refused.status_code == 400 and "body.ids: must be a list" in refused.json()["error"]
    assert (
        client.post("/local/api/cockpit/bulk", {"action": "cancel", "ids": []}, {}).status_code
        == 401
    )


def test_an_export_streams_in_chunks_as_a_file(client: Client) -> None:
    run(client, 3)
    answer = requests.get(
        f"{client.url}/local/api/cockpit/export",
        params={"format": "csv", "sort": "duration"},
        headers=PAGE,
        stream=True,
        timeout=30,
    )
    assert answer.status_code == 200
    assert (
        answer.headers["Transfer-Encoding"] == "chunked" and "Content-Length" not in answer.headers
    )
    assert answer.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert answer.headers["Content-Disposition"].startswith('attachment; filename="task-instances-')
    assert answer.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert len(rows) == 3 and {r["state"] for r in rows} == {"Completed"}
    assert client.get("/local/api/cockpit/export").status_code == 401  # without the header


def test_an_export_link_needs_no_key_works_once_and_only_for_this_host(tmp_path: Path) -> None:
    with ServerForTheNetwork(tmp_path / "scenario.db", port=0, api_key=KEY) as running:
        requests.post(
            f"{running.url}/taskcatalog/api/catalog-task-definitions/sample",
            json=CATALOG, headers=AUTH, timeout=10,
        ).raise_for_status()  # fmt: skip
        network = Client(running.url)
        for k in range(3):
            assert network.post("/local/api/task-instances", rectangle(k), AUTH).status_code == 201
        made = requests.post(
            f"{running.url}/local/api/cockpit/exports", params={"format": "jsonl"}, timeout=10
        )
        assert made.status_code == 401  # a link is made for the key only, off loopback
        made = requests.post(
            f"{running.url}/local/api/cockpit/exports",
            params={"format": "jsonl", "state": "Queued"},
            headers=AUTH,
            timeout=10,
        )
        assert made.status_code == 201, made.text
        link = running.url + made.json()["url"]
        assert KEY not in link
        first = requests.get(link, timeout=10)  # no key, no header: the link is the credential
        assert first.status_code == 200, first.text
        assert [json.loads(x)["inputs"]["width"] for x in first.text.splitlines()] == [2, 1, 0]
        again = requests.get(link, timeout=10)
        assert again.status_code == 404 and "each works once" in again.json()["error"]


def test_an_export_link_on_loopback_refuses_another_host(client: Client) -> None:
    made = client.post("/local/api/cockpit/exports", None, PAGE)
    assert made.status_code == 201
    rebound = client.get(made.json()["url"], {"Host": "evil.example"})
    assert rebound.status_code == 403
    # The link's path reaches nothing else: no other data goes without the key.
    for sneaking in ("/local/api/cockpit/exports/../tasks", "/local/api/cockpit/exports/x/y"):
        answer = raw(client.url, f"GET {sneaking} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
        assert answer.startswith("HTTP/1.1 404"), answer


def rectangle(width: int) -> dict[str, Any]:
    return {"namespace": "sample", "name": "rectangle", "inputData": {"width": width}}

"""The cockpit's page and data over real HTTP on 127.0.0.1: headers, access, the checked
submit, the task list and its long poll, the instance view and the chart.

The runner is played by hand here (poll, then post statuses), so each answer is known.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from runner.localserver import LocalServer
from runner.localserver.cockpit.assets import CONTENT_SECURITY_POLICY
from runner.localserver.http import LONG_POLLS
from tests.integration.browser import ServerForTheNetwork

pytestmark = pytest.mark.integration

KEY = "cockpit-api-key"
AUTH = {"Authorization": f"bearer {KEY}"}
PAGE = {"X-XC-Cockpit": "1"}  # what the page sends with every request for data
CATALOG = [
    {
        "namespace": "sample",
        "name": "rectangle",
        "schemaVersion": 0,
        "inputs": [
            {"name": "width", "baseType": "Number"},
            {"name": "height", "baseType": "Number", "defaultValue": 1},
        ],
        "outputs": [{"name": "area", "baseType": "Number"}],
    },
]


class Client:
    def __init__(self, url: str) -> None:
        self.url = url

    def get(self, path: str, headers: dict[str, str] | None = None, **params: Any) -> Any:
        return requests.get(self.url + path, params=params, headers=headers, timeout=40)

    def post(self, path: str, body: Any, headers: dict[str, str] | None = None) -> Any:
        return requests.post(self.url + path, json=body, headers=headers, timeout=10)

    def data(self, path: str, **params: Any) -> Any:
        answer = self.get(f"/local/api/cockpit/{path}", PAGE, **params)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def submit(self, inputs: dict[str, Any]) -> Any:
        body = {"namespace": "sample", "name": "rectangle", "inputData": inputs}
        return self.post("/local/api/cockpit/submit", body, PAGE)

    def hand_out(self) -> str:
        answer = self.post("/polling/api/namespaces/sample/task-instances/poll", None, AUTH)
        assert answer.status_code == 200, answer.text
        return str(answer.json()["id"])

    def status(self, instance_id: str, status: str, **fields: Any) -> None:
        body = {"taskInstanceId": instance_id, "status": status, **fields}
        answer = self.post("/taskstatus/api/task-statuses", body, AUTH)
        assert answer.status_code == 200, answer.text


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalServer]:
    with LocalServer(tmp_path / "scenario.db", port=0, api_key=KEY) as running:
        published = requests.post(
            running.url + "/taskcatalog/api/catalog-task-definitions/sample",
            json=CATALOG,
            headers=AUTH,
            timeout=10,
        )
        assert published.status_code == 200, published.text
        yield running


@pytest.fixture
def client(server: LocalServer) -> Client:
    return Client(server.url)


def test_the_page_and_its_files_are_served_with_a_strict_policy(client: Client) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "/cockpit/main.js" in page.text
    for path, kind in (
        ("/cockpit/main.js", "text/javascript; charset=utf-8"),
        ("/cockpit/cockpit.css", "text/css; charset=utf-8"),
        ("/cockpit/favicon.svg", "image/svg+xml"),
    ):
        answer = client.get(path)
        assert answer.status_code == 200 and answer.headers["Content-Type"] == kind
    for answer in (page, client.get("/cockpit/main.js"), client.get("/local/api/statuses")):
        assert answer.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["X-Frame-Options"] == "DENY"
    assert client.get("/cockpit/nothing.js").status_code == 404
    sneaking = raw(
        client.url, b"GET /cockpit/../local/api/statuses HTTP/1.1\r\nHost: localhost\r\n\r\n"
    )
    assert sneaking.startswith("HTTP/1.1 404"), sneaking


def test_on_loopback_the_page_needs_no_key_and_others_cannot_use_that(client: Client) -> None:
    assert client.get("/local/api/cockpit/tasks", PAGE).status_code == 200
    assert client.get("/local/api/cockpit/tasks").status_code == 401, "without the page's header"
    foreign = {**PAGE, "Origin": "http://evil.example"}
    assert client.get("/local/api/cockpit/tasks", foreign).status_code == 401
    rebound = {**PAGE, "Host": "evil.example:8077"}
    assert client.get("/local/api/cockpit/tasks", rebound).status_code == 403
    assert client.get("/", {"Host": "evil.example"}).status_code == 403
    # The platform and admin APIs still need the key, header or not.
    assert client.get("/local/api/statuses", PAGE).status_code == 401
    assert client.post("/local/api/task-instances", {}, PAGE).status_code == 401
    assert client.get("/local/api/cockpit/tasks", AUTH).status_code == 200


def raw(url: str, request: bytes) -> str:
    """The start of the answer to bytes sent as they are (no client tidies the path)."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        return sock.recv(4096).decode()


def test_a_submit_without_the_pages_header_is_refused_before_its_body_is_read(
    client: Client,
) -> None:
    answer = raw(
        client.url,
        b"POST /local/api/cockpit/submit HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{",
    )
    assert answer.startswith("HTTP/1.1 401"), answer


def test_inputs_the_runner_would_refuse_are_not_queued(client: Client) -> None:
    refused = client.submit({"width": "wide", "height": "tall"})
    assert refused.status_code == 400
    body = refused.json()
    assert body["problems"] == [
        {"input": "height", "message": "'tall' is not a number (or its text)",
         "path": "input.height"},
        {"input": "width", "message": "'wide' is not a number (or its text)",
         "path": "input.width"},
    ]
    assert body["error"].startswith("invalid inputs for sample/rectangle: input.height: ")
    missing = client.submit({}).json()["problems"]
    assert missing == [{"input": "width", "message": "missing 'width'", "path": "input"}]
    unknown = client.post(
        "/local/api/cockpit/submit", {"namespace": "sample", "name": "nope"}, PAGE
    )
    assert unknown.status_code == 400
    assert unknown.json()["error"] == "task sample/nope is not in the published catalog"
    assert client.data("tasks")["tasks"] == [], "a refused task was queued"
    # The admin API is unchanged: it queues what it is given (a runner then refuses it).
    admin = client.post(
        "/local/api/task-instances",
        {"namespace": "sample", "name": "rectangle", "inputData": {"width": "wide"}},
        AUTH,
    )
    assert admin.status_code == 201


def test_a_good_submit_is_queued_and_shown(client: Client) -> None:
    queued = client.submit({"width": "2.5"})
    assert queued.status_code == 201, queued.text
    task = queued.json()["task"]
    assert task["state"] == "Queued" and task["id"] == queued.json()["instance"]["id"]
    assert (task["namespace"], task["name"], task["progress"]) == ("sample", "rectangle", None)
    listed = client.data("tasks")
    assert [t["id"] for t in listed["tasks"]] == [task["id"]]
    assert listed["lastInstance"] == task["ordinal"] and listed["last"] == 0


def test_the_list_follows_changes_with_a_long_poll(client: Client) -> None:
    first = client.submit({"width": 1}).json()["task"]["id"]
    start = client.data("tasks")
    marks = {"after": start["last"], "since": start["lastInstance"]}

    def later(action: Any) -> None:
        threading.Timer(0.5, action).start()

    later(lambda: client.submit({"width": 2}))
    changed = client.data("tasks", waitSeconds=20, **marks)
    assert [t["state"] for t in changed["tasks"]] == ["Queued"]
    assert changed["tasks"][0]["id"] != first
    marks = {"after": changed["last"], "since": changed["lastInstance"]}

    assert client.hand_out() == first
    later(lambda: client.status(first, "InProgress", message="half", progressPercentage="0.5"))
    moved = client.data("tasks", waitSeconds=20, **marks)
    assert [(t["id"], t["state"], t["progress"], t["message"]) for t in moved["tasks"]] == [
        (first, "InProgress", 0.5, "half")
    ]
    nothing = client.data("tasks", waitSeconds=0, after=moved["last"], since=moved["lastInstance"])
    assert nothing["tasks"] == [] and nothing["reset"] is False
    gone = client.data("tasks", after=10**6, since=moved["lastInstance"])
    assert gone["reset"] is True, "marks past the records: the page must start over"


def test_one_instance_with_its_statuses_inputs_and_outputs(client: Client) -> None:
    instance_id = client.submit({"width": "3"}).json()["task"]["id"]
    client.hand_out()
    client.status(instance_id, "InProgress", message="1 of 2", progressPercentage=0.5)
    client.status(instance_id, "Completed", outputValues={"area": 3})
    view = client.data(f"tasks/{instance_id}")
    assert view["inputs"] == {"width": "3", "height": 1}, "defaults filled in, as the runner does"
    assert [s["status"] for s in view["statuses"]] == ["InProgress", "Completed"]
    assert all(s["receivedAt"] for s in view["statuses"])
    summary = view["summary"]
    assert summary["state"] == "Completed" and summary["outputs"] == {"area": 3}
    assert summary["progress"] == 1.0 and summary["durationS"] >= 0
    assert client.get("/local/api/cockpit/tasks/nope", PAGE).status_code == 404


def test_the_chart_counts_what_ended(client: Client) -> None:
    done, failed, running, _waiting = (
        client.submit({"width": n}).json()["task"]["id"] for n in range(4)
    )
    for instance_id in (done, failed, running):
        assert client.hand_out() == instance_id
    client.status(done, "Completed", outputValues={"area": 0})
    client.status(failed, "Error", message="no")
    drawn = client.data("chart", minutes=5)
    assert (drawn["completed"], drawn["errors"]) == (1, 1)
    assert drawn["states"] == {"Queued": 1, "InProgress": 1}
    assert sorted(p["status"] for p in drawn["points"]) == ["Completed", "Error"]
    assert client.get("/local/api/cockpit/chart", PAGE, minutes=0).status_code == 400


def test_the_pages_long_polls_share_the_servers_bound(client: Client) -> None:
    """More long polls than may wait: the extra ones answer at once, short requests still run."""
    ended: list[float] = []
    lock = threading.Lock()
    started = time.monotonic()
    start = client.data("tasks")

    def long_poll() -> None:
        client.data("tasks", waitSeconds=8, after=start["last"], since=start["lastInstance"])
        with lock:
            ended.append(time.monotonic() - started)

    waiters = [threading.Thread(target=long_poll) for _ in range(LONG_POLLS + 3)]
    for thread in waiters:
        thread.start()
    time.sleep(1)
    for _ in range(10):
        assert client.get("/", PAGE).status_code == 200
    short_done = time.monotonic() - started
    for thread in waiters:
        thread.join(60)
    assert short_done < 6, "short requests waited for the long polls"
    assert sum(1 for t in ended if t < 6) == 3, f"the extra long polls answered at once: {ended}"
    assert sum(1 for t in ended if t >= 7) == LONG_POLLS, ended


def test_off_loopback_the_data_needs_the_key_and_the_files_do_not(tmp_path: Path) -> None:
    with ServerForTheNetwork(tmp_path / "scenario.db", port=0, api_key=KEY) as server:
        client = Client(server.url)
        assert client.get("/", {"Host": "192.0.2.7:8077"}).status_code == 200
        assert client.get("/cockpit/main.js").status_code == 200
        refused = client.get("/local/api/cockpit/tasks", PAGE)
        assert refused.status_code == 401
        assert "Authorization" in refused.json()["error"]
        assert client.get("/local/api/cockpit/tasks", {**PAGE, **AUTH}).status_code == 200
        wrong = {**PAGE, "Authorization": "bearer wrong"}
        assert client.get("/local/api/cockpit/catalog", wrong).status_code == 401
        body = {"namespace": "sample", "name": "rectangle", "inputData": {}}
        assert client.post("/local/api/cockpit/submit", body, PAGE).status_code == 401


def test_the_list_is_filtered_searched_and_paged_with_its_total(client: Client) -> None:
    ids = [client.submit({"width": str(k)}).json()["instance"]["id"] for k in range(7)]
    for instance_id in ids[:4]:
        assert client.hand_out() == instance_id
    client.status(ids[0], "Error", message="boom: no width")
    client.status(ids[1], "Completed", message="", outputValues={"area": "1"})
    first = client.data("tasks", limit=3)
    assert [t["id"] for t in first["tasks"]] == ids[:-4:-1] and first["total"] == 7
    after = client.data("tasks", limit=3, cursor=first["next"])
    assert [t["id"] for t in after["tasks"]] == ids[3:0:-1]
    assert client.data("tasks", limit=3, cursor=after["next"])["next"] is None
    assert [t["id"] for t in client.data("tasks", order="oldest", limit=2)["tasks"]] == ids[:2]
    errors = client.data("tasks", state="Error")
    assert [t["id"] for t in errors["tasks"]] == [ids[0]] and errors["total"] == 1
    assert client.data("tasks", state="InProgress")["total"] == 2  # handed out, no status yet
    assert client.data("tasks", q="no width")["tasks"][0]["id"] == ids[0]
    assert client.data("tasks", q=ids[5][:6])["tasks"][0]["id"] == ids[5]
    assert client.data("tasks", namespace="sample", name="rectangle")["total"] == 7
    assert client.data("tasks", namespace="other")["total"] == 0
    queued = client.data("tasks", state="Queued", minutes=15)
    assert queued["tiles"] == {
        "states": {"Queued": 3, "InProgress": 2},
        "minutes": 15,
        "completed": 1,
        "errors": 1,
    }
    for bad, words in (
        ({"state": "Lost"}, "state='Lost' is not one of Queued"),
        ({"order": "sideways"}, "order='sideways' is not desc or asc"),
        ({"q": "x" * 201}, "query parameter q: over 200 characters"),
    ):
        answer = client.get("/local/api/cockpit/tasks", PAGE, **bad)
        assert answer.status_code == 400 and words in answer.json()["error"], answer.text


def test_a_filtered_long_poll_says_which_tasks_left_the_filter(client: Client) -> None:
    instance_id = client.submit({"width": "1"}).json()["instance"]["id"]
    marks = client.data("tasks", state="Queued")
    assert marks["total"] == 1
    client.hand_out()
    client.status(instance_id, "InProgress", message="going")
    changed = client.data(
        "tasks",
        state="Queued",
        after=marks["last"],
        since=marks["lastInstance"],
        changes=marks["lastChange"],
        waitSeconds=5,
    )
    assert changed["tasks"] == [] and changed["gone"] == [instance_id]
    assert changed["total"] == 0 and changed["more"] is False


def test_the_page_cancels_what_has_not_ended(client: Client) -> None:
    queued = client.submit({"width": "1"}).json()["instance"]["id"]
    ended = client.submit({"width": "2"}).json()["instance"]["id"]
    assert client.hand_out() == queued  # the oldest first: handed out, then cancelled
    client.hand_out()
    client.status(ended, "Completed", message="", outputValues={"area": "2"})
    marks = client.data("tasks")
    answer = client.post(f"/local/api/cockpit/tasks/{queued}/cancel", None, PAGE)
    assert answer.status_code == 200, answer.text
    assert answer.json()["task"]["cancelled"] is True
    changed = client.data(
        "tasks",
        after=marks["last"],
        since=marks["lastInstance"],
        changes=marks["lastChange"],
        waitSeconds=5,
    )
    assert [t["id"] for t in changed["tasks"]] == [queued]  # a change that is no status
    refused = client.post(f"/local/api/cockpit/tasks/{ended}/cancel", None, PAGE)
    assert refused.status_code == 409 and "already ended (Completed)" in refused.json()["error"]
    assert client.post("/local/api/cockpit/tasks/nope/cancel", None, PAGE).status_code == 404
    assert client.post(f"/local/api/cockpit/tasks/{queued}/cancel", None).status_code == 401


def test_a_runner_sends_a_task_log_which_the_instance_view_shows(client: Client) -> None:
    answer = client.get("/local/api/cockpit/catalog", PAGE)
    assert answer.headers["X-XC-Task-Logs"] == "1"  # how a runner learns the server takes them
    instance_id = client.submit({"width": "3"}).json()["instance"]["id"]
    log = {
        "taskInstanceId": instance_id,
        "runnerId": "r1",
        "containerId": "c" * 64,
        "endedAt": "2026-11-27T12:00:21.200Z",
        "lines": [["stderr", "Traceback (most recent call last):"], ["stdout", "hi"]],
    }
    early = client.post("/local/api/task-logs", log, AUTH)
    assert early.status_code == 409 and "never handed out" in early.json()["error"]
    handed = client.post("/polling/api/namespaces/sample/task-instances/poll", None, AUTH).json()
    assert handed["id"] == instance_id
    started = datetime.now(UTC)  # the log's times are kept within hand-out and receipt
    log |= {
        "taskLogToken": handed["taskLogToken"],
        "startedAt": started.isoformat(timespec="milliseconds"),
        "endedAt": (started + timedelta(seconds=0.25)).isoformat(timespec="milliseconds"),
    }
    time.sleep(0.3)
    client.status(instance_id, "Error", message="ValueError")
    assert client.post("/local/api/task-logs", log, PAGE).status_code == 401  # the key, always
    assert client.post("/local/api/task-logs", log, AUTH).status_code == 200
    assert (
        client.post("/local/api/task-logs", {**log, "taskInstanceId": "x"}, AUTH).status_code == 404
    )
    view = client.data(f"tasks/{instance_id}")
    assert view["log"]["lines"] == log["lines"] and view["log"]["runnerId"] == "r1"
    assert (
        view["summary"]["durationS"] == 0.25 and view["summary"]["run"]["containerId"] == "c" * 64
    )
    assert view["submittedInputs"] == {"width": "3"}
    bad = client.post("/local/api/task-logs", {**log, "lines": "everything"}, AUTH)
    assert bad.status_code == 400 and "log.lines" in bad.json()["error"]

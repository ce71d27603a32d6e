"""The local server over real HTTP on 127.0.0.1, with `requests` as a client."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from runner.core.errors import AuthError, ConfigError, PlatformError
from runner.localserver import DEFAULT_API_KEY, LocalServer
from runner.localserver.client import LocalClient

pytestmark = pytest.mark.integration

KEY = "test-key"
CATALOG = [
    {
        "namespace": "sample",
        "name": "simple",
        "schemaVersion": 0,
        "inputs": [{"name": "arg", "baseType": "String"}],
    },
    {
        "namespace": "sample",
        "name": "double",
        "schemaVersion": 0,
        "timeOutInMillis": 30000,
        "inputs": [{"name": "str_in"}, {"name": "nbr_in"}],
    },
]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "local" / "scenario.db"


@pytest.fixture
def server(db_path: Path) -> Iterator[LocalServer]:
    with LocalServer(db_path, port=0, api_key=KEY) as running:
        yield running


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.headers["Authorization"] = f"bearer {KEY}"
        yield session


class Api:
    """Short calls against one server, through one keep-alive session."""

    def __init__(self, server: LocalServer, session: requests.Session) -> None:
        self.url = server.url
        self.session = session

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.session.request(method, self.url + path, timeout=10, **kwargs)

    def publish(self, catalog: Any, remove: str | None = None) -> requests.Response:
        params = {"removePreviousTasks": remove} if remove else None
        path = "/taskcatalog/api/catalog-task-definitions/sample"
        return self.call("POST", path, json=catalog, params=params)

    def submit(self, name: str, inputs: dict[str, Any] | None = None) -> dict[str, Any]:
        body = {"namespace": "sample", "name": name, "inputData": inputs or {}}
        answer = self.call("POST", "/local/api/task-instances", json=body)
        assert answer.status_code == 201, answer.text
        return dict(answer.json())

    def poll(self, name: str | None = None) -> requests.Response:
        params = {"catalogTaskDefinitionName": name} if name else None
        path = "/polling/api/namespaces/sample/task-instances/poll"
        return self.call("POST", path, params=params)

    def status(self, body: dict[str, Any]) -> requests.Response:
        return self.call("POST", "/taskstatus/api/task-statuses", json=body)


@pytest.fixture
def api(server: LocalServer, http: requests.Session) -> Api:
    return Api(server, http)


def test_auth_required(server: LocalServer, api: Api) -> None:
    path = server.url + "/taskcatalog/api/catalog-task-definitions/sample"
    missing = requests.get(path, timeout=10)
    assert missing.status_code == 401
    assert "Authorization" in missing.json()["error"]
    wrong = requests.get(path, headers={"Authorization": "bearer nope"}, timeout=10)
    assert wrong.status_code == 401
    basic = requests.get(path, headers={"Authorization": f"Basic {KEY}"}, timeout=10)
    assert basic.status_code == 401
    for scheme in ("bearer", "Bearer", "BEARER"):
        good = requests.get(path, headers={"Authorization": f"{scheme} {KEY}"}, timeout=10)
        assert good.status_code == 200, scheme
        assert good.json() == []


def test_empty_queue_is_204_without_body(api: Api) -> None:
    answer = api.poll()
    assert answer.status_code == 204
    assert answer.content == b""


def test_publish_and_poll(api: Api) -> None:
    published = api.publish(CATALOG)
    assert published.status_code == 200, published.text
    assert [d["versionNumber"] for d in published.json()] == [1, 1]
    created = api.submit("double", {"str_in": "ab", "nbr_in": "21"})
    assert created["status"] == "Queued"
    assert "warning" not in created
    answer = api.poll("double")
    assert answer.status_code == 200
    instance = answer.json()
    assert instance["id"] == created["id"]
    assert instance["catalogTaskDefinitionNamespace"] == "sample"
    assert instance["catalogTaskDefinitionName"] == "double"
    assert instance["catalogTaskDefinitionVersion"] == 1
    assert instance["inputData"] == {
        "str_in": "ab",
        "str_in#type": "String",
        "nbr_in": "21",
        "nbr_in#type": "String",
    }
    assert instance["status"] == "Taken"
    assert instance["timeOutInMillis"] == 30000
    assert instance["workflowInstanceResumeCount"] == 0
    assert instance["taskDefinitionId"] is None
    assert api.poll().status_code == 204


def test_publish_versions_and_removes(api: Api) -> None:
    api.publish(CATALOG)
    changed = [{**CATALOG[0], "description": "now documented"}]
    again = api.publish(changed, remove="true")
    assert again.json()[0]["versionNumber"] == 2
    listed = api.call("GET", "/taskcatalog/api/catalog-task-definitions/sample").json()
    assert [(d["name"], d["versionNumber"]) for d in listed] == [("simple", 2)]


def test_publish_rejects_bad_catalogs(api: Api) -> None:
    wrong_ns = api.publish([{**CATALOG[0], "namespace": "other"}])
    assert wrong_ns.status_code == 400
    assert "other/simple" in wrong_ns.json()["error"]
    no_name = api.publish([{"namespace": "sample"}])
    assert no_name.status_code == 400
    assert "'name'" in no_name.json()["error"]
    not_json = api.call("POST", "/taskcatalog/api/catalog-task-definitions/sample", data=b"[{")
    assert not_json.status_code == 400
    assert "not JSON" in not_json.json()["error"]


def test_unknown_task_is_accepted_with_a_warning(api: Api) -> None:
    created = api.submit("nope", {"arg": "x"})
    assert "sample/nope" in created["warning"]
    instance = api.poll().json()
    assert instance["inputData"] == {"arg": "x"}


def test_submit_validation(api: Api) -> None:
    cases = [
        ({"name": "simple"}, "body.namespace"),
        ({"namespace": "sample", "name": "simple", "inputData": []}, "body.inputData"),
        ({"namespace": "sample", "name": "simple", "input": {}}, "'input'"),
        ({"namespace": "sample", "name": "x", "timeOutInMillis": "5"}, "body.timeOutInMillis"),
    ]
    for body, named in cases:
        answer = api.call("POST", "/local/api/task-instances", json=body)
        assert answer.status_code == 400, body
        assert named in answer.json()["error"], answer.json()


def test_status_lifecycle(api: Api) -> None:
    instance_id = api.submit("simple", {"arg": "x"})["id"]
    api.poll()
    progress = {"taskInstanceId": instance_id, "status": "InProgress", "progressPercentage": "0.5"}
    first = api.status(progress)
    assert first.status_code == 200
    done = api.status({"taskInstanceId": instance_id, "status": "Completed", "outputValues": {}})
    assert done.json()["seq"] > first.json()["seq"]
    repeat = api.status({"taskInstanceId": instance_id, "status": "Completed", "outputValues": {}})
    assert repeat.status_code == 200, "a repeat of the terminal status is accepted"
    assert repeat.json() == done.json(), "...and answered with the first delivery's seq"
    late = api.status({"taskInstanceId": instance_id, "status": "InProgress"})
    assert late.status_code == 409
    assert "already ended with Completed" in late.json()["error"]
    other = api.status({"taskInstanceId": instance_id, "status": "Error", "message": "x"})
    assert other.status_code == 409
    view = api.call("GET", f"/local/api/task-instances/{instance_id}").json()
    assert view["state"] == "Completed"
    assert view["cancelled"] is False
    assert [s["status"] for s in view["statuses"]] == ["InProgress", "Completed"]
    assert view["statuses"][0]["progressPercentage"] == "0.5"


def test_status_for_an_instance_never_handed_out_is_409(api: Api) -> None:
    instance_id = api.submit("simple")["id"]
    answer = api.status({"taskInstanceId": instance_id, "status": "InProgress"})
    assert answer.status_code == 409
    assert "never handed out" in answer.json()["error"]
    view = api.call("GET", f"/local/api/task-instances/{instance_id}").json()
    assert view["state"] == "Queued" and view["statuses"] == []
    assert api.poll().json()["id"] == instance_id, "it is still handed out afterwards"


def test_status_validation_names_the_field(api: Api) -> None:
    instance_id = api.submit("simple")["id"]
    api.poll()
    answer = api.status({"taskInstanceId": instance_id, "status": "Done"})
    assert answer.status_code == 400
    assert "status.status" in answer.json()["error"]
    answer = api.status({"taskInstanceId": instance_id, "status": "Error", "errorLevel": "Bad"})
    assert answer.status_code == 400
    assert "status.errorLevel" in answer.json()["error"]


def test_not_found_and_wrong_method(api: Api) -> None:
    unknown = api.status({"taskInstanceId": "no-such-id", "status": "InProgress"})
    assert unknown.status_code == 404
    assert "no-such-id" in unknown.json()["error"]
    assert api.call("GET", "/local/api/task-instances/no-such-id").status_code == 404
    assert api.call("POST", "/local/api/task-instances/no-such-id/cancel").status_code == 404
    assert api.call("GET", "/no/such/path").status_code == 404
    cancelled = api.call("GET", "/polling/api/Cancelled", params={"taskInstanceId": "no-such-id"})
    assert cancelled.status_code == 404
    wrong = api.call("GET", "/polling/api/namespaces/sample/task-instances/poll")
    assert wrong.status_code == 405
    assert "POST" in wrong.json()["error"]


def test_concurrent_pollers_each_get_distinct_instances(api: Api, server: LocalServer) -> None:
    submitted = {api.submit("simple", {"arg": str(i)})["id"] for i in range(60)}
    taken: list[str] = []
    lock = threading.Lock()

    def poller() -> None:
        with requests.Session() as session:
            session.headers["Authorization"] = f"bearer {KEY}"
            mine = Api(server, session)
            while (answer := mine.poll()).status_code == 200:
                with lock:
                    taken.append(answer.json()["id"])

    threads = [threading.Thread(target=poller) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(taken) == 60, "no instance handed out twice"
    assert set(taken) == submitted


def test_cancellation_check(api: Api) -> None:
    instance_id = api.submit("simple")["id"]
    params = {"catalogTaskDefinitionNamespace": "sample", "taskInstanceId": instance_id}
    before = api.call("GET", "/polling/api/Cancelled", params=params)
    assert before.json() == {"isCanceled": "false"}
    assert api.call("POST", f"/local/api/task-instances/{instance_id}/cancel").json() == {
        "cancelled": True
    }
    after = api.call("GET", "/polling/api/Cancelled", params=params)
    assert after.json() == {"isCanceled": "true"}
    assert api.poll().status_code == 204, "a cancelled queued instance is not handed out"


def test_keep_alive_reuses_one_connection(api: Api) -> None:
    instance_id = api.submit("simple")["id"]
    api.poll()
    client_ports: set[int] = set()

    def call(method: str, path: str, **kwargs: Any) -> int:
        with api.call(method, path, stream=True, **kwargs) as answer:
            # The socket the answer came on, read before the body releases it.
            connection = answer.raw.connection
            sock = connection.sock if connection is not None else None
            assert sock is not None, f"the server closed the connection after {method} {path}"
            client_ports.add(sock.getsockname()[1])
            assert answer.content is not None
            return answer.status_code

    poll_path = "/polling/api/namespaces/sample/task-instances/poll"
    for index in range(30):
        body = {"taskInstanceId": instance_id, "status": "InProgress", "message": str(index)}
        assert call("POST", "/taskstatus/api/task-statuses", json=body) == 200
        assert call("POST", poll_path) == 204
        assert call("GET", "/no/such/path") == 404
        wrong_key = {"Authorization": "bearer wrong"}
        assert call("GET", "/local/api/statuses", headers=wrong_key) == 401
    assert len(client_ports) == 1, f"calls went over {len(client_ports)} connections"
    statuses = api.call("GET", "/local/api/statuses", params={"after": 0}).json()
    assert len(statuses["statuses"]) == 30
    assert statuses["last"] == statuses["statuses"][-1]["seq"]


def test_body_over_limit_is_413(server: LocalServer) -> None:
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(
            b"POST /taskstatus/api/task-statuses HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            + f"Authorization: bearer {KEY}\r\nContent-Length: {17 * 1024 * 1024}\r\n\r\n".encode()
        )
        with conn.makefile("rb") as stream:
            reply = stream.read()
    assert reply.startswith(b"HTTP/1.1 413")
    assert b"limit" in reply


def test_long_poll_returns_when_a_status_arrives(api: Api, server: LocalServer) -> None:
    instance_id = api.submit("simple")["id"]
    api.poll()
    posted: list[int] = []

    def post_later() -> None:
        time.sleep(0.3)
        with requests.Session() as other:
            answer = other.post(
                server.url + "/taskstatus/api/task-statuses",
                json={"taskInstanceId": instance_id, "status": "InProgress"},
                headers={"Authorization": f"Bearer {KEY}"},
                timeout=10,
            )
            posted.append(answer.status_code)

    thread = threading.Thread(target=post_later)
    started = time.monotonic()
    thread.start()
    page = api.call("GET", "/local/api/statuses", params={"after": 0, "waitSeconds": 20}).json()
    elapsed = time.monotonic() - started
    thread.join()
    assert posted == [200]
    assert [s["taskInstanceId"] for s in page["statuses"]] == [instance_id]
    assert elapsed < 5, f"long poll took {elapsed:.1f}s"
    quiet_start = time.monotonic()
    empty = api.call(
        "GET", "/local/api/statuses", params={"after": page["last"], "waitSeconds": 0.4}
    )
    assert empty.json() == {"statuses": [], "last": page["last"]}
    assert time.monotonic() - quiet_start >= 0.35


def test_persistence_across_restart(db_path: Path) -> None:
    with LocalServer(db_path, port=0, api_key=KEY) as first, requests.Session() as session:
        session.headers["Authorization"] = f"bearer {KEY}"
        api = Api(first, session)
        api.publish(CATALOG)
        done = api.submit("simple", {"arg": "1"})["id"]
        queued = api.submit("simple", {"arg": "2"})["id"]
        api.poll()
        api.status({"taskInstanceId": done, "status": "Completed"})
    with LocalServer(db_path, port=0, api_key=KEY) as second, requests.Session() as session:
        session.headers["Authorization"] = f"bearer {KEY}"
        api = Api(second, session)
        assert api.call("GET", f"/local/api/task-instances/{done}").json()["state"] == "Completed"
        assert api.poll().json()["id"] == queued
        listed = api.call("GET", "/taskcatalog/api/catalog-task-definitions/sample").json()
        assert len(listed) == 2


def test_client_round_trip(server: LocalServer) -> None:
    client = LocalClient(server.url, KEY, timeout_s=5)
    created = client.submit("sample", "simple", {"arg": "x"}, timeout_ms=1000)
    assert created["timeOutInMillis"] == 1000
    assert "warning" in created
    with requests.Session() as session:
        session.headers["Authorization"] = f"bearer {KEY}"
        api = Api(server, session)
        assert api.poll().json()["id"] == created["id"]
        api.status({"taskInstanceId": created["id"], "status": "Completed", "message": "ok"})
    page = client.statuses(after=0, wait_s=1)
    assert [s["message"] for s in page["statuses"]] == ["ok"]
    assert client.instance(created["id"])["state"] == "Completed"
    with pytest.raises(PlatformError) as ended:  # an ended instance cannot be cancelled
        client.cancel(created["id"])
    assert ended.value.status == 409 and not ended.value.transient
    queued = client.submit("sample", "simple", {"arg": "y"})
    assert client.cancel(queued["id"]) == {"cancelled": True}
    with pytest.raises(PlatformError) as missing:
        client.instance("no-such-id")
    assert missing.value.status == 404 and not missing.value.transient
    assert "no-such-id" in str(missing.value)
    with pytest.raises(AuthError):
        LocalClient(server.url, "wrong").instance(created["id"])


def test_client_connection_error_is_transient(server: LocalServer) -> None:
    url = server.url
    server.stop()
    with pytest.raises(PlatformError) as failed:
        LocalClient(url, KEY, timeout_s=2).statuses(after=0, wait_s=0)
    assert failed.value.transient


def test_port_in_use_and_default_key_refused(server: LocalServer, db_path: Path) -> None:
    port = int(server.url.rsplit(":", 1)[1])
    with pytest.raises(ConfigError, match=str(port)):
        LocalServer(db_path, port=port, api_key=KEY).start()
    with pytest.raises(ConfigError, match="default API key"):
        LocalServer(db_path, host="0.0.0.0", port=0, api_key=DEFAULT_API_KEY)
    LocalServer(db_path, host="0.0.0.0", port=0, api_key=KEY)  # a key of its own is fine


def test_serve_forever_until_stopped(db_path: Path) -> None:
    server = LocalServer(db_path, port=0, api_key=KEY)
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while server.url.endswith(":0") and time.monotonic() < deadline:
            time.sleep(0.01)
        answer = requests.get(
            server.url + "/local/api/statuses",
            headers={"Authorization": f"bearer {KEY}"},
            timeout=10,
        )
        assert answer.json() == {"statuses": [], "last": 0}
    finally:
        server.stop()
        thread.join(10)
    assert not thread.is_alive()
    server.stop()  # idempotent

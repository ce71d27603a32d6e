"""Bad input against the local server as its own process, over real sockets.

After every case: the request got an answer (a 4xx with a JSON error naming
the field or limit), the server is still up and has logged no traceback, and
the data stored before the bad inputs reads back the same.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.integration.local_process import ServerProcess, server_process

pytestmark = pytest.mark.integration

KEY = "bad-input-key"
AUTH = {"Authorization": f"bearer {KEY}", "Content-Type": "application/json"}
CATALOG_PATH = "/taskcatalog/api/catalog-task-definitions/sample"
SUBMIT_PATH = "/local/api/task-instances"
STATUS_PATH = "/taskstatus/api/task-statuses"
CATALOG = [
    {
        "namespace": "sample",
        "name": "double",
        "timeOutInMillis": 30000,
        "inputs": [{"name": "str_in", "defaultValue": "xyz"}, {"name": "nbr_in"}],
        "outputs": [{"name": "str_out"}],
    }
]


class Seeded:
    """What was stored before the bad inputs, and how to read it back."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        with server.session() as http:
            assert http.post(server.url + CATALOG_PATH, json=CATALOG, timeout=10).ok
            submit = server.url + SUBMIT_PATH
            self.ids = [
                http.post(
                    submit, json={"namespace": "sample", "name": "double"}, timeout=10
                ).json()["id"]
                for _ in range(3)
            ]
            poll = server.url + "/polling/api/namespaces/sample/task-instances/poll"
            assert [http.post(poll, timeout=10).json()["id"] for _ in range(2)] == self.ids[:2]
            for body in (
                {"status": "InProgress", "message": "half", "progressPercentage": "0.5"},
                {"status": "Completed", "message": "", "outputValues": {"str_out": "xyzxyz"}},
            ):
                answer = http.post(
                    server.url + STATUS_PATH,
                    json={"taskInstanceId": self.ids[0], **body},
                    timeout=10,
                )
                assert answer.ok, answer.text
        # The handed-out instance still running: bad statuses are aimed at it.
        self.running = self.ids[1]
        self.before = self.read()

    def read(self) -> dict[str, Any]:
        with self.server.session() as http:
            views = {
                i: http.get(f"{self.server.url}{SUBMIT_PATH}/{i}", timeout=10).json()
                for i in self.ids
            }
            catalog = http.get(self.server.url + CATALOG_PATH, timeout=10).json()
            page = http.get(self.server.url + "/local/api/statuses", timeout=10).json()
        ours = [s for s in page["statuses"] if s["taskInstanceId"] in self.ids]
        return {"views": views, "catalog": catalog, "statuses": ours}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with server_process(tmp_path_factory.mktemp("bad-input") / "scenario.db", KEY) as running:
        yield running


@pytest.fixture(scope="module")
def seeded(server: ServerProcess) -> Seeded:
    return Seeded(server)


@pytest.fixture(autouse=True)
def still_whole(server: ServerProcess, seeded: Seeded) -> Iterator[None]:
    yield
    assert server.alive(), f"the server died:\n{server.log()}"
    assert seeded.read() == seeded.before, "data stored before the bad inputs changed"
    assert "Traceback" not in server.log(), server.log()


def post(server: ServerProcess, path: str, body: bytes | str, **headers: str) -> requests.Response:
    data = body.encode() if isinstance(body, str) else body
    return requests.post(server.url + path, data=data, headers={**AUTH, **headers}, timeout=30)


def refused(answer: requests.Response, status: int, *named: str) -> str:
    assert answer.status_code == status, (answer.status_code, answer.text[:500])
    assert answer.headers["Content-Type"] == "application/json"
    error = str(answer.json()["error"])
    for name in named:
        assert name in error, error
    return error


def nested(depth: int, leaf: str = "1") -> str:
    return "[" * depth + leaf + "]" * depth


# -- JSON that json.loads could not take, or could not write back ----------------

DEEP = nested(100_000)


@pytest.mark.parametrize("path", [CATALOG_PATH, SUBMIT_PATH, STATUS_PATH])
def test_json_100000_deep_is_refused_naming_the_limit(server: ServerProcess, path: str) -> None:
    refused(post(server, path, DEEP), 400, "deeper than the limit of 64")


def test_output_values_980_deep_are_refused(server: ServerProcess, seeded: Seeded) -> None:
    outputs = '{"str_out": ' + nested(980, '"x"') + "}"
    status = f'"taskInstanceId": "{seeded.running}", "status": "Completed"'
    body = f'{{{status}, "outputValues": {outputs}}}'
    refused(post(server, STATUS_PATH, body), 400, "64 levels")


@pytest.mark.parametrize(
    ("path", "body", "named"),
    [
        (SUBMIT_PATH, '{"namespace": "sam\\udfffple", "name": "double"}', "body.namespace"),
        (SUBMIT_PATH, '{"namespace": "sample", "name": "\\ud800"}', "body.name"),
        (
            SUBMIT_PATH,
            '{"namespace": "sample", "name": "double", "inputData": {"k\\udfff": "v"}}',
            "(the key)",
        ),
        (
            SUBMIT_PATH,
            '{"namespace": "sample", "name": "double", "inputData": {"str_in": "\\udfff"}}',
            "body.inputData.str_in",
        ),
        (CATALOG_PATH, '[{"namespace": "sample", "name": "bad\\udfff"}]', "catalog[0].name"),
        (
            STATUS_PATH,
            '{"taskInstanceId": "RUNNING", "status": "InProgress", "message": "\\udfff"}',
            "status.message",
        ),
        (
            STATUS_PATH,
            '{"taskInstanceId": "RUNNING", "status": "Error", "message": "a\\udc00b"}',
            "status.message",
        ),
    ],
)
def test_lone_surrogates_are_refused_naming_the_field(
    server: ServerProcess, seeded: Seeded, path: str, body: str, named: str
) -> None:
    answer = post(server, path, body.replace("RUNNING", seeded.running))
    refused(answer, 400, named, "lone UTF-16 surrogate")


def test_invalid_utf8_is_refused(server: ServerProcess, seeded: Seeded) -> None:
    body = (
        b'{"taskInstanceId": "'
        + seeded.running.encode()
        + b'", "status": "InProgress", "message": "\xed\xbf\xbf"}'
    )
    refused(post(server, STATUS_PATH, body), 400, "not UTF-8")


# -- numbers that do not fit their field -----------------------------------------


@pytest.mark.parametrize(
    "timeout", ["18446744073709551616", "1e999", "-5", "0", "2147483648", '"5"', "1.5", "NaN"]
)
def test_submit_timeout_out_of_range(server: ServerProcess, timeout: str) -> None:
    body = f'{{"namespace": "sample", "name": "double", "timeOutInMillis": {timeout}}}'
    refused(post(server, SUBMIT_PATH, body), 400, "body.timeOutInMillis")


def test_catalog_timeout_out_of_range(server: ServerProcess) -> None:
    body = '[{"namespace": "sample", "name": "t", "timeOutInMillis": 18446744073709551616}]'
    refused(post(server, CATALOG_PATH, body), 400, "catalog[0].timeOutInMillis")


@pytest.mark.parametrize(
    "progress",
    ["NaN", "Infinity", "1e999", "150", "-5", '"abc"', '"NaN"', '"1e999"', '"150"', "true"],
)
def test_progress_outside_0_to_1_is_refused(
    server: ServerProcess, seeded: Seeded, progress: str
) -> None:
    status = f'"taskInstanceId": "{seeded.running}", "status": "InProgress"'
    body = f'{{{status}, "progressPercentage": {progress}}}'
    refused(post(server, STATUS_PATH, body), 400, "progressPercentage")


def test_huge_instance_id_and_message(server: ServerProcess, seeded: Seeded) -> None:
    body = '{"taskInstanceId": 18446744073709551616, "status": "InProgress"}'
    refused(post(server, STATUS_PATH, body), 400, "taskInstanceId")
    long_message = {
        "taskInstanceId": seeded.running,
        "status": "InProgress",
        "message": "m" * 70000,
    }
    refused(post(server, STATUS_PATH, json.dumps(long_message)), 400, "status.message", "65536")


@pytest.mark.parametrize("query", ["waitSeconds=nan", "waitSeconds=1e999", "after=-1", "after=x"])
def test_bad_query_parameters(server: ServerProcess, query: str) -> None:
    answer = requests.get(f"{server.url}/local/api/statuses?{query}", headers=AUTH, timeout=10)
    refused(answer, 400, query.split("=", maxsplit=1)[0])


# -- state rules and catalog types -----------------------------------------------


def test_catalog_default_of_the_wrong_type_names_task_and_input(server: ServerProcess) -> None:
    catalog = [
        {
            "namespace": "sample",
            "name": "typed",
            "inputs": [{"name": "count", "baseType": "Integer", "defaultValue": "many"}],
        }
    ]
    refused(post(server, CATALOG_PATH, json.dumps(catalog)), 400, "sample/typed", "'count'")


def test_status_for_an_instance_never_handed_out(server: ServerProcess, seeded: Seeded) -> None:
    body = {"taskInstanceId": seeded.ids[2], "status": "InProgress"}
    refused(post(server, STATUS_PATH, json.dumps(body)), 409, "never handed out")


def test_status_after_the_terminal_one(server: ServerProcess, seeded: Seeded) -> None:
    done = seeded.ids[0]
    late = {"taskInstanceId": done, "status": "InProgress", "progressPercentage": 1}
    refused(post(server, STATUS_PATH, json.dumps(late)), 409, "already ended with Completed")
    repeat = {
        "taskInstanceId": done,
        "status": "Completed",
        "message": "",
        "outputValues": {"str_out": "xyzxyz"},
    }
    answer = post(server, STATUS_PATH, json.dumps(repeat))
    assert answer.status_code == 200, answer.text
    assert answer.json()["seq"] == seeded.before["statuses"][-1]["seq"]


# -- who may ask -------------------------------------------------------------------


@pytest.mark.parametrize(
    "host", ["evil.example", "evil.example:8077", "127.0.0.1.evil.example", ""]
)
def test_foreign_host_header_is_refused(server: ServerProcess, host: str) -> None:
    answer = requests.get(
        server.url + "/local/api/statuses", headers={**AUTH, "Host": host}, timeout=10
    )
    refused(answer, 403, "loopback")


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost:1234", "LOCALHOST", "[::1]:8077"])
def test_loopback_host_names_are_accepted(server: ServerProcess, host: str) -> None:
    answer = requests.get(
        server.url + "/local/api/statuses", headers={**AUTH, "Host": host}, timeout=10
    )
    assert answer.status_code == 200, answer.text


def test_unauthenticated_uploads_are_not_read(server: ServerProcess) -> None:
    """20 uploads of 16 MB at once, without the key: answered 401, none of them read."""
    body = b"x" * (16 * 1024 * 1024)
    peak_before = server.memory_kib("VmHWM")
    codes: list[int] = []

    def upload() -> None:
        try:
            answer = requests.post(
                server.url + STATUS_PATH,
                data=body,
                headers={"Authorization": "bearer no"},
                timeout=60,
            )
            codes.append(answer.status_code)
        except requests.ConnectionError:
            codes.append(0)  # the server closed before the client could send it all

    threads = [threading.Thread(target=upload) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    grown_mib = (server.memory_kib("VmHWM") - peak_before) / 1024
    print(f"server peak memory grew {grown_mib:.1f} MiB over 20 unauthenticated 16 MB uploads")
    assert codes.count(401) >= 18, codes
    assert grown_mib < 16, "an unauthenticated body was read into memory"

"""`xc-runner submit`, `status` and `watch` as a user runs them, against a real local server
on 127.0.0.1: inputs as JSON, many instances from a file, the catalog's checks before
anything is queued, short ids, and the exit code of a task that ends in Error."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from runner.cli.submitting import BATCH
from runner.localserver import LocalServer
from runner.localserver.store import Store
from tests.conftest import REPO, user_environment, xc_runner
from tests.integration.geo_catalog import CATALOG

pytestmark = pytest.mark.integration

KEY = "submit-key"
POINT = {"lat": 48.85, "lon": 2.35}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalServer]:
    with LocalServer(tmp_path / "scenario.db", port=0, api_key=KEY) as running:
        with session() as http:
            path = "/taskcatalog/api/catalog-task-definitions/geo"
            assert http.post(running.url + path, json=CATALOG, timeout=10).status_code == 200
        yield running


def session() -> requests.Session:
    http = requests.Session()
    http.headers["Authorization"] = f"bearer {KEY}"
    return http


def env(server: LocalServer) -> dict[str, str]:
    return {"XC_SCENARIO_SERVER": server.url, "XC_SCENARIO_APIKEY": KEY}


def submit(
    server: LocalServer, *argv: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return xc_runner("submit", *argv, env=env(server), stdin=stdin, timeout_s=120)


def handed_out(server: LocalServer) -> list[dict[str, Any]]:
    """Every instance queued, oldest first, handed out by polls as a runner would take them."""
    found = []
    with session() as http:
        path = "/polling/api/namespaces/geo/task-instances/poll"
        while (answer := http.post(server.url + path, timeout=10)).status_code == 200:
            found.append(answer.json())
    return found


def stderr_lines(done: subprocess.CompletedProcess[str]) -> list[str]:
    return done.stderr.strip().splitlines()


def test_inputs_as_json_reach_the_instance(server: LocalServer, tmp_path: Path) -> None:
    inline = submit(
        server, "geo", "distance", "--input-json", json.dumps({"from": POINT, "to": POINT})
    )
    assert inline.returncode == 0, inline.stderr
    stored = tmp_path / "inputs.json"
    stored.write_text(json.dumps({"from": POINT, "to": {"lat": 0, "lon": 0}, "stops": [1, "2"]}))
    from_file = submit(server, "geo", "distance", "--input-json", str(stored), "unit=mi")
    assert from_file.returncode == 0, from_file.stderr
    from_stdin = submit(server, "geo", "distance", "--input-json", "-", stdin=stored.read_text())
    assert from_stdin.returncode == 0, from_stdin.stderr
    handed = handed_out(server)
    assert [i["id"] for i in handed] == [d.stdout.strip() for d in (inline, from_file, from_stdin)]
    assert handed[0]["inputData"]["from"] == POINT
    assert handed[1]["inputData"]["stops"] == [1, "2"] and handed[1]["inputData"]["unit"] == "mi"


def test_inputs_the_catalog_refuses_queue_nothing(server: LocalServer) -> None:
    done = submit(
        server,
        "geo",
        "distance",
        "--input-json",
        '{"from": "Paris", "stops": [1, "9223372036854775808"]}',
        "unit=ft",
    )
    assert done.returncode == 2, done.stderr
    assert stderr_lines(done) == [
        "xc-runner submit: geo/distance: input: missing 'to'",
        "xc-runner submit: geo/distance: input.from: 'Paris' is not a JSON object",
        "xc-runner submit: geo/distance: input.stops[1]: '9223372036854775808' is not a 64-bit "
        "integer (or its text)",
        "xc-runner submit: geo/distance: input.unit: 'ft' is not one of ['km', 'mi']",
        "xc-runner submit: nothing was queued (4 problems)",
    ]
    assert done.stdout == ""
    strict = submit(server, "geo", "distance", "--input-json", '{"from": {"x": 1e999}}')
    assert strict.returncode == 2
    assert "--input-json: the text given: inputs.from.x: a number too large" in strict.stderr
    assert handed_out(server) == []


def test_a_task_not_in_the_catalog_is_queued_with_its_warning(server: LocalServer) -> None:
    done = submit(server, "geo", "nosuch", "a=1")
    assert done.returncode == 0, done.stderr
    assert "task geo/nosuch is not in the published catalog" in done.stderr
    assert [i["catalogTaskDefinitionName"] for i in handed_out(server)] == ["nosuch"]


def test_many_instances_from_a_file(server: LocalServer, tmp_path: Path) -> None:
    """More than one batch of the bulk endpoint, queued in the file's order."""
    count = BATCH + 100
    inputs = tmp_path / "points.jsonl"
    inputs.write_text(
        "".join(json.dumps({"from": {"i": i}, "to": POINT}) + "\n" for i in range(count))
    )
    done = submit(server, "geo", "distance", "--from-file", str(inputs), "--timeout-ms", "9000")
    assert done.returncode == 0, done.stderr
    ids = done.stdout.split()
    assert f"xc-runner submit: queued {count} task instances in" in done.stderr
    with Store(tmp_path / "scenario.db") as store, store.read() as db:
        rows = db.execute("SELECT * FROM instances ORDER BY ordinal").fetchall()
    assert [row["id"] for row in rows] == ids
    assert [json.loads(row["input_data"])["from"]["i"] for row in rows] == list(range(count))
    assert {row["timeout_ms"] for row in rows} == {9000}


def test_a_file_of_whole_submits_for_several_tasks(server: LocalServer, tmp_path: Path) -> None:
    lines = [
        {"namespace": "geo", "name": "ping"},
        {"namespace": "geo", "name": "nosuch", "inputData": {"a": 1}},
        {"namespace": "geo", "name": "distance", "inputData": {"from": POINT, "to": POINT}},
        {"namespace": "geo", "name": "nosuch", "timeOutInMillis": 5},
    ]
    path = tmp_path / "submits.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n\n")
    done = submit(server, "--from-file", str(path))
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("task geo/nosuch is not in the published catalog") == 1
    handed = handed_out(server)
    assert [i["catalogTaskDefinitionName"] for i in handed] == [
        "ping",
        "nosuch",
        "distance",
        "nosuch",
    ]
    assert handed[3]["timeOutInMillis"] == 5


def test_one_bad_line_queues_none_and_every_problem_names_its_line(
    server: LocalServer, tmp_path: Path
) -> None:
    lines = [json.dumps({"namespace": "geo", "name": "ping"})] * 1500
    lines[9] = json.dumps({"namespace": "geo", "name": "distance", "inputData": {"to": 5}})
    lines[1199] = "{not json"
    lines[1399] = json.dumps({"namespace": "geo", "name": "ping", "inputData": [1]})
    lines[1449] = '{"namespace": "geo", "name": "ping", "inputData": {"x": NaN}}'
    path = tmp_path / "submits.jsonl"
    path.write_text("\n".join(lines))
    done = submit(server, "--from-file", str(path))
    assert done.returncode == 2, done.stderr
    said = stderr_lines(done)
    assert said[0] == f"xc-runner submit: {path}:10: geo/distance: input: missing 'from'"
    assert said[1] == f"xc-runner submit: {path}:10: geo/distance: input.to: 5 is not a JSON object"
    assert said[2].startswith(f"xc-runner submit: {path}:1200 is not valid JSON: Expecting")
    assert said[3:] == [
        f"xc-runner submit: {path}:1400: body.inputData: must be an object, not list",
        f"xc-runner submit: {path}:1450: body.inputData.x: NaN is not a finite number",
        "xc-runner submit: nothing was queued (5 problems)",
    ]
    assert done.stdout == ""
    assert handed_out(server) == []


def test_a_command_line_that_mixes_forms_is_refused(server: LocalServer, tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text('{"namespace": "geo", "name": "ping"}\n')
    for argv in (
        ["--from-file", str(path), "--wait"],
        ["geo", "ping", "a=1", "--from-file", str(path)],
        ["geo", "--from-file", str(path)],
        ["geo"],
    ):
        done = submit(server, *argv)
        assert done.returncode == 2 and len(stderr_lines(done)) == 1, (argv, done.stderr)
    assert handed_out(server) == []


def follow_in_background(server: LocalServer, *argv: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "runner", *argv],
        cwd=REPO,
        env=user_environment(env(server)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def act_as_runner(server: LocalServer, *statuses: dict[str, Any]) -> str:
    """Take the next instance of geo, as a runner would, and post these statuses for it."""
    with session() as http:
        deadline = time.monotonic() + 60
        path = "/polling/api/namespaces/geo/task-instances/poll"
        while (taken := http.post(server.url + path, timeout=10)).status_code != 200:
            assert time.monotonic() < deadline, "nothing was submitted"
            time.sleep(0.1)
        instance_id = str(taken.json()["id"])
        for status in statuses:
            body = {"taskInstanceId": instance_id, **status}
            posted = http.post(server.url + "/taskstatus/api/task-statuses", json=body, timeout=10)
            assert posted.status_code == 200, posted.text
    return instance_id


def test_submit_wait_exits_1_when_the_task_ends_in_error_and_shows_its_level(
    server: LocalServer,
) -> None:
    waiting = follow_in_background(server, "submit", "geo", "ping", "--wait")
    act_as_runner(
        server,
        {"status": "InProgress", "message": "half", "progressPercentage": "0.5"},
        {"status": "Error", "message": "the far end is down", "errorLevel": "Fatal"},
    )
    out, err = waiting.communicate(timeout=60)
    assert waiting.returncode == 1, err
    last = out.strip().splitlines()[-1]
    assert 'Error (Fatal) "the far end is down"' in last, out
    completed = follow_in_background(server, "submit", "geo", "ping", "--wait")
    act_as_runner(server, {"status": "Completed", "outputValues": {}})
    completed.communicate(timeout=60)
    assert completed.returncode == 0


def test_status_and_watch_take_the_start_of_an_id(server: LocalServer, tmp_path: Path) -> None:
    first = submit(server, "geo", "ping").stdout.strip()
    status = xc_runner("status", first[:8], env=env(server))
    assert status.returncode == 0, status.stderr
    assert status.stdout.startswith(f"geo/ping {first}: Queued")
    many = tmp_path / "many.jsonl"
    many.write_text("{}\n" * 40)  # enough ids that some share a first character
    assert submit(server, "geo", "ping", "--from-file", str(many)).returncode == 0
    ids = [i["id"] for i in handed_out(server)]
    shared = next(i[0] for i in ids if sum(j.startswith(i[0]) for j in ids) > 1)
    ambiguous = xc_runner("status", shared, env=env(server))
    assert ambiguous.returncode == 6
    assert f"'{shared}' is the start of several task instance ids (" in ambiguous.stderr
    assert "give more of it" in ambiguous.stderr
    watching = follow_in_background(server, "watch", first[:8])
    with session() as http:
        body = {"taskInstanceId": first, "status": "Completed", "outputValues": {"ok": True}}
        http.post(server.url + "/taskstatus/api/task-statuses", json=body, timeout=10)
    out, err = watching.communicate(timeout=60)
    assert watching.returncode == 0, err
    assert f"geo/ping {first[:8]} Completed" in out and '{"ok": true}' in out

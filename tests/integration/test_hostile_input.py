"""The third round of bad input, through the command line and real containers: a task that
notifies as fast as it can, catalogs whose regexes or nesting once broke `check` or every
task, and the sample configuration as shipped."""

from __future__ import annotations

import json
import re
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from runner.core.catalog import CATALOG_LABEL, MAX_CATALOG_BYTES
from runner.core.errors import PlatformError
from runner.core.examples import EXAMPLES_LABEL
from runner.core.model import TaskStatus
from runner.engine.docker_engine import DockerEngine
from runner.localserver import LocalServer
from runner.localserver.client import LocalClient
from runner.scenario.client import LOG_TOKEN, PlatformClient
from tests.conftest import (
    REPO,
    SAMPLE_IMAGE,
    build_image,
    build_test_image,
    free_port,
    xc_runner,
)
from tests.integration.processes import runner_process, wait_for

pytestmark = pytest.mark.integration

HOSTILE = REPO / "tests" / "images" / "hostile"
PAGE = {"X-XC-Cockpit": "1"}  # what the cockpit's page sends


@pytest.fixture(scope="module")
def hostile_image(engine: DockerEngine) -> str:
    return build_test_image("hostile", "xc-test/hostile-input:latest")


def labelled(tag: str, catalog: Any, examples: Any = None) -> str:
    """The hostile image with these labels (the catalog given as text when it is one)."""
    labels = {CATALOG_LABEL: catalog if isinstance(catalog, str) else json.dumps(catalog)}
    if examples is not None:
        labels[EXAMPLES_LABEL] = json.dumps(examples)
    build_image(HOSTILE, tag, labels)
    return tag


def normal_task(regex: str) -> list[dict[str, Any]]:
    text = {"name": "text", "baseType": "String", "customRegex": regex}
    return [
        {
            "namespace": "hostile",
            "name": "normal",
            "schemaVersion": 0,
            "inputs": [text],
            "outputs": [{"name": "text"}],
        }
    ]


def task_seconds(image: str, kind: str) -> float:
    """How long the runner took for a burst task, from its hand-out to its end (its log)."""
    done = xc_runner("exec", image, "hostile/burst", f"kind={kind}", "--log-level", "INFO")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"done": "yes"}
    [took] = re.findall(r"hostile/burst#\S+: Completed in ([0-9.]+) s", done.stderr)
    return float(took)


def test_100000_progress_lines_cost_the_task_what_log_lines_cost(hostile_image: str) -> None:
    # At 4,000 progress lines a second, 100,000 took 25 s where log lines took 2.5 s.
    log_s = min(task_seconds(hostile_image, "log") for _ in range(2))
    progress_s = min(task_seconds(hostile_image, "progress") for _ in range(2))
    print(f"\n100,000 lines and a result: log {log_s:.2f} s, progress {progress_s:.2f} s")
    assert progress_s < 1.5 * log_s + 0.5


def test_check_says_its_results_and_nothing_else(engine: DockerEngine) -> None:
    # (?i) once failed every task ('global flags not at the start'); [[ made Python's
    # parser print FutureWarning lines, with source paths, among check's results.
    examples = [
        {"task": "normal", "inputs": {"text": "Ab[c"}, "expect": {"status": "Completed"}},
        {"task": "normal", "inputs": {"text": "ab1"}, "expect": {"status": "Error"}},
    ]
    image = labelled("xc-test/hostile-regex:latest", normal_task("(?i)[[a-z]+"), examples)
    done = xc_runner("check", image, timeout_s=180)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr == ""
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    allowed = (image, "  ok    ", "image ", f"{image} ")
    assert all(line.startswith(allowed) for line in lines), done.stdout
    ran = xc_runner("exec", image, "hostile/normal", "text=ABC[", timeout_s=120)
    assert (ran.returncode, json.loads(ran.stdout)) == (0, {"text": "ABC["}), ran.stderr


def one_line(done: subprocess.CompletedProcess[str], code: int) -> str:
    assert done.returncode == code, done.stdout + done.stderr
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if " ERROR " in line]
    assert len(errors) == 1, done.stderr
    return errors[0]


def test_a_deep_label_or_a_long_regex_is_one_line_not_an_internal_error(
    engine: DockerEngine, tmp_path: Path
) -> None:
    deep = labelled("xc-test/hostile-deep:latest", "[" * 5000 + "]" * 5000)
    checked = xc_runner("check", deep, timeout_s=120)
    assert checked.returncode == 1 and "internal error" not in checked.stderr
    assert (
        "FAIL  label xc-scenario.catalog: nested deeper than the limit of 64 levels"
        in checked.stdout
    )
    port = free_port()
    run = xc_runner(
        "run",
        deep,
        "--server",
        f"http://127.0.0.1:{port}",
        "--api-key",
        "k",
        "--state-dir",
        str(tmp_path),
        timeout_s=120,
    )
    assert "label xc-scenario.catalog is nested deeper than the limit of 64" in one_line(run, 3)
    long = labelled("xc-test/hostile-longregex:latest", normal_task("a" * 200_000))
    checked = xc_runner("check", long, timeout_s=120)
    [fail] = [line for line in checked.stdout.splitlines() if "FAIL  " in line]
    assert "(hostile/normal) input 'text'" in fail
    assert "it is 200,000 characters long, over the limit of 4,096" in fail


# -- task logs: the handed runner's alone, its times within hand-out and receipt -------

KEY = "hostile-input-key"
AUTH = {"Authorization": f"bearer {KEY}"}


def test_a_task_log_is_the_handed_runners_alone_and_its_times_stay_within(
    tmp_path: Path,
) -> None:
    # Any holder of the key could replace the log of an instance another runner ran, and a
    # log from 0001 to 9999 showed a duration of 315,537,897,599 s.
    with LocalServer(tmp_path / "scenario.db", port=0, api_key=KEY) as server:
        catalog = [{"namespace": "hostile", "name": "t", "schemaVersion": 0}]
        url = f"{server.url}/taskcatalog/api/catalog-task-definitions/hostile"
        large = [{**catalog[0], "description": "x" * MAX_CATALOG_BYTES}]
        refused = requests.post(url, json=large, headers=AUTH, timeout=10)
        assert refused.status_code == 413 and "over the limit of 512 KiB" in refused.text
        assert requests.post(url, json=catalog, headers=AUTH, timeout=10).status_code == 200
        local = LocalClient(server.url, KEY)
        ids = [local.submit("hostile", "t")["id"] for _ in range(2)]
        ours, theirs = PlatformClient(server.url, KEY), PlatformClient(server.url, KEY)
        handed = ours.poll("hostile")
        assert handed is not None and handed["id"] == ids[0] and LOG_TOKEN not in handed
        assert theirs.poll("hostile") is not None  # the other instance, its own token
        log = {
            "taskInstanceId": ids[0],
            "runnerId": "r1",
            "containerId": None,
            "startedAt": "0001-01-01T00:00:00.000Z",
            "endedAt": "9999-12-31T23:59:59.999Z",
            "lines": [["stdout", "mine"]],
        }
        with pytest.raises(PlatformError, match="handed to another runner"):
            theirs.post_task_log({**log, "lines": [["stdout", "theirs"]]})
        logs = f"{server.url}/local/api/task-logs"
        for token in (None, "guessed"):
            forged = {**log, LOG_TOKEN: token} if token else log
            refused = requests.post(logs, json=forged, headers=AUTH, timeout=10)
            assert refused.status_code == 409, refused.text
        ours.post_status(TaskStatus(ids[0], "Error", "failed"))
        ours.post_task_log(log)
        view = requests.get(
            f"{server.url}/local/api/cockpit/tasks/{ids[0]}", headers=PAGE, timeout=10
        ).json()
        assert view["log"]["lines"] == [["stdout", "mine"]]
        assert view["log"]["startedAt"] >= view["takenAt"]
        assert 0 <= view["summary"]["durationS"] < 60, view["summary"]


def test_a_runner_sends_each_log_with_its_hand_outs_token(
    hostile_image: str, tmp_path: Path
) -> None:
    with LocalServer(tmp_path / "scenario.db", port=0, api_key=KEY) as server:
        local = LocalClient(server.url, KEY)
        with runner_process(server.url, KEY, [hostile_image], "hostile-logs") as runner:
            wait_for(lambda: published(server.url), 120, "the catalog", runner)
            instance_id = local.submit("hostile", "normal", {"text": "logged"})["id"]

            def logged() -> bool:
                view = requests.get(
                    f"{server.url}/local/api/cockpit/tasks/{instance_id}",
                    headers={**PAGE, **AUTH},
                    timeout=10,
                ).json()
                return view.get("log") is not None and view["log"]["runnerId"] == "hostile-logs"

            wait_for(logged, 120, "the task's log", runner)
            assert "refused" not in runner.log()


def published(url: str) -> bool:
    answer = requests.get(f"{url}/local/api/cockpit/catalog", headers={**PAGE, **AUTH}, timeout=10)
    return "hostile" in answer.text


def test_the_example_configuration_runs_as_shipped(engine: DockerEngine) -> None:
    # Its secret file did not exist: every exec with it failed.
    done = xc_runner(
        "exec", SAMPLE_IMAGE, "sample/simple", "arg=x", "--config", "examples/runner.toml"
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"msg": 'The argument received was "x".'}


class _DeepAnswers(BaseHTTPRequestHandler):
    """A platform whose every answer nests 5,000 levels deep."""

    def do_POST(self) -> None:
        body = ("[" * 5000 + "]" * 5000).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


def test_a_platform_answer_nested_too_deep_is_one_error_not_a_crash() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _DeepAnswers)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        client = PlatformClient(f"http://127.0.0.1:{server.server_port}", KEY)
        with pytest.raises(PlatformError, match="nested deeper than the limit of 128 levels"):
            client.poll("hostile")
    finally:
        server.shutdown()
        server.server_close()

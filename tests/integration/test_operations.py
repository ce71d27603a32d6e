"""The runner as its own process with --http-addr: /metrics scraped during and after real
sample tasks, the probes before publication, while statuses cannot be delivered and
after, /status, JSON logs without the API key, and a taken port."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from runner.localserver import LocalServer
from runner.localserver.client import LocalClient
from tests.conftest import SAMPLE_IMAGE, free_port
from tests.integration.faults import CATALOG_PATH, STATUS_PATH, FaultyPlatform
from tests.integration.processes import RunnerProcess, ended, runner_process, wait_for
from tests.integration.registry_support import image_id

pytestmark = pytest.mark.integration

KEY = "ops-test-api-key-5f0c9e"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalServer]:
    with LocalServer(tmp_path / "scenario.db", port=0, api_key=KEY) as local:
        yield local


class Ops:
    """The runner's operations listener, as Prometheus and an orchestrator call it."""

    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"

    def get(self, path: str) -> requests.Response:
        reply = requests.get(self.url + path, timeout=10)
        assert KEY not in reply.text
        return reply

    def answers(self) -> bool:
        try:
            self.get("/healthz")
        except requests.ConnectionError:
            return False
        return True

    def metrics(self) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
        families = text_string_to_metric_families(self.get("/metrics").text)
        return {
            (s.name, frozenset(s.labels.items())): s.value for f in families for s in f.samples
        }

    def value(self, name: str, **labels: str) -> float | None:
        return self.metrics().get((name, frozenset(labels.items())))

    def probe(self, path: str) -> tuple[int, Any]:
        reply = self.get(path)
        return reply.status_code, reply.json()


def tasks_total(ops: Ops, task: str, status: str, namespace: str = "sample") -> float | None:
    """Warm, cold and none (never got a container) together: whether a task finds a warm
    container depends on timing."""
    labels = {"namespace": namespace, "task": task, "status": status}
    starts = ("warm", "cold", "none")
    counts = [ops.value("xc_runner_tasks_total", **labels, start=s) for s in starts]
    return None if all(c is None for c in counts) else sum(c or 0 for c in counts)


def check_before_publication(ops: Ops, runner: RunnerProcess, platform: FaultyPlatform) -> None:
    wait_for(ops.answers, 60, "the operations listener", runner)
    # Not ready, and why: the platform's answer to the publication.
    wait_for(lambda: "503" in ops.probe("/readyz")[1]["reason"], 30, "the cause", runner)
    code, body = ops.probe("/readyz")
    assert code == 503 and body["status"] == "not ready"
    assert body["reason"].startswith(
        "the catalog is not published yet: the platform refuses it or does not answer: "
    ), body
    assert ops.probe("/healthz") == (200, {"status": "ok"})  # starting up is healthy
    platform.heal()
    wait_for(lambda: ops.get("/readyz").status_code == 200, 30, "readiness", runner)
    assert ops.probe("/readyz") == (200, {"status": "ready"})
    assert (ops.value("xc_runner_platform_errors_total") or 0) >= 1  # the refused publications


def check_during_a_task(
    ops: Ops, runner: RunnerProcess, client: LocalClient, runner_id: str
) -> str:
    slow = client.submit("sample", "reporting_task", {"n": "3", "param": "ops"})["id"]
    wait_for(lambda: ops.get("/status").json()["running"] != [], 60, "a running task", runner)
    status = ops.get("/status").json()
    [running] = status.pop("running")
    assert status == {
        "runnerId": runner_id,
        "version": "0.1.0",
        "images": [SAMPLE_IMAGE],
        # Built on this engine, never pushed: no digest (tests/integration/test_registry.py
        # checks a pulled image's).
        "servedImages": [
            {"image": SAMPLE_IMAGE, "imageId": image_id(SAMPLE_IMAGE), "digest": None}
        ],
        "slots": 4,
        "outboxPending": status["outboxPending"],
    }
    assert running["taskInstanceId"] == slow
    assert (running["namespace"], running["task"]) == ("sample", "reporting_task")
    assert running["ageSeconds"] >= 0
    assert ops.value("xc_runner_tasks_running") == 1
    # A task type's series appear when its first run ends, not before (nor for the catalog).
    assert tasks_total(ops, "reporting_task", "Completed") is None
    return str(slow)


def check_after_tasks(ops: Ops, runner: RunnerProcess, client: LocalClient, slow: str) -> None:
    errors = ops.value("xc_runner_platform_errors_total")
    others = [
        client.submit(namespace, task, inputs)["id"]
        for namespace, task, inputs in (
            ("sample", "simple", {"arg": "hi"}),
            ("sample", "double", {"str_in": "ab", "nbr_in": "21"}),
            ("sample", "zero_division", {}),
            ("sample", "no_such_task", {}),
        )
    ]
    wait_for(lambda: all(ended(client, i) for i in [slow, *others]), 90, "the tasks", runner)
    wait_for(lambda: ops.value("xc_runner_tasks_running") == 0, 30, "no task running", runner)
    assert tasks_total(ops, "reporting_task", "Completed") == 1
    assert tasks_total(ops, "simple", "Completed") == 1
    assert tasks_total(ops, "double", "Completed") == 1
    assert tasks_total(ops, "zero_division", "Error") == 1
    assert tasks_total(ops, "zero_division", "Completed") == 0
    assert tasks_total(ops, "#unknown", "Error") == 1
    slow_labels = {"namespace": "sample", "task": "reporting_task"}
    assert ops.value("xc_runner_task_duration_seconds_count", **slow_labels) == 1
    # What it used, read from its container's cgroup: a few ms of CPU, a few MiB at most.
    assert ops.value("xc_runner_task_cpu_seconds_count", **slow_labels) == 1
    assert 0 < (ops.value("xc_runner_task_cpu_seconds_sum", **slow_labels) or 0) < 3
    assert ops.value("xc_runner_task_memory_peak_bytes_count", **slow_labels) == 1
    assert ops.value("xc_runner_task_oom_kills_total", **slow_labels) == 0
    assert (ops.value("xc_runner_task_duration_seconds_sum", **slow_labels) or 0) >= 3
    assert ops.value("xc_runner_polls_total", result="task") == 5
    assert (ops.value("xc_runner_polls_total", result="empty") or 0) >= 1
    assert ops.value("xc_runner_platform_errors_total") == errors
    assert ops.value("xc_runner_slots") == 4
    assert ops.value("xc_runner_engine_up") == 1
    assert "no_such_task" not in ops.get("/metrics").text


def check_undeliverable_statuses(
    ops: Ops, runner: RunnerProcess, client: LocalClient, platform: FaultyPlatform
) -> str:
    errors = ops.value("xc_runner_platform_errors_total") or 0
    platform.fail(503, paths=[STATUS_PATH])
    stuck = str(client.submit("sample", "simple", {"arg": "later"})["id"])
    wait_for(lambda: ops.get("/readyz").status_code == 503, 60, "not ready", runner)
    code, body = ops.probe("/readyz")
    assert code == 503 and body["status"] == "not ready"
    assert body["reason"].startswith("statuses cannot be delivered (")
    assert ops.probe("/healthz") == (200, {"status": "ok"})  # alive, only blocked
    assert (ops.value("xc_runner_outbox_pending") or 0) >= 1
    assert ops.get("/status").json()["outboxPending"] >= 1
    assert (ops.value("xc_runner_platform_errors_total") or 0) > errors
    platform.heal()
    wait_for(lambda: ended(client, stuck), 60, "the statuses after the outage", runner)
    wait_for(lambda: ops.get("/readyz").status_code == 200, 30, "ready again", runner)
    assert ops.value("xc_runner_outbox_pending") == 0
    assert tasks_total(ops, "simple", "Completed") == 2
    return stuck


def check_log(log: str, slow: str, stuck: str) -> None:
    assert KEY not in log
    lines = [json.loads(line) for line in log.splitlines() if line.strip()]
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    about_slow = [line for line in lines if line.get("taskInstanceId") == slow]
    assert {(line["namespace"], line["task"]) for line in about_slow} == {
        ("sample", "reporting_task")
    }
    assert any(f"#{slow}: started " in line["message"] for line in about_slow)
    retried = [
        line
        for line in lines
        if line["logger"] == "runner.worker.delivery"
        and line["message"].startswith("statuses cannot be delivered")
    ]
    assert retried and all(
        (line["namespace"], line["task"], line["taskInstanceId"]) == ("sample", "simple", stuck)
        for line in retried
    ), retried
    paused = [line["message"] for line in lines if line["message"].startswith("not taking new")]
    assert paused and paused[0].startswith("not taking new tasks: statuses cannot be delivered (")


def test_metrics_probes_status_and_logs_of_a_running_runner(
    server: LocalServer, runner_id: str, task_images: list[str]
) -> None:
    client = LocalClient(server.url, KEY)
    port = free_port()
    ops = Ops(port)
    with FaultyPlatform(server.url) as platform:
        platform.fail(503, paths=[CATALOG_PATH])  # publication has to wait
        with runner_process(
            platform.url,
            KEY,
            [SAMPLE_IMAGE],
            runner_id,
            "--http-addr",
            f"127.0.0.1:{port}",
            env={"XC_RUNNER_LOG_FORMAT": "json"},
        ) as runner:
            check_before_publication(ops, runner, platform)
            slow = check_during_a_task(ops, runner, client, runner_id)
            check_after_tasks(ops, runner, client, slow)
            stuck = check_undeliverable_statuses(ops, runner, client, platform)
            assert runner.stop() == 0, runner.log()
            assert not ops.answers(), "the listener outlived the runner"
            check_log(runner.log(), slow, stuck)


def test_a_taken_port_stops_the_runner_with_exit_3(
    server: LocalServer, runner_id: str, task_images: list[str]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with runner_process(
            server.url, KEY, [SAMPLE_IMAGE], runner_id, "--http-addr", f"127.0.0.1:{port}"
        ) as runner:
            code = runner.proc.wait(60)
            log = runner.log()
    assert code == 3, log
    assert f"the operations listener cannot listen on 127.0.0.1:{port}" in log
    assert "Address already in use" in log
    assert "Traceback" not in log and KEY not in log


def test_an_idle_runner_whose_platform_is_down_is_not_ready_and_says_why(
    server: LocalServer, runner_id: str, task_images: list[str]
) -> None:
    port = free_port()
    ops = Ops(port)
    with (
        FaultyPlatform(server.url) as platform,
        runner_process(
            platform.url, KEY, [SAMPLE_IMAGE], runner_id, "--http-addr", f"127.0.0.1:{port}"
        ) as runner,
    ):
        wait_for(lambda: ops.answers() and ops.get("/readyz").status_code == 200, 60, "ready")
        platform.refuse()  # connections refused: the platform is down
        wait_for(lambda: ops.get("/readyz").status_code == 503, 30, "not ready", runner)
        reason = ops.probe("/readyz")[1]["reason"]
        assert reason.startswith("the platform's task queue cannot be polled ("), reason
        assert ops.value("xc_runner_ready") == 0
        assert ops.probe("/healthz") == (200, {"status": "ok"})  # the runner itself is fine
        platform.restore()
        wait_for(lambda: ops.get("/readyz").status_code == 200, 30, "ready again", runner)
        assert runner.stop() == 0, runner.log()
        log = runner.log()
    began = [line for line in log.splitlines() if "task queue cannot be polled:" in line]
    assert len(began) == 1, log
    assert "polling the platform works again after" in log

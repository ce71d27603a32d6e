"""The runner's own faults, through a real engine behind a proxy that fails on cue
(tests/integration/engine_faults.py): an engine that cannot create containers, one that
hangs, an image that disappears, a launch budget spent, a dockerd restart. A broken runner
stops taking work and fails none of the tasks it has taken while it may still start them;
its probes answer at once and say why; it resumes by itself.

The runner is its own process, against the local server; its statuses are read from the
server directly.
"""

from __future__ import annotations

import statistics
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from runner.localserver import LocalServer
from runner.localserver.client import LocalClient
from tests.conftest import (
    GO_IMAGE,
    IN_CI,
    REPO,
    SAMPLE_IMAGE,
    free_port,
    remove_images,
    runner_containers,
)
from tests.integration.engine_faults import FaultyEngine
from tests.integration.processes import RunnerProcess, brief, ended, runner_process, wait_for
from tests.integration.test_make_run import MAY_STOP_ENGINE, engine_answers, stop_engine

pytestmark = pytest.mark.integration

KEY = "engine-faults-key"
CREATE = r"^/containers/create$"
NO_SPACE = "mkdir /var/lib/docker/overlay2/x: no space left on device"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalServer]:
    with LocalServer(tmp_path / "scenario.db", port=0, api_key=KEY) as local:
        yield local


@pytest.fixture
def client(server: LocalServer) -> LocalClient:
    return LocalClient(server.url, KEY)


@pytest.fixture
def faulty() -> Iterator[FaultyEngine]:
    with FaultyEngine() as proxy:
        yield proxy


class Ops:
    """The runner's operations listener, as a prober and a scraper see it."""

    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"

    def get(self, path: str) -> requests.Response:
        return requests.get(self.url + path, timeout=10)

    def ready(self) -> tuple[int, str]:
        reply = self.get("/readyz")
        return reply.status_code, str(reply.json().get("reason", ""))

    def metric(self, name: str, **labels: str) -> float:
        text = self.get("/metrics").text
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == name and all(
                    sample.labels.get(k) == v for k, v in labels.items()
                ):
                    return float(sample.value)
        raise AssertionError(f"no sample {name} {labels}")


def start_runner(
    server: LocalServer,
    images: list[str],
    runner_id: str,
    env: dict[str, str],
) -> tuple[Any, Ops]:
    port = free_port()
    environ = {
        "XC_RUNNER_HTTP_ADDR": f"127.0.0.1:{port}",
        "XC_RUNNER_DRAIN_TIMEOUT_S": "5",
        "XC_RUNNER_STOP_GRACE_S": "1",
        **env,
    }
    return runner_process(server.url, KEY, images, runner_id, env=environ), Ops(port)


def wait_ready(ops: Ops, runner: RunnerProcess) -> None:
    wait_for(lambda: _answers(ops) and ops.ready()[0] == 200, 90, "the runner to be ready", runner)


def _answers(ops: Ops) -> bool:
    try:
        ops.get("/healthz")
    except requests.ConnectionError:
        return False
    return True


def states(client: LocalClient, ids: list[str]) -> dict[str, str]:
    return {i: client.instance(i)["state"] for i in ids}


def fault_lines(log: str, text: str) -> list[str]:
    """The lines of the runner's fault tracker that say `text`."""
    return [line for line in log.splitlines() if "runner.worker.faults" in line and text in line]


def test_an_engine_that_cannot_create_containers_fails_no_task_and_the_runner_says_so(
    server: LocalServer, client: LocalClient, faulty: FaultyEngine, runner_id: str
) -> None:
    process, ops = start_runner(server, [SAMPLE_IMAGE], runner_id, {"DOCKER_HOST": faulty.url})
    with process as runner:
        wait_ready(ops, runner)
        faulty.fail("POST", CREATE, message=NO_SPACE)
        began = time.monotonic()
        first = [client.submit("sample", "simple", {"arg": f"a{i}"})["id"] for i in range(6)]
        wait_for(lambda: ops.ready()[0] == 503, 10, "/readyz to say 503", runner)
        _, reason = ops.ready()
        assert "the container engine cannot start containers" in reason, reason
        assert NO_SPACE in reason
        assert ops.metric("xc_runner_engine_up") == 0 and ops.metric("xc_runner_ready") == 0
        assert ops.get("/healthz").status_code == 200  # its own loops are fine
        time.sleep(5)
        second = [client.submit("sample", "simple", {"arg": f"b{i}"})["id"] for i in range(6)]
        while time.monotonic() - began < 25:  # no task ends in Error for 25 s
            # (a task may complete: a warm container made before the fault serves it)
            assert "Error" not in states(client, first + second).values(), runner.log()
            time.sleep(0.5)
        assert sum(s == "Queued" for s in states(client, second).values()) == 6, (
            "taken while broken"
        )
        faulty.heal()
        healed = time.monotonic()
        wait_for(lambda: ended(client, *first, *second), 60, "the 12 tasks to end", runner)
        resumed_s = time.monotonic() - healed
        assert ops.ready()[0] == 200
        assert (
            ops.metric(
                "xc_runner_task_errors_total",
                namespace="sample",
                task="simple",
                reason="engine",
                fault="runner",
            )
            == 0
        )
        assert runner.stop(30) == 0
        log = runner.log()
    for i, instance_id in enumerate(first + second):
        arg = f"a{i}" if i < 6 else f"b{i - 6}"
        assert brief(client.instance(instance_id)) == [
            ("Completed", "", None, {"msg": f'The argument received was "{arg}".'})
        ]
    print(f"all 12 tasks done {resumed_s:.1f} s after the engine could create containers again")
    # One line when it began, one when it ended; none per failed launch.
    assert len(fault_lines(log, "the container engine cannot start containers:")) == 1, log
    assert len(fault_lines(log, "the container engine starts containers again after")) == 1, log
    assert faulty.count("POST", CREATE, "failed") >= 2


def test_a_hung_engine_never_makes_the_probes_wait(
    server: LocalServer, client: LocalClient, faulty: FaultyEngine, runner_id: str
) -> None:
    process, ops = start_runner(server, [SAMPLE_IMAGE], runner_id, {"DOCKER_HOST": faulty.url})
    with process as runner:
        wait_ready(ops, runner)
        faulty.hang()
        hung = time.monotonic()
        took: dict[str, list[float]] = {"/healthz": [], "/readyz": [], "/metrics": []}
        health: list[int] = []
        not_ready_after: list[float] = []
        stop = threading.Event()

        def scrape(path: str) -> None:
            with requests.Session() as session:
                while not stop.is_set():
                    began = time.perf_counter()
                    reply = session.get(ops.url + path, timeout=10)
                    took[path].append(time.perf_counter() - began)
                    if path == "/healthz":
                        health.append(reply.status_code)
                    if path == "/readyz" and reply.status_code == 503 and not not_ready_after:
                        not_ready_after.append(time.monotonic() - hung)

        scrapers = [
            threading.Thread(target=scrape, args=(path,), daemon=True)
            for path in ("/healthz", "/readyz", "/metrics") * 2
        ]
        for thread in scrapers:
            thread.start()
        task = client.submit("sample", "simple", {"arg": "after the hang"})["id"]
        time.sleep(20)
        stop.set()
        for thread in scrapers:
            thread.join(15)
        assert not_ready_after and not_ready_after[0] < 10, not_ready_after
        code, reason = ops.ready()
        assert code == 503 and "the container engine does not answer" in reason, reason
        faulty.heal()
        wait_for(lambda: ended(client, task), 60, "the task to end after the hang", runner)
        assert brief(client.instance(task)) == [
            ("Completed", "", None, {"msg": 'The argument received was "after the hang".'})
        ]
        assert runner.stop(30) == 0
    assert set(health) == {200}, "the runner's own loops were fine all along"
    for path, times in took.items():
        p99 = statistics.quantiles(times, n=100)[98]
        print(
            f"{path}: {len(times)} answers during the hang, p50 "
            f"{statistics.median(times) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms"
        )
        # The target is 50 ms (met on a quiet machine: the printed figures); the bound here
        # leaves room for a loaded one, and is still far below a ping's timeout (3 s), which
        # is what each of them waited before.
        assert p99 < 0.5, f"{path}: p99 {p99 * 1000:.1f} ms"
    print(f"/readyz said 503 {not_ready_after[0]:.1f} s after the engine hung")


def test_a_spent_launch_budget_is_one_error_naming_the_runner_s_fault_counted_as_such(
    server: LocalServer, client: LocalClient, faulty: FaultyEngine, runner_id: str
) -> None:
    env = {"DOCKER_HOST": faulty.url, "XC_RUNNER_LAUNCH_BUDGET_S": "3", "XC_RUNNER_POOL_SIZE": "0"}
    process, ops = start_runner(server, [SAMPLE_IMAGE], runner_id, env)
    with process as runner:
        wait_ready(ops, runner)
        faulty.fail("POST", CREATE, message=NO_SPACE)
        task = client.submit("sample", "simple", {"arg": "x"})["id"]
        wait_for(lambda: ended(client, task), 30, "the task to end", runner)
        statuses = brief(client.instance(task))
        assert len(statuses) == 1 and statuses[0][0] == "Error", statuses
        assert statuses[0][1].startswith(
            "the runner could not start this task (its own fault, not the task's; tried for 3 s)"
        ), statuses
        assert NO_SPACE in statuses[0][1]
        labels = {"namespace": "sample", "task": "simple"}
        assert (
            ops.metric("xc_runner_task_errors_total", reason="engine", fault="runner", **labels)
            == 1
        )
        assert ops.metric("xc_runner_tasks_total", status="Error", start="none", **labels) == 1
        assert ops.metric("xc_runner_tasks_total", status="Error", start="cold", **labels) == 0
        faulty.heal()
        assert runner.stop(30) == 0


def test_an_image_removed_under_pull_never_pauses_its_namespace_until_it_is_back(
    server: LocalServer, client: LocalClient, runner_id: str
) -> None:
    gone = f"xc-test/gone:{uuid.uuid4().hex[:8]}"
    subprocess.run(["docker", "tag", SAMPLE_IMAGE, gone], check=True, timeout=30)
    try:
        process, ops = start_runner(
            server, [gone, GO_IMAGE], runner_id, {"XC_RUNNER_PULL": "never"}
        )
        with process as runner:
            wait_ready(ops, runner)
            remove_images(gone)  # the tag only: the sample image keeps its own
            waiting = client.submit("sample", "simple", {"arg": "waits"})["id"]
            wait_for(lambda: ops.ready()[0] == 503, 30, "/readyz to say 503", runner)
            assert f"image {gone}" in ops.ready()[1]
            other = client.submit("numbers", "sqrt", {"x": "16"})["id"]
            wait_for(lambda: ended(client, other), 30, "the other image's task", runner)
            assert client.instance(other)["state"] == "Completed"
            time.sleep(8)
            assert client.instance(waiting)["state"] in ("Queued", "Taken"), brief(
                client.instance(waiting)
            )
            assert ops.metric("xc_runner_image_available", image=gone) == 0
            subprocess.run(["docker", "tag", SAMPLE_IMAGE, gone], check=True, timeout=30)
            wait_for(lambda: ended(client, waiting), 30, "the task once the image is back", runner)
            assert brief(client.instance(waiting)) == [
                ("Completed", "", None, {"msg": 'The argument received was "waits".'})
            ]
            wait_for(lambda: ops.ready()[0] == 200, 30, "/readyz to say 200 again", runner)
            assert runner.stop(30) == 0
            log = runner.log()
    finally:
        remove_images(gone)
    assert len(fault_lines(log, f"image {gone} cannot be launched:")) == 1, log


@pytest.mark.timeout(600)
@pytest.mark.skipif(
    not MAY_STOP_ENGINE,
    reason="restarts the engine: runs under CI=true or XC_TESTS_MAY_STOP_ENGINE=1",
)
def test_a_dockerd_restart_in_the_middle_of_a_task(
    server: LocalServer, client: LocalClient, runner_id: str
) -> None:
    process, ops = start_runner(server, [SAMPLE_IMAGE], runner_id, {"XC_RUNNER_CONCURRENCY": "1"})
    with process as runner:
        wait_ready(ops, runner)
        running = client.submit("sample", "reporting_task", {"n": "30", "param": "x"})["id"]
        wait_for(
            lambda: len(client.instance(running)["statuses"]) >= 2, 60, "the task to run", runner
        )
        stop_engine()
        try:
            queued = [client.submit("sample", "simple", {"arg": f"q{i}"})["id"] for i in range(2)]
            wait_for(lambda: ended(client, running), 60, "the running task to end", runner)
            time.sleep(3)
            assert states(client, queued) == dict.fromkeys(queued, "Queued")
        finally:
            subprocess.run(["sh", "scripts/ensure-engine.sh"], cwd=REPO, check=True, timeout=300)
        assert engine_answers()
        wait_for(lambda: ended(client, *queued), 120, "the queued tasks to run", runner)
        assert runner.stop(30) == 0
    view = client.instance(running)
    terminal = [s for s in view["statuses"] if s["status"] in ("Completed", "Error")]
    assert len(terminal) == 1 and view["statuses"][-1] is terminal[0], brief(view)
    for instance_id in queued:
        assert client.instance(instance_id)["state"] == "Completed"
    assert runner_containers(runner_id) == []
    if IN_CI:
        print(f"the interrupted task ended: {terminal[0]['status']} {terminal[0]['message']!r}")

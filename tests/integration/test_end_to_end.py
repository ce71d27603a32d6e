"""The whole product: local server, runner process, real task images, every status checked."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from runner.localserver import LocalServer
from runner.localserver.client import LocalClient
from tests.conftest import GO_IMAGE, NODE_IMAGE, REPO, SAMPLE_IMAGE, SH_IMAGE
from tests.integration.processes import brief, runner_process, wait_for

pytestmark = pytest.mark.integration

KEY = "e2e-key"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalServer]:
    with LocalServer(tmp_path / "scenario.db", port=0, api_key=KEY) as local:
        yield local


def terminal(view: dict[str, Any]) -> bool:
    return view["state"] in ("Completed", "Error")


def when(status: dict[str, Any]) -> float:
    return datetime.fromisoformat(status["receivedAt"].replace("Z", "+00:00")).timestamp()


def test_sample_tasks_end_to_end_through_the_local_server(
    server: LocalServer, task_images: list[str], runner_id: str
) -> None:
    client = LocalClient(server.url, KEY)
    submissions = {
        "simple": ("sample", "simple", {"arg": "hello"}),
        "double": ("sample", "double", {"str_in": "ab", "nbr_in": "21"}),
        "double_defaults": ("sample", "double", {}),
        "reporting": ("sample", "reporting_task", {"n": "3", "param": "e2e"}),
        "placeholder": ("sample", "error_placeholder", {}),
        "zero": ("sample", "zero_division", {}),
        "words": ("textstats", "word_count", {"text": "one two\nthree"}),
        "unknown": ("sample", "unknown_task", {}),
        "invalid": ("sample", "reporting_task", {"n": "1"}),
    }
    ids = {
        key: client.submit(ns, name, inputs)["id"]
        for key, (ns, name, inputs) in submissions.items()
    }
    with runner_process(server.url, KEY, [SAMPLE_IMAGE, NODE_IMAGE], runner_id) as runner:
        wait_for(
            lambda: all(terminal(client.instance(i)) for i in ids.values()),
            90,
            "every task to end",
            runner,
        )
        time.sleep(0.3)
        assert runner.stop() == 0, runner.log()
    views = {key: client.instance(i) for key, i in ids.items()}

    assert brief(views["simple"]) == [
        ("Completed", "", None, {"msg": 'The argument received was "hello".'})
    ]
    assert brief(views["double"]) == [("Completed", "", None, {"str_out": "abab", "nbr_out": "42"})]
    assert brief(views["double_defaults"]) == [
        ("Completed", "", None, {"str_out": "xyz (default)xyz (default)", "nbr_out": "246"})
    ]
    assert brief(views["reporting"]) == [
        ("InProgress", 'Input "e2e": going to sleep for 3 seconds.', "0.0", None),
        ("InProgress", "1", "0.3333333333333333", None),
        ("InProgress", "2", "0.6666666666666666", None),
        ("InProgress", "3", "1.0", None),
        ("InProgress", "Waking up.", None, None),
        ("Completed", "", None, {"result": 'Input "e2e", result is ok'}),
    ]
    statuses = views["reporting"]["statuses"]
    # Progress is relayed while the task runs, not batched at its end.
    assert when(statuses[-1]) - when(statuses[1]) > 1.5
    assert brief(views["placeholder"]) == [
        ("Error", 'Task "error_placeholder" reports a fatal error.', None, None)
    ]
    assert brief(views["zero"]) == [("Error", "ZeroDivisionError: division by zero", None, None)]
    assert brief(views["words"]) == [
        ("Completed", "", None, {"words": "3", "lines": "2", "characters": "13"})
    ]
    assert brief(views["unknown"]) == [
        (
            "Error",
            "unknown task sample/unknown_task: no task image of this runner declares it",
            None,
            None,
        )
    ]
    assert brief(views["invalid"]) == [
        ("Error", "invalid inputs for sample/reporting_task: input: missing 'param'", None, None)
    ]

    label = subprocess.check_output(
        [
            "docker",
            "inspect",
            "-f",
            '{{ index .Config.Labels "xc-scenario.catalog" }}',
            SAMPLE_IMAGE,
        ]
    )
    published = {
        d["name"]: {k: v for k, v in d.items() if k != "versionNumber"}
        for d in client_catalog(server, "sample")
    }
    assert published == {d["name"]: d for d in json.loads(label)}


def client_catalog(server: LocalServer, namespace: str) -> list[dict[str, Any]]:
    answer = requests.get(
        f"{server.url}/taskcatalog/api/catalog-task-definitions/{namespace}",
        headers={"Authorization": f"bearer {KEY}"},
        timeout=10,
    )
    answer.raise_for_status()
    result: list[dict[str, Any]] = answer.json()
    return result


def test_sigterm_lets_the_running_task_finish_then_exits_zero(
    server: LocalServer, task_images: list[str], runner_id: str
) -> None:
    client = LocalClient(server.url, KEY)
    instance_id = client.submit("sample", "reporting_task", {"n": "2", "param": "drain"})["id"]
    with runner_process(server.url, KEY, [SAMPLE_IMAGE], runner_id) as runner:
        wait_for(
            lambda: bool(client.instance(instance_id)["statuses"]), 60, "the task to start", runner
        )
        runner.proc.send_signal(signal.SIGTERM)
        late = client.submit("sample", "simple", {"arg": "after the signal"})["id"]
        assert runner.proc.wait(60) == 0, runner.log()
    assert client.instance(instance_id)["state"] == "Completed"
    assert client.instance(late)["state"] == "Queued", "a task was taken after SIGTERM"


@contextmanager
def demo_process(tmp_path: Path, runner_id: str, *args: str) -> Iterator[DemoRun]:
    """`xc-runner demo ARGS` as `make run` starts it; its output lines kept; stopped with
    Ctrl-C at the end, which it must take with exit code 0."""
    env = {
        **os.environ,
        "XC_RUNNER_ID": runner_id,
        "XC_LOCAL_DB": str(tmp_path / "demo.db"),
        "XC_LOCAL_PORT": "0",
        "XC_RUNNER_POLL_MAX_INTERVAL_S": "0.2",
    }
    env.pop("XC_SCENARIO_SERVER", None)
    demo = subprocess.Popen(
        [sys.executable, "-m", "runner", "demo", *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert demo.stdout is not None
    run = DemoRun(demo)
    try:
        yield run
        demo.send_signal(signal.SIGINT)
        run.lines += demo.stdout.readlines()
        assert demo.wait(60) == 0, run.output
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
        demo.stdout.close()


@dataclass
class DemoRun:
    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def read_outcomes(self, count: int) -> None:
        """Read the demo's output until `count` tasks ended."""
        assert self.process.stdout is not None
        deadline = time.monotonic() + 90
        while sum(" Completed " in line or " Error " in line for line in self.lines) < count:
            assert time.monotonic() < deadline, self.output
            line = self.process.stdout.readline()
            assert line, "the demo ended early:\n" + self.output
            self.lines.append(line)


def test_make_run_demo_shows_every_sample_task_ending(
    tmp_path: Path, task_images: list[str], runner_id: str
) -> None:
    images = (SAMPLE_IMAGE, NODE_IMAGE, GO_IMAGE, SH_IMAGE)
    with demo_process(tmp_path, runner_id, *images) as demo:
        demo.read_outcomes(9)
        # The first line is the cockpit's address; the page is there while the demo runs.
        assert demo.lines[0].startswith("cockpit: http://127.0.0.1:"), demo.lines[0]
        page = requests.get(demo.lines[0].split()[1], timeout=10)
        assert page.status_code == 200 and "local cockpit" in page.text
    output = demo.output
    assert "local XC Scenario server listening on http://127.0.0.1:" in output
    for expected in (
        '"The argument received was \\"hello\\"."',
        '"nbr_out": "42"',
        '[0.0] "Input \\"demo\\": going to sleep for 3 seconds."',
        'Task \\"error_placeholder\\" reports a fatal error.',
        "ZeroDivisionError: division by zero",
        '"upper": "SHOUT"',
        '"words": "4"',
        '"count": 348513',
        '"greeting": "Hello, demo! Hello, demo!"',
    ):
        assert expected in output, output


def test_the_demo_serves_an_awaited_image_once_it_is_built(
    tmp_path: Path, task_images: list[str], runner_id: str
) -> None:
    """`demo --await-images`, as `make run` starts it while its set-up builds the task
    images: an image not built yet does not stop it; its tasks run once it is built."""
    awaited = f"xc-test/firstrun-awaited-{runner_id}:latest"
    try:
        with demo_process(tmp_path, runner_id, "--await-images", SH_IMAGE, awaited) as demo:
            demo.read_outcomes(1)
            assert "greet/hello" in demo.output and "submitted sample/" not in demo.output
            subprocess.run(["docker", "tag", SAMPLE_IMAGE, awaited], check=True, timeout=60)
            demo.read_outcomes(6)
    finally:
        subprocess.run(["docker", "rmi", awaited], capture_output=True, timeout=60, check=False)
    assert demo.output.count("submitted sample/") == 5, demo.output
    assert '"nbr_out": "42"' in demo.output and "ZeroDivisionError: division by zero" in demo.output

"""The runner against a platform that is not the project's own, following the API notes."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from tests.conftest import REPO, SAMPLE_IMAGE
from tests.integration.foreign_platform import ForeignPlatform
from tests.integration.processes import runner_process, wait_for

pytestmark = pytest.mark.integration

KEY = "foreign-key-123"


def done(platform: ForeignPlatform, ids: list[str]) -> bool:
    return all(
        any(s["status"] in ("Completed", "Error") for s in platform.statuses_of(i)) for i in ids
    )


def completed(instance_id: str, outputs: dict[str, str]) -> list[dict[str, object]]:
    return [
        {
            "taskInstanceId": instance_id,
            "status": "Completed",
            "message": "",
            "outputValues": outputs,
        }
    ]


def error(instance_id: str, message: str) -> list[dict[str, object]]:
    return [{"taskInstanceId": instance_id, "status": "Error", "message": message}]


def progress(instance_id: str, message: str, fraction: str | None = None) -> dict[str, object]:
    status: dict[str, object] = {
        "taskInstanceId": instance_id,
        "status": "InProgress",
        "message": message,
    }
    if fraction is not None:
        status["progressPercentage"] = fraction
    return status


def test_the_sample_tasks_post_what_the_reference_worker_posts(
    task_images: list[str], runner_id: str
) -> None:
    with ForeignPlatform(KEY) as platform:
        platform.enqueue("sample", "simple", "s1", {"arg": "hello", "arg#type": "String"})
        platform.enqueue(
            "sample",
            "double",
            "d1",
            {"str_in": "ab", "str_in#type": "String", "nbr_in": "21", "nbr_in#type": "String"},
        )
        platform.enqueue("sample", "double", "d2", {})
        platform.enqueue("sample", "double", "d3", {"nbr_in": "x"})
        platform.enqueue("sample", "reporting_task", "r1", {"n": "2", "param": "p"})
        platform.enqueue("sample", "error_placeholder", "e1", {})
        platform.enqueue("sample", "zero_division", "z1", {})
        platform.enqueue("sample", "no_such_task", "u1", {})
        platform.enqueue("sample", "simple", "s2", {"arg#type": "String"})
        ids = ["s1", "d1", "d2", "d3", "r1", "e1", "z1", "u1", "s2"]
        with runner_process(platform.url, KEY, [SAMPLE_IMAGE], runner_id) as runner:
            wait_for(lambda: done(platform, ids), 90, "terminal statuses", runner)
            time.sleep(0.3)  # nothing more may arrive
            assert runner.stop() == 0, runner.log()

        label = json.loads(
            subprocess.check_output(
                [
                    "docker",
                    "inspect",
                    "-f",
                    '{{ index .Config.Labels "xc-scenario.catalog" }}',
                    SAMPLE_IMAGE,
                ]
            )
        )
        assert platform.catalogs == {"sample": label}
        assert platform.auth_headers == {f"bearer {KEY}"}
        assert platform.statuses_of("s1") == completed(
            "s1", {"msg": 'The argument received was "hello".'}
        )
        assert platform.statuses_of("d1") == completed("d1", {"str_out": "abab", "nbr_out": "42"})
        assert platform.statuses_of("d2") == completed(
            "d2", {"str_out": "xyz (default)xyz (default)", "nbr_out": "246"}
        )
        assert platform.statuses_of("d3") == error(
            "d3", "Incorrect value 'x' for nbr_in, should be integer"
        )
        assert platform.statuses_of("r1") == [
            progress("r1", 'Input "p": going to sleep for 2 seconds.', "0.0"),
            progress("r1", "1", "0.5"),
            progress("r1", "2", "1.0"),
            progress("r1", "Waking up."),
            *completed("r1", {"result": 'Input "p", result is ok'}),
        ]
        assert platform.statuses_of("e1") == error(
            "e1", 'Task "error_placeholder" reports a fatal error.'
        )
        assert platform.statuses_of("z1") == error("z1", "ZeroDivisionError: division by zero")
        assert platform.statuses_of("u1") == error(
            "u1", "unknown task sample/no_such_task: no task image of this runner declares it"
        )
        assert platform.statuses_of("s2") == error(
            "s2", "invalid inputs for sample/simple: input: missing 'arg'"
        )
        # Only the API's own requests: none of the local server's extensions (task logs).
        assert {path for _, path in platform.requests} <= {
            "/taskcatalog/api/catalog-task-definitions/sample",
            "/polling/api/namespaces/sample/task-instances/poll",
            "/taskstatus/api/task-statuses",
            "/polling/api/Cancelled",  # the cancellation check, when a task runs long enough
        }


def test_a_refused_api_key_ends_the_runner_at_once(task_images: list[str], runner_id: str) -> None:
    with ForeignPlatform(KEY) as platform:
        started = time.monotonic()
        with runner_process(platform.url, "wrong-key", [SAMPLE_IMAGE], runner_id) as runner:
            code = runner.proc.wait(30)
            log = runner.log()
        assert code == 4, log
        assert time.monotonic() - started < 15
        assert "refused the API key (401)" in log
        assert "wrong-key" not in log


def start_refused(image: str, runner_id: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "runner", "run", image],
        env={
            "PATH": "/usr/bin:/bin",
            "XC_SCENARIO_SERVER": "http://127.0.0.1:9",
            "XC_SCENARIO_APIKEY": "k",
            "XC_RUNNER_ID": runner_id,
        },
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_missing_image_is_refused_at_start_up(task_images: list[str], runner_id: str) -> None:
    result = start_refused("xc-test/absent:nope", runner_id)
    assert result.returncode == 3, result.stderr
    assert "image xc-test/absent:nope not found" in result.stderr


@pytest.mark.parametrize(
    ("label", "words"),
    [
        ('""', "no xc-scenario.catalog label"),
        ("'not json'", "label xc-scenario.catalog is not valid JSON"),
        ('\'[{"namespace": "n"}]\'', "catalog[0]: missing 'name'"),
    ],
)
def test_an_image_without_a_usable_catalog_is_refused_at_start_up(
    probe_image: str, runner_id: str, label: str, words: str
) -> None:
    image = f"xc-test/bad-label-{runner_id}:latest"
    # LABEL with an empty value removes the probe's label; otherwise it replaces it.
    dockerfile = f"FROM {probe_image}\nLABEL xc-scenario.catalog={label}\n"
    subprocess.run(
        ["docker", "build", "-q", "-t", image, "-"],
        input=dockerfile.encode(),
        check=True,
        capture_output=True,
    )
    try:
        result = start_refused(image, runner_id)
    finally:
        subprocess.run(["docker", "rmi", "-f", image], check=True, capture_output=True)
    assert result.returncode == 3, result.stderr
    assert f"image {image}: " in result.stderr
    assert words in result.stderr

"""compose.yaml: the local server, the runner and the sample submitter as containers."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from runner.engine.docker_engine import DockerEngine
from tests.conftest import REPO, free_port, unavailable

pytestmark = pytest.mark.integration


def test_docker_compose_up_runs_the_samples_end_to_end(
    engine: DockerEngine, task_images: list[str], runner_image: str, runner_id: str
) -> None:
    if shutil.which("docker-compose") is None:
        unavailable("docker-compose is not installed")
    project = f"xc{runner_id.replace('-', '')}"
    env = {
        **os.environ,
        "XC_RUNNER_ID": runner_id,
        "XC_LOCAL_PORT": str(free_port()),
        "XC_RUNNER_OPS_PORT": str(free_port()),
        "XC_SCENARIO_APIKEY": "compose-test-key",
    }
    compose = ["docker-compose", "-p", project, "-f", str(REPO / "compose.yaml")]
    try:
        result = subprocess.run(
            [
                *compose,
                "up",
                "--no-color",
                "--abort-on-container-exit",
                "--exit-code-from",
                "samples",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        runner_log = subprocess.run(
            [*compose, "logs", "--no-color", "runner"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        ).stdout
    finally:
        subprocess.run(
            [*compose, "down", "--volumes", "--timeout", "60"],
            env=env,
            capture_output=True,
            timeout=120,
            check=False,
        )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    for expected in (
        '"The argument received was \\"hello\\"."',
        '"nbr_out": "42"',
        '"Waking up."',
        "ZeroDivisionError: division by zero",
        "reports a fatal error.",
        '"words": "3"',
    ):
        assert expected in output, output
    # Stopped by SIGTERM when the samples were done: drained, then a clean stop.
    assert f"runner {runner_id} stopped" in runner_log, runner_log
    assert "operations listener on http://0.0.0.0:9180" in runner_log, runner_log

"""compose.yaml: the local server, the runner and the sample submitter as containers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from runner.engine.docker_engine import DockerEngine
from tests.conftest import REPO, free_port, unavailable

pytestmark = pytest.mark.integration


KEY = "compose-test-key"


def test_docker_compose_up_runs_the_samples_end_to_end(
    engine: DockerEngine,
    task_images: list[str],
    runner_image: str,
    runner_id: str,
    tmp_path: Path,
) -> None:
    """The key from a secret file (never the environment); the runner as uid 10001, with
    the engine's socket through its group."""
    if shutil.which("docker-compose") is None:
        unavailable("docker-compose is not installed")
    project = f"xc{runner_id.replace('-', '')}"
    key_file = tmp_path / "apikey"  # tmp_path is private; uid 10001 reads the file
    key_file.write_text(KEY + "\n")
    key_file.chmod(0o644)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("XC_")},
        "XC_RUNNER_ID": runner_id,
        "XC_LOCAL_PORT": str(free_port()),
        "XC_RUNNER_OPS_PORT": str(free_port()),
        "XC_COMPOSE_APIKEY_FILE": str(key_file),
        "DOCKER_GID": str(Path("/var/run/docker.sock").stat().st_gid),
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
        inspected = _inspect(compose, env, "runner")
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
    assert inspected["Config"]["User"] == "10001:10001"
    assert KEY not in json.dumps(inspected["Config"]["Env"])


def _inspect(compose: list[str], env: dict[str, str], service: str) -> dict[str, Any]:
    """`docker inspect` of the service's container."""
    ids = subprocess.run(
        [*compose, "ps", "-q", service], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    out = subprocess.run(["docker", "inspect", *ids], capture_output=True, text=True, check=True)
    found: list[dict[str, Any]] = json.loads(out.stdout)
    return found[0]

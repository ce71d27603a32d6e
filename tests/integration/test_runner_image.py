"""The runner's own image: not root, the engine's socket reached through its group, a
HEALTHCHECK on /healthz that turns healthy, and OCI labels saying what it is."""

from __future__ import annotations

import json
import subprocess
import time
import tomllib
import uuid
from pathlib import Path
from typing import Any

import pytest

from runner.engine.interface import LABEL_RUNNER_ID
from tests.conftest import REPO, SAMPLE_IMAGE

pytestmark = pytest.mark.integration

SOCKET = Path("/var/run/docker.sock")


def docker(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=120, check=check
    )


def inspect(reference: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = json.loads(docker("inspect", reference).stdout)
    return found[0]


def runner_container(runner_image: str, name: str, *args: str) -> None:
    docker(
        "run", "-d", "--name", name, *args,
        "--volume", f"{SOCKET}:{SOCKET}",
        "--env", "XC_SCENARIO_SERVER=http://127.0.0.1:9",  # no platform: it keeps trying
        "--env", "XC_SCENARIO_APIKEY=image-test-key",
        "--env", f"XC_RUNNER_ID={name}",
        runner_image, "run", SAMPLE_IMAGE,
    )  # fmt: skip


def test_the_image_says_what_it_is_and_is_not_root(runner_image: str) -> None:
    config = inspect(runner_image)["Config"]
    labels = config["Labels"]
    with (REPO / "pyproject.toml").open("rb") as file:
        version = tomllib.load(file)["project"]["version"]
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert labels["org.opencontainers.image.version"] == version
    assert labels["org.opencontainers.image.revision"].removesuffix("-dirty") == head
    assert labels["org.opencontainers.image.source"]
    assert config["User"] == "10001:10001"
    assert "/healthz" in " ".join(config["Healthcheck"]["Test"])


def test_the_runner_reaches_the_engine_through_the_socket_group_and_turns_healthy(
    runner_image: str, task_images: list[str]
) -> None:
    name = f"test-image-{uuid.uuid4().hex[:8]}"
    runner_container(runner_image, name, "--group-add", str(SOCKET.stat().st_gid))
    try:
        deadline = time.monotonic() + 90
        while (health := inspect(name)["State"].get("Health", {}).get("Status")) != "healthy":
            assert inspect(name)["State"]["Running"], docker("logs", name).stderr
            assert time.monotonic() < deadline, f"still {health}: {docker('logs', name).stderr}"
            time.sleep(1)
        user = docker("exec", name, "id", "-u").stdout.strip()
        assert user == "10001"
    finally:
        docker("stop", "--time", "45", name, check=False)  # it drains, removes its own
        docker("rm", "-f", name, check=False)
        left = docker("ps", "-aq", "--filter", f"label={LABEL_RUNNER_ID}={name}").stdout.split()
        if left:
            docker("rm", "-f", *left)
        assert left == [], f"containers left behind: {left}"


def test_without_the_socket_group_the_runner_says_so_and_exits_5(runner_image: str) -> None:
    name = f"test-image-{uuid.uuid4().hex[:8]}"
    runner_container(runner_image, name)
    try:
        code = json.loads(docker("wait", name).stdout or "null")
        log = docker("logs", name).stderr
    finally:
        docker("rm", "-f", name, check=False)
    assert code == 5, log
    assert "cannot reach the Docker engine" in log and "Permission denied" in log

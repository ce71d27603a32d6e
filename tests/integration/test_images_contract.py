"""Every image in task_images/ against schemas/: its catalog label, and every message it writes."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from runner.contracts import Contracts
from runner.core.catalog import TaskRoute, routes_from_label
from runner.core.protocol import encode_envelope
from runner.engine.docker_engine import DockerEngine
from runner.engine.interface import LABEL_RUNNER_ID, ContainerSpec
from tests.conftest import NODE_IMAGE, task_image_folders
from tests.integration.test_engine import collect

pytestmark = pytest.mark.integration

CONTRACTS = Contracts()


def sample_inputs(route: TaskRoute) -> dict[str, Any]:
    """A value for every input without a default: its first allowed value, else "1"."""
    return {
        p["name"]: (p.get("allowedValues") or ["1"])[0]
        for p in route.definition.get("inputs") or []
        if p.get("defaultValue") is None
    }


def routes_of(engine: DockerEngine, image: str) -> list[TaskRoute]:
    return routes_from_label(image, engine.image_labels(image), CONTRACTS.check_catalog)


@pytest.mark.parametrize("folder", task_image_folders())
def test_every_task_of_every_image_speaks_the_protocol(
    folder: str, engine: DockerEngine, task_images: list[str], runner_id: str
) -> None:
    image = f"xc-tasks/{folder}:latest"
    routes = routes_of(engine, image)
    assert routes, f"{image} declares no task"
    for route in routes:
        inputs = CONTRACTS.task_inputs(route, sample_inputs(route))
        container = engine.launch(ContainerSpec(image, {LABEL_RUNNER_ID: runner_id}))
        try:
            container.send(encode_envelope(route.namespace, route.name, "contract-1", inputs))
            stdout, stderr = collect(container, timeout_s=60)
            exit_code = container.wait(30).exit_code
        finally:
            container.remove()
        where = f"{image} {route.namespace}/{route.name}"
        messages = [json.loads(line) for line in stdout.decode().splitlines()]
        for message in messages:
            problem = CONTRACTS.check_message(message)
            assert problem is None, f"{where}: {problem}"
        terminal = [m for m in messages if m["type"] == "result" or m["status"] == "Error"]
        assert len(terminal) == 1 and terminal[0] is messages[-1], f"{where}: {messages}"
        if terminal[0]["type"] == "result":
            _, problem = CONTRACTS.task_outputs(route, terminal[0].get("outputs", {}))
            assert problem is None, f"{where}: {problem}"
        assert exit_code == 0, f"{where} exited {exit_code}: {stderr.decode()}"


def test_the_other_language_image_has_no_python(task_images: list[str]) -> None:
    found = subprocess.run(
        [
            "docker",
            "run",
            "--rm",
            "--network",
            "none",
            "--entrypoint",
            "sh",
            NODE_IMAGE,
            "-c",
            "ls /usr/bin /usr/local/bin /bin | grep -i python || echo none",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert found.stdout.strip() == "none"

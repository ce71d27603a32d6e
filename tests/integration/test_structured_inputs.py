"""Structured inputs end to end: an Object input and multi-value inputs given as JSON to
`xc-runner exec`, checked by the runner against the catalog, and read in a real container
by the Python SDK's typed accessors; what the catalog refuses never starts one."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator

import pytest

from runner.core.catalog import CATALOG_LABEL
from runner.engine.docker_engine import DockerEngine
from tests.conftest import REPO, build_image, remove_images, xc_runner
from tests.integration.geo_catalog import CATALOG

pytestmark = pytest.mark.integration

IMAGE = "xc-test/inputs-structured:latest"
TASKS = """
def trip(task):
    return {"seen": {"start": task.object("start"), "stops": task.objects("stops"),
                     "speeds": task.integers("speeds"), "tags": task.strings("tags")}}


def task_definitions():
    return [{"namespace": "geo", "name": "trip"}]
"""
DOCKERFILE = """ARG PYTHON_BASE=python:3.12-slim
FROM ${PYTHON_BASE}
WORKDIR /opt/task
COPY xc_task.py xc_task_inputs.py tasks.py ./
USER 65534:65534
ENTRYPOINT ["python3", "-m", "xc_task", "tasks"]
"""


@pytest.fixture(scope="module")
def image(engine: DockerEngine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("structured")
    for name in ("xc_task.py", "xc_task_inputs.py"):
        shutil.copy(REPO / "task_images" / "sdk" / "python" / name, folder / name)
    (folder / "tasks.py").write_text(TASKS)
    (folder / "Dockerfile").write_text(DOCKERFILE)
    build_image(folder, IMAGE, {CATALOG_LABEL: json.dumps(CATALOG)})
    yield IMAGE
    remove_images(IMAGE)


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return xc_runner("exec", IMAGE, "geo/trip", *argv, timeout_s=120)


def test_object_and_list_inputs_reach_the_task_typed(image: str) -> None:
    inputs = {
        "start": {"lat": 48.85, "lon": 2.35},
        "stops": [{"lat": 45.76, "lon": 4.84}, {}],
        "speeds": [90, " 130 ", "-7"],
    }
    done = run("--input-json", json.dumps(inputs))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"seen": {**inputs, "speeds": [90, 130, -7], "tags": []}}


@pytest.mark.parametrize(
    ("inputs", "says"),
    [
        (
            {"start": {}, "stops": [], "speeds": ["9223372036854775808"]},
            "input.speeds[0]: '9223372036854775808' is not a 64-bit integer (or its text)",
        ),
        (
            {"start": "Paris", "stops": [], "speeds": []},
            "input.start: 'Paris' is not a JSON object",
        ),
        ({"start": {}, "stops": [1], "speeds": []}, "input.stops[0]: 1 is not a JSON object"),
        ({"start": {}}, "input: missing 'stops', 'speeds'"),
    ],
)
def test_what_the_catalog_refuses_never_starts_a_container(
    image: str, inputs: dict[str, object], says: str
) -> None:
    done = run("--input-json", json.dumps(inputs))
    assert done.returncode == 2
    assert done.stderr.strip() == f"xc-runner exec: invalid inputs for geo/trip: {says}"

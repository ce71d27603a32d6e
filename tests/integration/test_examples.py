"""Every example every image in task_images/ declares, run through the runner's executor
on the real engine (tests/integration/examples_run.py), so the examples are known right."""

from __future__ import annotations

import pytest

from runner.docker_engine import DockerEngine
from tests.conftest import task_image_folders
from tests.integration.examples_run import run_examples

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("folder", task_image_folders())
def test_every_example_of_every_image(
    folder: str, engine: DockerEngine, task_images: list[str], runner_id: str
) -> None:
    failures = run_examples(engine, f"xc-tasks/{folder}:latest", runner_id)
    assert not failures, "\n".join(failures)

"""`new`'s templates for real: for each language, a folder scaffolded by runner.scaffold
builds with scripts/build_images.py (in a copy of task_images/ with its SDKs) and its
example passes when run through the runner's executor; the image is removed after."""

from __future__ import annotations

import contextlib
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from runner.docker_engine import DockerEngine
from runner.scaffold import LANGUAGES, scaffold
from scripts.build_images import build_image
from tests.conftest import REPO
from tests.integration.examples_run import run_examples

pytestmark = pytest.mark.integration


@pytest.fixture
def images_dir(tmp_path: Path) -> Path:
    """A task_images/ of its own: the SDKs, and nothing else yet."""
    folder = tmp_path / "task_images"
    shutil.copytree(REPO / "task_images" / "sdk", folder / "sdk")
    return folder


@pytest.fixture
def built() -> Iterator[list[str]]:
    """The tags built by the test, removed at the end."""
    tags: list[str] = []
    yield tags
    client = docker.from_env()
    try:
        for tag in tags:
            with contextlib.suppress(docker.errors.ImageNotFound):  # its build failed
                client.images.remove(tag, force=True)
    finally:
        client.close()


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_scaffolded_image_builds_and_passes_its_example(
    language: str,
    images_dir: Path,
    built: list[str],
    engine: DockerEngine,
    task_images: list[str],
    runner_id: str,
) -> None:
    name = f"scaffold-{language}-{uuid.uuid4().hex[:8]}"
    written = scaffold(language, name, images_dir)
    assert (images_dir / name / "Dockerfile") in written
    tag = f"xc-tasks/{name}:latest"
    built.append(tag)
    assert build_image(name, images_dir) == tag
    failures = run_examples(engine, tag, runner_id)
    assert not failures, "\n".join(failures)

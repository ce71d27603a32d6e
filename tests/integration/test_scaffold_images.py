"""`xc-runner new` for real: for each language, the folder it creates builds with
scripts/build_images.py (in a copy of task_images/ with its SDKs), passes `xc-runner
check` and runs with `xc-runner exec`, with no edits; the image is removed after."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from runner.cli.scaffold import LANGUAGES
from scripts.build_images import build_image
from tests.conftest import REPO, remove_images, xc_runner
from tests.integration.test_check import table_row, xc_check

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
    remove_images(*tags, force=True)  # one whose build failed is not there: skipped

@pytest.mark.parametrize("language", LANGUAGES)
def test_new_then_build_check_and_exec_with_no_edits(
    language: str, images_dir: Path, built: list[str], task_images: list[str]
) -> None:
    name = f"scaffold-{language}-{uuid.uuid4().hex[:8]}"
    created = xc_runner("new", language, name, "--dir", str(images_dir))
    assert created.returncode == 0, created.stderr
    assert (images_dir / name / "Dockerfile").is_file()
    assert f"xc-runner check xc-tasks/{name}:latest" in created.stdout
    tag = f"xc-tasks/{name}:latest"
    built.append(tag)
    assert build_image(name, images_dir) == tag
    checked = xc_check(tag)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert table_row(checked.stdout, tag)[2:] == ["1/1 passed", "passed"], checked.stdout
    ran = xc_runner("exec", tag, f"{name}/hello", "who=you", "times=2")
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout) == {"greeting": "Hello, you! Hello, you!"}


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["new", "cobol", "x"], "unknown language 'cobol': the known languages are go, node"),
        (["new", "go", "My Task"], "'My Task' is not a plain image name"),
        (["new", "go", "sample"], "already exists: nothing was changed"),
    ],
)
def test_new_refuses_bad_input_with_exit_2(argv: list[str], says: str) -> None:
    done = xc_runner(*argv)
    assert done.returncode == 2, done.stderr
    assert says in done.stderr
    assert "Traceback" not in done.stderr

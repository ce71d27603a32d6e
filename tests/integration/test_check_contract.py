"""Every image of task_images/ passes `xc-runner check`: its catalog label is valid, and each
example it declares (task_images/<folder>/examples.json, in its xc-scenario.examples label)
ends as it expects, with stdout that keeps the protocol. A folder added later is checked too."""

from __future__ import annotations

import json

import pytest

from tests.conftest import REPO, task_image_folders
from tests.integration.test_check import table_row, xc_check

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("folder", task_image_folders())
def test_every_image_of_task_images_passes_check(folder: str, task_images: list[str]) -> None:
    image = f"xc-tasks/{folder}:latest"
    done = xc_check(image)
    assert done.returncode == 0, done.stdout + done.stderr
    assert table_row(done.stdout, image)[-1] == "passed"
    examples = REPO / "task_images" / folder / "examples.json"
    if examples.is_file():
        count = len(json.loads(examples.read_text()))
        assert table_row(done.stdout, image)[2] == f"{count}/{count} passed", done.stdout

"""A fresh worktree is told which set-up step its integration tests wait for, instead of
skipping them silently."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import scripts.build_images
from tests.conftest import REPO, missing_set_up, user_environment


def test_a_missing_base_images_file_names_the_make_target(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(scripts.build_images, "BASE_ENV_FILE", tmp_path / "absent.env")
    for name in scripts.build_images.BASE_ARGS:
        monkeypatch.delenv(name, raising=False)
    said = missing_set_up()
    assert said is not None
    assert "build/base-images.env is missing" in said and "`make base-images`" in said
    monkeypatch.setenv("PYTHON_BASE", "python:3.12-slim")
    monkeypatch.setenv("DEBIAN_BASE", "debian:bookworm-slim")
    assert missing_set_up() is None


def test_the_summary_says_why_tests_were_skipped(tmp_path: Path) -> None:
    test = tmp_path / "test_waits.py"
    test.write_text(
        "from tests.conftest import unavailable\n"
        "def test_one():\n    unavailable('build/base-images.env is missing: run make it')\n"
        "def test_two():\n    unavailable('build/base-images.env is missing: run make it')\n"
    )
    pytest_args = ["-q", "-p", "no:cacheprovider", "-p", "tests.conftest", "--rootdir", str(REPO)]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *pytest_args, str(test)],
        cwd=REPO,
        env=user_environment({"CI": ""}),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "skipped, and why" in done.stdout, done.stdout
    assert "    2  build/base-images.env is missing: run make it" in done.stdout, done.stdout

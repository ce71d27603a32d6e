"""`xc-runner build --jobs N`: N folders at once, each failure said as soon as it comes,
the others going on; and `python -m scripts.build_images`, which hands the sample images
to it. The builds are fakes; the order is what is checked."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from runner.app.building import BuildFailed, Built
from runner.cli import build
from runner.core.errors import EngineError
from scripts import build_images


def _build_all(plans: list[str], jobs: int) -> list[Any]:
    """runner.cli.build._build_all over plans that are names, with no engine: the names of
    those built."""
    done = build._build_all(None, plans, jobs, cache=True)  # type: ignore[arg-type]
    return [each.plan for each in done]


def _built(plan: str) -> Built:
    return Built(plan, 0, 0.0)  # type: ignore[arg-type]


def test_the_folders_are_built_jobs_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    lock = threading.Lock()
    running, most = 0, 0

    def built(engine: Any, plan: str, cache: bool) -> Built:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.1)
        with lock:
            running -= 1
        return _built(plan)

    monkeypatch.setattr(build, "_build_one", built)
    assert sorted(_build_all(["a", "b", "c", "d", "e"], 2)) == ["a", "b", "c", "d", "e"]
    assert most == 2


def test_a_failure_is_said_at_once_and_the_others_go_on(monkeypatch: pytest.MonkeyPatch) -> None:
    said: list[str] = []

    def built(engine: Any, plan: str, cache: bool) -> Built:
        if plan == "broken":
            raise BuildFailed(["broken: the build failed: the reason", "  the last line"])
        time.sleep(1)
        said.append("slow built")
        return _built(plan)

    monkeypatch.setattr(build, "_build_one", built)
    monkeypatch.setattr(build, "say", lambda line, stream=None: said.append(line))
    assert _build_all(["slow", "broken"], 2) == ["slow"]
    assert said == ["broken: the build failed: the reason", "  the last line", "slow built"]


def test_an_engine_error_ends_the_command(monkeypatch: pytest.MonkeyPatch) -> None:
    def built(engine: Any, plan: str, cache: bool) -> Built:
        raise EngineError("cannot build x: the engine went away")

    monkeypatch.setattr(build, "_build_one", built)
    with pytest.raises(EngineError, match="went away"):
        _build_all(["x"], 1)


def test_the_sample_images_go_to_xc_runner_build_with_their_context_and_bases(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    given: list[list[str]] = []
    monkeypatch.setattr(build_images, "xc_runner", lambda argv: given.append(argv) or 0)
    monkeypatch.setattr(build_images, "BASE_ENV_FILE", tmp_path / "absent.env")
    monkeypatch.setenv("PYTHON_BASE", "py:1")
    monkeypatch.delenv("DEBIAN_BASE", raising=False)
    assert build_images.main(["--jobs", "3", "sample"]) == 0
    images = str(build_images.IMAGES_DIR)
    sample = str(build_images.IMAGES_DIR / "sample")
    bases = "--build-arg=PYTHON_BASE=py:1"
    assert given == [["build", "--context", images, "--jobs", "3", bases, sample]]


def test_jobs_below_one_is_a_bad_command_line() -> None:
    with pytest.raises(SystemExit) as exited:
        build_images.main(["--jobs", "0", "sample"])
    assert exited.value.code == 2

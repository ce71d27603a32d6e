"""`python -m scripts.build_images --jobs N`: N folders at once, the first failure said at
once (the builds under way are abandoned). The builds are fakes; the order is what is
checked."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from scripts import build_images


def test_the_folders_are_built_jobs_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    lock = threading.Lock()
    running, most = 0, 0

    def built(folder: str) -> str:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.1)
        with lock:
            running -= 1
        return f"built xc-tasks/{folder}:latest in 0.1 s"

    monkeypatch.setattr(build_images, "_built", built)
    assert build_images.build_all(["a", "b", "c", "d", "e"], jobs=2) == 0
    assert most == 2


def test_the_first_failure_ends_the_command_without_waiting_for_the_others(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def built(folder: str) -> str:
        if folder == "slow":
            time.sleep(30)
        return f"{folder}: docker build failed: the reason"

    monkeypatch.setattr(build_images, "_built", built)
    started = time.monotonic()
    with caplog.at_level(logging.ERROR):
        assert build_images.build_all(["slow", "broken"], jobs=2) == 1
    assert time.monotonic() - started < 5
    assert "broken: docker build failed: the reason" in caplog.text


def test_jobs_below_one_is_refused(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR):
        assert build_images.main(["--jobs", "0", "sample"]) == 2
    assert "--jobs must be 1 or more, not 0" in caplog.text

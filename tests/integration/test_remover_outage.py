"""Containers the engine will not remove, through a socket that refuses their removal: the log
says so once when it starts and once when every one is gone, not at every try."""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import Iterator

import docker
import pytest

from runner.engine.docker_engine import DockerEngine
from runner.engine.interface import LABEL_RUNNER_ID
from tests.conftest import SAMPLE_IMAGE
from tests.integration.engine_faults import FaultyEngine

pytestmark = pytest.mark.integration

ORPHANS = 3
REMOVAL = r"^/containers/[0-9a-f]+$"
OUTAGE_S = 6.0  # the runner pings the engine (and tries removals again) every second


@pytest.fixture
def refusing(
    engine: DockerEngine, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[FaultyEngine, DockerEngine]]:
    """A runner's engine client behind a socket that can refuse requests."""
    with FaultyEngine() as proxy:
        monkeypatch.setenv("DOCKER_HOST", proxy.url)
        faulty = DockerEngine()
        try:
            yield proxy, faulty
        finally:
            faulty.close()


def test_refused_removals_are_logged_when_they_start_and_end_not_at_every_try(
    refusing: tuple[FaultyEngine, DockerEngine],
    caplog: pytest.LogCaptureFixture,
) -> None:
    proxy, engine = refusing
    runner_id = f"xc-test-orphans-{uuid.uuid4().hex[:8]}"
    api = docker.from_env().api
    created = [
        api.create_container(SAMPLE_IMAGE, labels={LABEL_RUNNER_ID: runner_id})["Id"]
        for _ in range(ORPHANS)
    ]
    caplog.set_level(logging.INFO, logger="runner.engine")
    try:
        proxy.fail("DELETE", REMOVAL, message="removal of container x is already in progress")
        for container_id in created:
            engine.remove_container(container_id)
        deadline = time.monotonic() + OUTAGE_S
        while time.monotonic() < deadline:
            engine.ping()  # as the runner's pinger does: the removals are tried again
            time.sleep(0.2)
        tries_refused = proxy.count("DELETE", REMOVAL, "failed")
        proxy.heal()
        deadline = time.monotonic() + 10
        while api.containers(all=True, filters={"label": f"{LABEL_RUNNER_ID}={runner_id}"}):
            assert time.monotonic() < deadline, "the refused containers were never removed"
            engine.ping()
            time.sleep(0.2)
    finally:
        for container_id in created:
            with contextlib.suppress(docker.errors.NotFound):
                api.remove_container(container_id, force=True)
        api.close()
    lines = [r for r in caplog.records if "remove" in r.getMessage()]
    print(f"{tries_refused} removals refused in {OUTAGE_S:g} s; {len(lines)} log lines:")
    for record in lines:
        print(f"  {record.levelname} {record.getMessage()}")
    assert tries_refused >= 2 * ORPHANS  # they were tried again, and refused again
    warnings = [r for r in lines if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    assert "cannot remove containers: container" in warnings[0].getMessage()
    ended = [r for r in lines if r.levelno == logging.INFO]
    assert len(ended) == 1
    assert f"({tries_refused} failure(s))" in ended[0].getMessage()

"""Shared fixtures: a real Docker engine, real task images, real HTTP servers on loopback.

Integration tests skip when no engine answers on a developer's machine, but fail
under CI=true, where the engine and images must be there.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker
import hypothesis
import pytest

from runner.core.catalog import CATALOG_LABEL
from runner.core.errors import ConfigError, EngineError
from runner.core.examples import EXAMPLES_LABEL
from runner.engine.docker_engine import DockerEngine
from runner.engine.interface import LABEL_POOL, LABEL_RUNNER_ID
from scripts.build_images import BASE_ARGS, BASE_ENV_FILE, base_build_args
from scripts.build_runner_image import main as build_runner_image

# Property tests (Hypothesis) explore new examples on a developer's machine, and keep
# those that failed in .hypothesis/; under CI they draw the same examples every run, so that
# a submission does not fail on an example no change of its own brought.
hypothesis.settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
    hypothesis.settings.load_profile("ci")

# testcontainers' reaper image cannot be pulled where no registry answers;
# fixtures remove what they create instead. Set before testcontainers is imported.
os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")

REPO = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
SAMPLE_IMAGE = "xc-tasks/sample:latest"
NODE_IMAGE = "xc-tasks/textstats-node:latest"
GO_IMAGE = "xc-tasks/numbers-go:latest"
SH_IMAGE = "xc-tasks/greet-sh:latest"


def task_image_folders() -> list[str]:
    return sorted(p.parent.name for p in (REPO / "task_images").glob("*/Dockerfile"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    """Wait for `condition`, looking every 20 ms; fails after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout_s} s"
        time.sleep(0.02)


def unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (integration tests must run under CI=true)")
    pytest.skip(reason)


def missing_set_up() -> str | None:
    """The set-up step a fresh worktree lacks for building test images, or None."""
    if set(base_build_args()) < set(BASE_ARGS):
        return (
            f"{BASE_ENV_FILE.relative_to(REPO)} is missing (the base images to build on): "
            "run `make base-images` (or `make images`) first"
        )
    return None


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Why tests were skipped, each reason once with its count, even without -rs: a
    fresh worktree learns which set-up step its integration tests wait for."""
    reasons: dict[str, int] = {}
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = getattr(report, "longrepr", None)
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        reason = reason.removeprefix("Skipped: ")
        reasons[reason] = reasons.get(reason, 0) + 1
    if reasons:
        terminalreporter.section("skipped, and why")
        for reason, count in sorted(reasons.items(), key=lambda item: -item[1]):
            terminalreporter.write_line(f"{count:5d}  {reason}")


@pytest.fixture(scope="session")
def engine() -> Iterator[DockerEngine]:
    try:
        docker_engine = DockerEngine()
    except EngineError as exc:
        unavailable(f"no Docker engine: {exc}")
    yield docker_engine
    docker_engine.close()


@pytest.fixture(scope="session")
def task_images(engine: DockerEngine) -> list[str]:
    """Every image built from task_images/ (`make images`)."""
    images = [f"xc-tasks/{folder}:latest" for folder in task_image_folders()]
    for image in images:
        try:
            engine.image_labels(image)
        except ConfigError:
            unavailable(f"task image {image} is not built (run `make images`)")
    return images


@pytest.fixture
def runner_id(engine: DockerEngine) -> Iterator[str]:
    """A runner id of its own for each test; its containers must all be gone at the end."""
    rid = f"test-{uuid.uuid4().hex[:10]}"
    yield rid
    left = engine.remove_labelled({LABEL_RUNNER_ID: rid})
    assert left == [], f"containers left behind by runner {rid}: {left}"


def runner_containers(
    runner_id: str, *, running: bool = False, warm: bool = False
) -> list[dict[str, Any]]:
    """The engine's list entries of a runner id's containers, as `docker ps -a` sees them
    (`warm`: only those created for its warm pool).

    The low-level list: the high-level one inspects each container, and fails on
    one removed meanwhile.
    """
    labels = [f"{LABEL_RUNNER_ID}={runner_id}", *([LABEL_POOL] if warm else [])]
    filters: dict[str, Any] = {"label": labels}
    if running:
        filters["status"] = "running"
    client = docker.from_env()
    try:
        found: list[dict[str, Any]] = client.api.containers(all=True, filters=filters)
        return found
    finally:
        client.close()


RUNSC = "runsc"
PROBE_IMAGE = "xc-test/probe:latest"
HOSTILE_IMAGE = "xc-test/hostile:latest"
USAGE_IMAGE = "xc-test/cost-usage:latest"


def build_test_image(folder_name: str, tag: str, variant: str | None = None) -> str:
    """tests/images/<folder_name>, built FROM the local bases and labelled with its catalog,
    and its examples when it has an examples.json. A variant (a folder inside it) gives its
    own examples.json, and its own catalog.json if it has one."""
    folder = REPO / "tests" / "images" / folder_name
    build_image(folder, tag, _test_image_labels(folder, folder / variant if variant else folder))
    return tag


def build_image(
    folder: Path, tag: str, labels: dict[str, str], buildargs: dict[str, str] | None = None
) -> str:
    """A test image built from `folder`, FROM the local bases, with these labels; its ID.
    It cannot be built: the test is unavailable (skipped, or failed under CI=true)."""
    setup = missing_set_up()
    if setup is not None:
        unavailable(f"cannot build {tag}: {setup}")
    client = docker.from_env()
    try:
        image, _ = client.images.build(
            path=str(folder),
            tag=tag,
            buildargs={**base_build_args(), **(buildargs or {})},
            labels=labels,
            rm=True,
            forcerm=True,
        )
    except docker.errors.DockerException as exc:
        unavailable(f"cannot build {tag}: {exc}")
    finally:
        client.close()
    return str(image.id)


def remove_images(*references: str, force: bool = False) -> None:
    """Remove these images (names or IDs) the tests made, skipping those already gone; an
    image left with no name goes with its last one. `force`: even one that a stopped
    container uses, or (given by ID) one with several names."""
    client = docker.from_env()
    try:
        for reference in references:
            with contextlib.suppress(docker.errors.NotFound):
                client.images.remove(reference, force=force)
    finally:
        client.close()


def user_environment(env: dict[str, str] | None = None) -> dict[str, str]:
    """This environment without its runner or engine settings (XC_*, DOCKER_*), and `env`."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("XC_", "DOCKER_"))}
    return {**environ, **(env or {})}


def xc_runner(
    *argv: str,
    env: dict[str, str] | None = None,
    stdin: str | None = None,
    timeout_s: float = 300,
    cwd: Path = REPO,
) -> subprocess.CompletedProcess[str]:
    """`python -m runner ARGV` as a user runs it, in the repository (or `cwd`), with none of
    this environment's runner or engine settings (but those in `env`); `stdin` its input."""
    return run_as_user([sys.executable, "-m", "runner", *argv], cwd, env, stdin, timeout_s)


def run_as_user(
    argv: list[str],
    cwd: Path,
    env: dict[str, str] | None = None,
    stdin: str | None = None,
    timeout_s: float = 300,
) -> subprocess.CompletedProcess[str]:
    """A command run in `cwd` with the user's environment (`user_environment(env)`)."""
    return subprocess.run(
        argv,
        cwd=cwd,
        env=user_environment(env),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )


def _test_image_labels(folder: Path, variant: Path) -> dict[str, str]:
    catalog = variant / "catalog.json"
    labels = {CATALOG_LABEL: _compact(catalog if catalog.is_file() else folder / "catalog.json")}
    if (variant / "examples.json").is_file():
        labels[EXAMPLES_LABEL] = _compact(variant / "examples.json")
    return labels


def _compact(path: Path) -> str:
    return json.dumps(json.loads(path.read_text()), ensure_ascii=False, separators=(",", ":"))


@pytest.fixture(scope="session")
def probe_image(engine: DockerEngine) -> str:
    """tests/images/probe, built with its catalog label: one task per behaviour to test."""
    return build_test_image("probe", PROBE_IMAGE)


@pytest.fixture(scope="session")
def usage_image(engine: DockerEngine) -> str:
    """tests/images/usage: tasks that use a known amount of CPU and memory, or too much."""
    return build_test_image("usage", USAGE_IMAGE)


@pytest.fixture(scope="session")
def hostile_image(engine: DockerEngine) -> str:
    """tests/images/hostile: one task per way a task can misbehave or try to break out."""
    return build_test_image("hostile", HOSTILE_IMAGE)


@pytest.fixture(scope="session")
def gvisor(engine: DockerEngine) -> str:
    """gVisor's runtime name, once the engine is known to offer it (`make gvisor`)."""
    client = docker.from_env()
    try:
        runtimes = client.info().get("Runtimes") or {}
    finally:
        client.close()
    if RUNSC not in runtimes:
        unavailable(
            f"the Docker engine has no {RUNSC} runtime (has: {', '.join(sorted(runtimes))}); "
            "set it up with `make gvisor` (root)"
        )
    return RUNSC


@pytest.fixture(scope="session")
def runner_image(engine: DockerEngine) -> str:
    """The runner's own image (`make runner-image`), built once per session."""
    setup = missing_set_up()
    if setup is not None:
        unavailable(f"cannot build the runner's image: {setup}")
    build_runner_image([])
    return "xc-scenario-runner:latest"

"""Task images from a real registry (tests/integration/registry_support.py): pulled at
start-up, followed by digest with `--pull always`, refused credentials, a registry that
goes away after start-up. The runner is its own process, against the local server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from runner.localserver import LocalServer
from runner.localserver.client import LocalClient
from tests.conftest import free_port, remove_images, runner_containers
from tests.integration.processes import (
    RunnerProcess,
    ended,
    runner_process,
    wait_for,
    warm_ready,
)
from tests.integration.registry_support import (
    PASSWORD,
    USER,
    Registry,
    build_task_image,
    image_id,
    push,
    write_docker_config,
)

pytestmark = pytest.mark.integration

KEY = "registry-test-key"


@pytest.fixture(scope="module")
def registry(engine: Any) -> Iterator[Registry]:
    """One registry for the module (pushing the base layers once); images of its own."""
    reg = Registry()
    try:
        reg.start()
        yield reg
    finally:
        reg.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalServer]:
    with LocalServer(tmp_path / "scenario.db", port=0, api_key=KEY) as local:
        yield local


def pushed(registry: Registry, name: str, build: str = "1") -> tuple[str, str]:
    """The task image built and pushed as 127.0.0.1:PORT/xc-test/NAME:TAG: (tag, digest)."""
    tag = f"{registry.host}/xc-test/{name}:{uuid.uuid4().hex[:8]}"
    build_task_image(tag, build)
    return tag, push(tag)


def run_task(client: LocalClient, runner: RunnerProcess, task: str, **inputs: str) -> Any:
    """Submit, wait for the end; the terminal status."""
    instance_id = client.submit("registry", task, inputs)["id"]
    wait_for(lambda: ended(client, instance_id), 90, f"{task} to end", runner)
    return client.instance(instance_id)["statuses"][-1]


def built(status: dict[str, Any]) -> str:
    assert status["status"] == "Completed", status
    return str(status["outputValues"]["build"])


def served(port: int) -> list[dict[str, Any]]:
    reply = requests.get(f"http://127.0.0.1:{port}/status", timeout=10)
    images: list[dict[str, Any]] = reply.json()["servedImages"]
    return images


def test_an_image_the_engine_lacks_is_pulled_at_start_up_and_served_by_digest(
    registry: Registry, server: LocalServer, runner_id: str
) -> None:
    tag, digest = pushed(registry, "pulled")
    remove_images(tag)
    assert image_id(tag) is None
    port = free_port()
    env = {"DOCKER_CONFIG": str(registry.docker_config), "XC_RUNNER_POOL_SIZE": "1"}
    args = ("--http-addr", f"127.0.0.1:{port}")
    with runner_process(server.url, KEY, [tag], runner_id, *args, env=env) as runner:
        client = LocalClient(server.url, KEY)
        assert built(run_task(client, runner, "build")) == "1"
        assert served(port) == [{"image": tag, "imageId": image_id(tag), "digest": digest}]
        assert runner.stop() == 0, runner.log()
        log = runner.log()
    assert f"pulling image {tag} from {registry.host}" in log
    assert f"pulled {tag} (digest {digest})" in log
    assert f"serving image {tag}: image ID {image_id(tag)}, digest {digest}" in log
    assert PASSWORD not in log


def test_with_always_a_new_build_under_the_same_tag_is_used_by_the_next_tasks(
    registry: Registry, server: LocalServer, runner_id: str
) -> None:
    tag, first = pushed(registry, "moving")
    old_id = image_id(tag)
    port = free_port()
    env = {
        "DOCKER_CONFIG": str(registry.docker_config),
        "XC_RUNNER_POOL_SIZE": "1",
        "XC_RUNNER_CONCURRENCY": "2",
    }
    args = ("--pull", "always", "--pull-interval-s", "1", "--http-addr", f"127.0.0.1:{port}")
    client = LocalClient(server.url, KEY)
    with runner_process(server.url, KEY, [tag], runner_id, *args, env=env) as runner:
        wait_for(warm_ready(runner_id, 1), 120, "the warm pool to fill", runner)
        assert served(port)[0]["digest"] == first
        slow = client.submit("registry", "build", {"seconds": "15"})["id"]
        wait_for(lambda: client.instance(slow)["state"] == "Taken", 60, "the slow task", runner)
        # The second build, pushed under the registry's other name: the engine's tag stays.
        second_name = tag.replace(registry.host, registry.alias)
        build_task_image(second_name, "2")
        second = push(second_name)
        wait_for(lambda: served(port)[0]["digest"] == second, 60, "the new build", runner)
        assert client.instance(slow)["state"] == "Taken", "the slow task ended before the pull"
        assert built(run_task(client, runner, "build")) == "2"
        wait_for(lambda: ended(client, slow), 60, "the slow task to end", runner)
        assert built(client.instance(slow)["statuses"][-1]) == "1", "the running task moved"
        wait_for(
            lambda: not [c for c in runner_containers(runner_id) if c["ImageID"] == old_id],
            30,
            "the old build's warm containers to go",
            runner,
        )
        assert runner.stop() == 0, runner.log()
        log = runner.log()
    assert f"image {tag}: its registry has a new build, digest {second}: pulling it" in log
    assert f"serving image {tag}: image ID {image_id(tag)}, digest {second}" in log


@pytest.mark.parametrize("credentials", ["none", "wrong"])
def test_credentials_the_registry_refuses_stop_the_start_up_with_exit_3(
    registry: Registry, runner_id: str, tmp_path: Path, credentials: str
) -> None:
    tag, _ = pushed(registry, "guarded")
    remove_images(tag)
    config = tmp_path / "docker-config"
    wrong = "not-the-" + PASSWORD
    if credentials == "wrong":
        write_docker_config(config, [registry.host], USER, wrong)
    env = {"DOCKER_CONFIG": str(config)}
    with runner_process("http://127.0.0.1:9", KEY, [tag], runner_id, env=env) as runner:
        code = runner.proc.wait(120)
        log = runner.log()
    assert code == 3, log
    assert f"registry {registry.host} refused to serve image {tag}" in log
    assert f"docker login {registry.host}" in log
    assert "Traceback" not in log
    assert PASSWORD not in log and wrong not in log


def test_a_registry_gone_after_start_up_is_said_once_and_tasks_keep_running(
    registry: Registry, server: LocalServer, runner_id: str
) -> None:
    tag, digest = pushed(registry, "outage")
    env = {
        "DOCKER_CONFIG": str(registry.docker_config),
        "XC_RUNNER_POOL_SIZE": "1",
        "XC_RUNNER_LOG_LEVEL": "DEBUG",
    }
    args = ("--pull", "always", "--pull-interval-s", "1")
    client = LocalClient(server.url, KEY)
    try:
        with runner_process(server.url, KEY, [tag], runner_id, *args, env=env) as runner:
            assert built(run_task(client, runner, "build")) == "1"
            registry.stop()
            said = f"image {tag}: cannot check its registry for a new build"
            wait_for(lambda: said in runner.log(), 30, "the registry's absence said", runner)
            assert [built(run_task(client, runner, "build")) for _ in range(3)] == ["1"] * 3
            quiet = f"image {tag}: its registry still cannot be asked"
            wait_for(lambda: runner.log().count(quiet) >= 2, 30, "more failed checks", runner)
            assert runner.log().count(said) == 1, runner.log()
            registry.start()
            again = f"image {tag}: its registry answers again"
            wait_for(lambda: again in runner.log(), 60, "the registry back", runner)
            assert runner.stop() == 0, runner.log()
            log = runner.log()
    finally:
        if registry_down(registry):  # for the module's other tests
            registry.start()
    assert f"keep running on image ID {image_id(tag)[:19]}, digest {digest}" in log
    assert PASSWORD not in log


def registry_down(registry: Registry) -> bool:
    try:
        requests.get(f"http://{registry.host}/v2/", timeout=2)
    except requests.ConnectionError:
        return True
    return False


@pytest.mark.parametrize("policy", ["missing", "always"])
def test_an_image_gone_from_the_engine_is_pulled_again_and_no_task_fails_meanwhile(
    policy: str, registry: Registry, server: LocalServer, runner_id: str
) -> None:
    tag, digest = pushed(registry, f"gone-{policy}")
    env = {"DOCKER_CONFIG": str(registry.docker_config), "XC_RUNNER_POOL_SIZE": "1"}
    args = ("--pull", policy, "--pull-interval-s", "3600")  # not the periodic check's doing
    client = LocalClient(server.url, KEY)
    with runner_process(server.url, KEY, [tag], runner_id, *args, env=env) as runner:
        assert built(run_task(client, runner, "build")) == "1"
        remove_images(tag, force=True)  # an image prune, a clean-up job
        assert image_id(tag) is None
        assert built(run_task(client, runner, "build")) == "1"  # waited, not failed
        assert runner.stop() == 0, runner.log()
        log = runner.log()
    assert f"image {tag} is gone from the engine: pulling it again" in log
    assert f"pulled {tag} (digest {digest})" in log
    assert f"image {tag} can be launched again after" in log
    assert " Error in " not in log

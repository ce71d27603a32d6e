"""The stack (deploy/swarm/stack.yaml) on a single-node swarm: 3 runner replicas and
the local server, under load, through a rolling update, and removed by make swarm-down.

The swarm is made by the tests when the engine is in none, and left again at the end.
The tests run in this order: the last one removes the stack.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator

import pytest

from runner.engine.docker_engine import DockerEngine
from runner.localserver.client import LocalClient
from scripts.swarm_cluster import SwarmError, docker, ensure_swarm, leave_swarm, lines, wait_until
from scripts.swarm_stack import (
    STACK_LABEL,
    Stack,
    deploy,
    remove,
    service_logs,
    task_containers,
    wait_ready,
)
from tests.conftest import REPO, free_port, unavailable
from tests.integration.swarm_support import (
    ContainerCreates,
    check_all,
    runner_logs,
    running,
    sample_mix,
    submit,
    task_runs,
    wait_terminal,
)

# Deploying the stack counts in the first test's time; 2 shared cores can be slow.
pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

REPLICAS = 3


@pytest.fixture(scope="module")
def swarm(engine: DockerEngine) -> Iterator[None]:
    try:
        created = ensure_swarm()
    except SwarmError as exc:
        unavailable(f"cannot make a swarm: {exc}")
    try:
        yield
    finally:
        leave_swarm(created)


@pytest.fixture(scope="module")
def stack(
    swarm: None, task_images: list[str], runner_image: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    key_file = tmp_path_factory.mktemp("swarm") / "apikey"
    key_file.write_text(uuid.uuid4().hex)
    deployed = Stack(
        name=f"xct{uuid.uuid4().hex[:8]}",
        port=free_port(),
        key_file=key_file,
        replicas=REPLICAS,
        concurrency=3,
        drain_timeout_s=20,
        runner_image=runner_image,
    )
    try:
        deploy(deployed)
        wait_ready(deployed)
        yield deployed
    finally:
        remove(deployed, volumes=True)


@pytest.fixture
def client(stack: Stack) -> LocalClient:
    return LocalClient(stack.server_url, stack.api_key())


def finished(stack: Stack) -> bool:
    """Whether every container that ran a task is gone (the runners remove each after its
    terminal status); the warm ones, waiting for a task, stay while their runner runs."""
    ran = {container for _, container in task_runs(runner_logs(stack.runner_service))}
    return not ran & {c[:12] for c in task_containers(stack)}


def test_150_sample_tasks_each_run_once_spread_over_the_replicas(
    stack: Stack, client: LocalClient
) -> None:
    with ContainerCreates(stack.runner_id_prefix) as creates:
        jobs = submit(client, sample_mix(150, sleep_s=1))
        wait_terminal(client, jobs, timeout_s=300)
        # The runners remove a container after its terminal status: wait for that,
        # so that a second run of anything would have shown by now.
        wait_until(lambda: finished(stack), 60, "the task containers to go")
        logs = runner_logs(stack.runner_service)
        endings, per_runner = check_all(client, jobs, creates, logs)
    print(f"\ncontainers per runner id: {dict(sorted(per_runner.items()))}")
    assert endings == {"ran": 150}
    assert sum(per_runner.values()) == 150
    assert len(per_runner) > 1, f"all the work went to one replica: {per_runner}"
    assert all(r.startswith(stack.runner_id_prefix) for r in per_runner)


def test_a_forced_rolling_update_drains_the_running_tasks(
    stack: Stack, client: LocalClient
) -> None:
    old_runners = wait_ready(stack)
    with ContainerCreates(stack.runner_id_prefix) as creates:
        jobs = submit(
            client, sample_mix(60, kinds=("reporting_task", "simple", "double"), sleep_s=3)
        )
        wait_until(
            lambda: len(running(client, jobs, "reporting_task")) >= 3, 60, "reporting tasks to run"
        )
        docker(
            "service", "update", "--force", "--detach=false", "--quiet", stack.runner_service,
            timeout_s=300,
        )  # fmt: skip
        new_runners = wait_ready(stack)
        wait_terminal(client, jobs, timeout_s=300)
        wait_until(lambda: finished(stack), 60, "the task containers to go")
        logs = runner_logs(stack.runner_service)
        endings, per_runner = check_all(client, jobs, creates, logs)
    print(
        f"\nendings {dict(endings)}; containers per runner id: {dict(sorted(per_runner.items()))}"
    )
    assert not set(old_runners) & set(new_runners), "every runner task was replaced"
    assert sorted(old_runners.values()) == sorted(new_runners.values()), "ids follow the slots"
    assert sum(endings.values()) == 60
    old_logs = {task: service_logs(task) for task in old_runners}
    for task, runner_id in old_runners.items():
        assert f"runner {runner_id} stopped" in old_logs[task], old_logs[task]
    drained = [t for t, text in old_logs.items() if "stopping: waiting up to" in text]
    assert drained, "no runner was running tasks when it was stopped"


def test_make_swarm_down_leaves_no_stack_service_or_task_container(
    stack: Stack, client: LocalClient
) -> None:
    jobs = submit(client, sample_mix(6, kinds=("reporting_task",), sleep_s=3))
    wait_until(lambda: bool(running(client, jobs, "reporting_task")), 60, "tasks to run")
    done = subprocess.run(
        ["make", "--no-print-directory", "swarm-down", f"SWARM_STACK={stack.name}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert f"stack {stack.name} removed; 0 task container(s) left by its runners" in output
    assert stack.name not in docker("stack", "ls", "--format", "{{.Name}}").split()
    label = f"label={STACK_LABEL}={stack.name}"
    assert lines(docker("service", "ls", "-q", "--filter", label)) == []
    assert lines(docker("ps", "-aq", "--filter", label)) == []
    assert task_containers(stack) == []


def test_the_stack_files_are_what_docker_stack_deploy_reads() -> None:
    for files in (["stack.yaml"], ["stack.yaml", "replicated.yaml"]):
        args = [a for name in files for a in ("-c", str(REPO / "deploy" / "swarm" / name))]
        config = docker(
            "stack",
            "config",
            *args,
            env={**os.environ, "XC_SWARM_APIKEY_FILE": "/dev/null", "DOCKER_GID": "999"},
        )
        assert "stop_grace_period: 45s" in config
        assert "user: 10001:999" in config  # the runner joins the socket's group
        assert ("mode: replicated" in config) == ("replicated.yaml" in files)

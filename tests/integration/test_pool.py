"""The warm pool through the whole runner: real engine, real images, the local server.

Each test starts the runner, waits until its warm containers run, then submits:
so the tasks are handed warm containers, and the log says so.
"""

from __future__ import annotations

import io
import json
import signal
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest
import requests

from runner.core.catalog import CATALOG_LABEL
from runner.engine.interface import LABEL_INSTANCE_ID, LABEL_POOL, LABEL_RUNNER_ID
from runner.localserver import LocalServer
from runner.localserver.client import LocalClient
from tests.conftest import REPO, SAMPLE_IMAGE, remove_images, runner_containers
from tests.integration.processes import (
    RunnerProcess,
    brief,
    ended,
    runner_process,
    task_starts,
    wait_for,
    warm_ready,
)

pytestmark = pytest.mark.integration

KEY = "pool-key"
SAMPLES = {
    "simple": ("simple", {"arg": "warm"}),
    "double": ("double", {"str_in": "ab", "nbr_in": "21"}),
    "reporting": ("reporting_task", {"n": "1", "param": "warm"}),
    "placeholder": ("error_placeholder", {}),
    "zero": ("zero_division", {}),
}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalServer]:
    with LocalServer(tmp_path / "scenario.db", port=0, api_key=KEY) as local:
        yield local


def run_samples(
    server: LocalServer, runner_id: str, pool_size: int
) -> tuple[dict[str, list[tuple[Any, ...]]], dict[str, str]]:
    """The five sample tasks through a runner whose pool is full first: their statuses,
    and how each started."""
    client = LocalClient(server.url, KEY)
    env = {"XC_RUNNER_CONCURRENCY": "5", "XC_RUNNER_POOL_SIZE": str(pool_size)}
    with runner_process(server.url, KEY, [SAMPLE_IMAGE], runner_id, env=env) as runner:
        if pool_size:
            wait_for(warm_ready(runner_id, pool_size), 120, "the warm pool to fill", runner)
        ids = {k: client.submit("sample", n, inputs)["id"] for k, (n, inputs) in SAMPLES.items()}
        wait_for(lambda: ended(client, *ids.values()), 120, "the sample tasks to end", runner)
        assert runner.stop() == 0, runner.log()
        starts = task_starts(runner.log())
    refs = {key: f"sample/{SAMPLES[key][0]}#{i}" for key, i in ids.items()}
    return (
        {key: brief(client.instance(i)) for key, i in ids.items()},
        {key: starts[refs[key]][0] for key in ids},
    )


def test_the_sample_tasks_end_warm_with_the_same_statuses_as_cold(
    server: LocalServer, task_images: list[str], runner_id: str
) -> None:
    warm, warm_starts = run_samples(server, runner_id, pool_size=5)
    cold, cold_starts = run_samples(server, runner_id, pool_size=0)
    assert set(warm_starts.values()) == {"warm"}, warm_starts
    assert set(cold_starts.values()) == {"cold"}, cold_starts
    assert warm == cold
    assert warm["simple"] == [("Completed", "", None, {"msg": 'The argument received was "warm".'})]
    assert warm["zero"] == [("Error", "ZeroDivisionError: division by zero", None, None)]
    assert [s[0] for s in warm["reporting"]] == ["InProgress"] * 3 + ["Completed"]


def build_probe_variant(tag: str, lines: str, tasks: list[str], namespace: str = "probe") -> str:
    """The probe image with these Dockerfile lines added and only `tasks` in its catalog,
    declared in `namespace`; its image ID."""
    catalog = json.loads((REPO / "tests" / "images" / "probe" / "catalog.json").read_text())
    catalog = [{**d, "namespace": namespace} for d in catalog]
    client = docker.from_env()
    try:
        image, _ = client.images.build(
            fileobj=io.BytesIO(f"FROM xc-test/probe:latest\n{lines}\n".encode()),
            tag=tag,
            labels={CATALOG_LABEL: json.dumps([d for d in catalog if d["name"] in tasks])},
            rm=True,
        )
        return str(image.id)
    finally:
        client.close()


def published(server: LocalServer, namespace: str) -> set[str]:
    answer = requests.get(
        f"{server.url}/taskcatalog/api/catalog-task-definitions/{namespace}",
        headers={"Authorization": f"bearer {KEY}"},
        timeout=10,
    )
    answer.raise_for_status()
    return {d["name"] for d in answer.json()}


def inspect_container(container_id: str) -> dict[str, Any]:
    client = docker.from_env()
    try:
        found: dict[str, Any] = client.api.inspect_container(container_id)
        return found
    finally:
        client.close()


def containers_of_image(runner_id: str, image_id: str) -> list[str]:
    return [c["Id"][:12] for c in runner_containers(runner_id) if c["ImageID"] == image_id]


def whoami_env(client: LocalClient, runner: RunnerProcess) -> str:
    instance_id = client.submit("probe", "whoami", {})["id"]
    wait_for(lambda: ended(client, instance_id), 60, "whoami to end", runner)
    [status] = client.instance(instance_id)["statuses"]
    assert status["status"] == "Completed", status
    return str(status["outputValues"]["env"])


def test_a_rebuilt_image_is_used_by_the_next_task_and_its_catalog_followed(
    server: LocalServer, probe_image: str, runner_id: str
) -> None:
    tag = f"xc-test/pool-rebuild:{uuid.uuid4().hex[:8]}"
    first = build_probe_variant(tag, "ENV PROBE_FIRST=1", ["whoami", "echo"])
    second = ""
    client = LocalClient(server.url, KEY)
    env = {"XC_RUNNER_CONCURRENCY": "1", "XC_RUNNER_POOL_SIZE": "2"}
    try:
        with runner_process(server.url, KEY, [tag], runner_id, env=env) as runner:
            wait_for(warm_ready(runner_id, 2), 120, "the warm pool to fill", runner)
            assert "PROBE_FIRST" in whoami_env(client, runner)
            assert published(server, "probe") == {"whoami", "echo"}
            second = build_probe_variant(tag, "ENV PROBE_SECOND=1", ["whoami", "echo", "sleep"])
            # At once: the very next task runs the new image, never a warm old one.
            assert "PROBE_SECOND" in whoami_env(client, runner)
            wait_for(lambda: not containers_of_image(runner_id, first), 30, "old ones gone", runner)
            wait_for(warm_ready(runner_id, 2), 120, "the pool refilled", runner)
            # The catalog was read again: the new task runs, and was published.
            wait_for(lambda: "sleep" in published(server, "probe"), 30, "republished", runner)
            slept = client.submit("probe", "sleep", {"seconds": "0"})["id"]
            wait_for(lambda: ended(client, slept), 60, "the new task to end", runner)
            assert client.instance(slept)["state"] == "Completed"
            assert runner.stop() == 0, runner.log()
            log = runner.log()
        assert f"image {tag} now names {second[:19]}" in log
        assert list(task_starts(log).values())[-1][0] == "warm", "the new image's pool unused"
    finally:
        remove_images(*[i for i in (first, second) if i], force=True)


def test_a_namespace_a_rebuilt_image_declares_is_polled_at_once(
    server: LocalServer, probe_image: str, runner_id: str
) -> None:
    tag = f"xc-test/pool-moved:{uuid.uuid4().hex[:8]}"
    first = build_probe_variant(tag, "ENV PROBE_FIRST=1", ["whoami"])
    second = ""
    client = LocalClient(server.url, KEY)
    try:
        with runner_process(
            server.url, KEY, [tag], runner_id, env={"XC_RUNNER_POOL_SIZE": "1"}
        ) as runner:
            wait_for(warm_ready(runner_id, 1), 120, "the warm pool to fill", runner)
            second = build_probe_variant(tag, "ENV PROBE_SECOND=1", ["whoami"], "probe-moved")
            wait_for(lambda: published(server, "probe-moved") == {"whoami"}, 30, "publish", runner)
            moved = client.submit("probe-moved", "whoami", {})["id"]
            wait_for(lambda: ended(client, moved), 60, "the moved task to end", runner)
            [status] = client.instance(moved)["statuses"]
            assert status["status"] == "Completed", status
            assert "PROBE_SECOND" in status["outputValues"]["env"]
            assert runner.stop() == 0, runner.log()
            log = runner.log()
        assert f"image {tag} now declares namespace(s) probe-moved: polling them too" in log
        assert f"image {tag} no longer declares namespace(s) probe: they are not polled" in log
    finally:
        remove_images(*[i for i in (first, second) if i], force=True)


def test_a_killed_idle_container_does_not_fail_the_next_task(
    server: LocalServer, probe_image: str, runner_id: str
) -> None:
    client = LocalClient(server.url, KEY)
    env = {"XC_RUNNER_CONCURRENCY": "1", "XC_RUNNER_POOL_SIZE": "2"}
    with runner_process(server.url, KEY, [probe_image], runner_id, env=env) as runner:
        wait_for(warm_ready(runner_id, 2), 120, "the warm pool to fill", runner)
        victims = [c["Id"] for c in runner_containers(runner_id, running=True, warm=True)]
        subprocess.run(["docker", "kill", *victims], check=True, capture_output=True, timeout=60)
        wait_for(
            lambda: all(f"warm container {v[:12]} died" in runner.log() for v in victims),
            30,
            "the runner to notice",
            runner,
        )
        ids = [client.submit("probe", "echo", {"text": f"after {n}"})["id"] for n in range(3)]
        wait_for(lambda: ended(client, *ids), 60, "the tasks to end", runner)
        assert [client.instance(i)["state"] for i in ids] == ["Completed"] * 3
        assert runner.stop() == 0, runner.log()
        log = runner.log()
    assert "keep exiting" not in log


def test_a_sigkilled_runner_leaves_no_warm_container_running_after_the_next_start(
    server: LocalServer, probe_image: str, runner_id: str, tmp_path: Path
) -> None:
    env = {
        "XC_RUNNER_CONCURRENCY": "1",
        "XC_RUNNER_POOL_SIZE": "3",
        "XC_RUNNER_STATE_DIR": str(tmp_path / "state"),
    }
    with runner_process(server.url, KEY, [probe_image], runner_id, env=env) as first:
        wait_for(warm_ready(runner_id, 3), 120, "the warm pool to fill", first)
        old = {c["Id"] for c in runner_containers(runner_id, warm=True)}
        config = inspect_container(next(iter(old)))["Config"]
        assert config["StdinOnce"] is True
        labels = config["Labels"]
        assert (labels[LABEL_RUNNER_ID], labels[LABEL_POOL]) == (runner_id, probe_image)
        assert LABEL_INSTANCE_ID not in labels, "a warm container names a task"
        first.proc.send_signal(signal.SIGKILL)
        first.proc.wait(10)
    # StdinOnce: the dead runner's attach streams closed their stdin; they end by themselves.
    wait_for(
        lambda: not {c["Id"] for c in runner_containers(runner_id, running=True)} & old,
        60,
        "the orphaned warm containers to exit",
    )
    with runner_process(server.url, KEY, [probe_image], runner_id, env=env) as second:
        wait_for(warm_ready(runner_id, 3), 120, "the new warm pool to fill", second)
        assert not {c["Id"] for c in runner_containers(runner_id)} & old
        assert all(c["Labels"].get(LABEL_POOL) == probe_image for c in runner_containers(runner_id))
        assert second.stop() == 0, second.log()
    assert runner_containers(runner_id) == []


# An entrypoint that says something before it reads its task.
EARLY_WORDS = 'ENTRYPOINT ["sh", "-c", "echo warming up >&2; exec python3 -u /opt/probe/probe.py"]'
# An entrypoint that gives up when no task comes within a second: warm, it always dies.
IMPATIENT = (
    'ENTRYPOINT ["python3", "-c", "import os, select, sys; '
    "sys.exit('no task within 1 s') if not select.select([0], [], [], 1)[0] "
    "else os.execvp('python3', ['python3', '-u', '/opt/probe/probe.py'])\"]"
)


def test_what_a_warm_container_wrote_before_its_task_is_that_tasks_output(
    server: LocalServer, probe_image: str, runner_id: str
) -> None:
    tag = f"xc-test/pool-early:{uuid.uuid4().hex[:8]}"
    image_id = build_probe_variant(tag, EARLY_WORDS, ["echo"])
    client = LocalClient(server.url, KEY)
    env = {"XC_RUNNER_CONCURRENCY": "1", "XC_RUNNER_POOL_SIZE": "1"}
    try:
        with runner_process(server.url, KEY, [tag], runner_id, env=env) as runner:
            wait_for(warm_ready(runner_id, 1), 120, "the warm pool to fill", runner)
            instance_id = client.submit("probe", "echo", {"text": "hi"})["id"]
            wait_for(lambda: ended(client, instance_id), 60, "the task to end", runner)
            assert runner.stop() == 0, runner.log()
            log = runner.log()
        ref = f"probe/echo#{instance_id}"
        assert task_starts(log)[ref][0] == "warm"
        assert f"{ref} stderr: warming up" in log
        assert brief(client.instance(instance_id)) == [("Completed", "", None, {"text": "hi"})]
    finally:
        remove_images(image_id, force=True)


def test_an_image_whose_warm_containers_keep_dying_is_reported_once_and_runs_cold(
    server: LocalServer, probe_image: str, runner_id: str
) -> None:
    tag = f"xc-test/pool-impatient:{uuid.uuid4().hex[:8]}"
    image_id = build_probe_variant(tag, IMPATIENT, ["echo"])
    client = LocalClient(server.url, KEY)
    env = {"XC_RUNNER_CONCURRENCY": "1", "XC_RUNNER_POOL_SIZE": "1"}
    try:
        with runner_process(server.url, KEY, [tag], runner_id, env=env) as runner:
            wait_for(lambda: "keep exiting" in runner.log(), 120, "the report", runner)
            ids = [client.submit("probe", "echo", {"text": str(n)})["id"] for n in range(2)]
            wait_for(lambda: ended(client, *ids), 60, "the tasks to end", runner)
            assert runner.stop() == 0, runner.log()
            log = runner.log()
        assert [client.instance(i)["state"] for i in ids] == ["Completed"] * 2
        assert {start for start, _ in task_starts(log).values()} == {"cold"}
        [report] = [line for line in log.splitlines() if " ERROR " in line]
        assert f"image {tag}: its warm containers keep exiting" in report
        assert "no task within 1 s" in report
    finally:
        remove_images(image_id, force=True)

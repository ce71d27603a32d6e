"""The runner with `--engine kubernetes` against a real cluster (`make k8s-up`) and the local
server: the sample image's five tasks each in a Pod (and against an independent platform),
the time limit, cancellation, a restart mid-task, warm Pods, an API server that stops
answering, and no Pod left behind."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runner.engine.interface import LABEL_POOL
from runner.localserver import LocalServer
from runner.localserver.client import LocalClient
from tests.conftest import SAMPLE_IMAGE
from tests.integration import kube_support
from tests.integration.foreign_platform import ForeignPlatform
from tests.integration.kube_support import (
    ApiServerCut,
    pods,
    wait_gone,
)
from tests.integration.processes import brief, runner_process, wait_for

pytestmark = pytest.mark.integration

KEY = "kube-key"
cluster = kube_support.cluster
namespace = kube_support.namespace
kube_runner_id = kube_support.kube_runner_id


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalServer]:
    with LocalServer(tmp_path / "scenario.db", port=0, api_key=KEY) as local:
        yield local


@pytest.fixture
def state_dir() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="kube-runner-state-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def on_kubernetes(namespace: str, state_dir: Path, **more: str) -> dict[str, str]:
    return {
        "XC_RUNNER_ENGINE": "kubernetes",
        "XC_RUNNER_KUBE_NAMESPACE": namespace,
        "XC_RUNNER_PULL": "never",
        "XC_RUNNER_STATE_DIR": str(state_dir),
        **more,
    }


def ended(client: LocalClient, instance_id: str) -> bool:
    return client.instance(instance_id)["state"] in ("Completed", "Error")


def last(view: dict[str, Any]) -> dict[str, Any]:
    statuses: list[dict[str, Any]] = view["statuses"]
    assert [s["status"] for s in statuses].count("Completed") + [
        s["status"] for s in statuses
    ].count("Error") == 1, statuses
    return statuses[-1]


def test_the_five_sample_tasks_each_run_in_a_pod(
    server: LocalServer, namespace: str, kube_runner_id: str, state_dir: Path
) -> None:
    client = LocalClient(server.url, KEY)
    submissions = {
        "simple": ("simple", {"arg": "hello"}),
        "double": ("double", {"str_in": "ab", "nbr_in": "21"}),
        "reporting": ("reporting_task", {"n": "2", "param": "k8s"}),
        "placeholder": ("error_placeholder", {}),
        "zero": ("zero_division", {}),
    }
    ids = {
        k: client.submit("sample", task, inputs)["id"] for k, (task, inputs) in submissions.items()
    }
    env = on_kubernetes(namespace, state_dir, XC_RUNNER_POOL_SIZE="0")
    with runner_process(server.url, KEY, [SAMPLE_IMAGE], kube_runner_id, env=env) as runner:
        wait_for(
            lambda: any(
                p["metadata"]["labels"].get("xc-scenario.task")
                for p in pods(namespace, kube_runner_id)
            ),
            60,
            "a task's Pod",
            runner,
        )
        wait_for(lambda: all(ended(client, i) for i in ids.values()), 120, "every task", runner)
        assert runner.stop() == 0, runner.log()
    views = {key: client.instance(i) for key, i in ids.items()}
    assert brief(views["simple"]) == [
        ("Completed", "", None, {"msg": 'The argument received was "hello".'})
    ]
    assert brief(views["double"]) == [("Completed", "", None, {"str_out": "abab", "nbr_out": "42"})]
    assert brief(views["reporting"])[-1] == (
        "Completed", "", None, {"result": 'Input "k8s", result is ok'}
    )  # fmt: skip
    assert len(brief(views["reporting"])) == 5
    assert brief(views["placeholder"]) == [
        ("Error", 'Task "error_placeholder" reports a fatal error.', None, None)
    ]
    assert brief(views["zero"]) == [("Error", "ZeroDivisionError: division by zero", None, None)]
    wait_gone(namespace, kube_runner_id)


def test_timeout_and_cancel_delete_the_task_pod(
    server: LocalServer, namespace: str, kube_runner_id: str, state_dir: Path
) -> None:
    client = LocalClient(server.url, KEY)
    slow = client.submit("sample", "reporting_task", {"n": "60", "param": "slow"})["id"]
    cancelled = client.submit("sample", "reporting_task", {"n": "60", "param": "cancel"})["id"]
    env = on_kubernetes(
        namespace, state_dir, XC_RUNNER_TASK_TIMEOUT_S="8", XC_RUNNER_CANCEL_CHECK_S="0.5",
        XC_RUNNER_POOL_SIZE="0",
    )  # fmt: skip
    with runner_process(server.url, KEY, [SAMPLE_IMAGE], kube_runner_id, env=env) as runner:
        wait_for(lambda: len(client.instance(cancelled)["statuses"]) >= 2, 60, "progress", runner)
        client.cancel(cancelled)
        wait_for(lambda: ended(client, cancelled), 30, "the cancelled task's end", runner)
        wait_for(lambda: ended(client, slow), 60, "the slow task's time limit", runner)
        wait_for(lambda: not pods(namespace, kube_runner_id), 90, "the Pods' deletion", runner)
        assert runner.stop() == 0, runner.log()
    assert last(client.instance(slow))["message"].startswith("the task timed out after 8 s")
    assert "cancelled" in last(client.instance(cancelled))["message"]


def test_a_restart_mid_task_ends_the_interrupted_task_and_deletes_its_pod(
    server: LocalServer, namespace: str, kube_runner_id: str, state_dir: Path
) -> None:
    client = LocalClient(server.url, KEY)
    instance_id = client.submit("sample", "reporting_task", {"n": "60", "param": "kill"})["id"]
    env = on_kubernetes(namespace, state_dir)
    with runner_process(server.url, KEY, [SAMPLE_IMAGE], kube_runner_id, env=env) as first:
        wait_for(lambda: len(client.instance(instance_id)["statuses"]) >= 2, 60, "progress", first)
        first.proc.kill()
        first.proc.wait(10)
    left = {p["metadata"]["name"] for p in pods(namespace, kube_runner_id)}
    assert left, "the killed runner's Pods are gone?"
    with runner_process(server.url, KEY, [SAMPLE_IMAGE], kube_runner_id, env=env) as second:
        wait_for(lambda: ended(client, instance_id), 60, "the interrupted task's end", second)
        wait_for(
            lambda: not left & {p["metadata"]["name"] for p in pods(namespace, kube_runner_id)},
            90,
            "the killed runner's Pods to be deleted",
            second,
        )
        assert second.stop() == 0, second.log()
    final = last(client.instance(instance_id))
    assert final["status"] == "Error" and "interrupted" in final["message"]


def test_warm_pods_wait_for_their_tasks_and_are_removed_on_stop(
    server: LocalServer, namespace: str, kube_runner_id: str, state_dir: Path
) -> None:
    client = LocalClient(server.url, KEY)
    env = on_kubernetes(namespace, state_dir, XC_RUNNER_POOL_SIZE="2")
    with runner_process(server.url, KEY, [SAMPLE_IMAGE], kube_runner_id, env=env) as runner:

        def warm() -> list[str]:
            return [
                p["metadata"]["name"]
                for p in pods(namespace, kube_runner_id)
                if p["metadata"]["labels"].get(LABEL_POOL)
                and p["status"].get("phase") == "Running"
                and not p["metadata"].get("deletionTimestamp")
            ]

        wait_for(lambda: len(warm()) == 2, 90, "two warm Pods", runner)
        before = set(warm())
        ids = [client.submit("sample", "simple", {"arg": str(n)})["id"] for n in range(3)]
        wait_for(lambda: all(ended(client, i) for i in ids), 60, "the tasks", runner)
        assert all(last(client.instance(i))["status"] == "Completed" for i in ids)
        wait_for(lambda: len(warm()) == 2 and not before & set(warm()), 60, "a refill", runner)
        time.sleep(0.5)
        assert runner.stop() == 0, runner.log()
        assert "warm" in runner.log()
    wait_gone(namespace, kube_runner_id)


def test_an_api_server_that_does_not_answer_stops_the_runner_taking_work(
    server: LocalServer, namespace: str, kube_runner_id: str, state_dir: Path
) -> None:
    client = LocalClient(server.url, KEY)
    cut = ApiServerCut(state_dir)
    env = on_kubernetes(
        namespace, state_dir, XC_RUNNER_POOL_SIZE="0", KUBECONFIG=str(cut.kubeconfig)
    )
    try:
        with runner_process(server.url, KEY, [SAMPLE_IMAGE], kube_runner_id, env=env) as runner:
            first = client.submit("sample", "simple", {"arg": "before"})["id"]
            wait_for(lambda: ended(client, first), 60, "a task before the cut", runner)
            cut.cut()
            wait_for(
                lambda: "not taking new tasks" in runner.log(),
                30,
                "the runner to stop taking work",
                runner,
            )
            held = client.submit("sample", "simple", {"arg": "held"})["id"]
            time.sleep(3)
            view = client.instance(held)
            assert view["state"] == "Queued", f"taken while the cluster was away: {view}"
            cut.heal()
            wait_for(
                lambda: ended(client, held), 60, "the held task, once the cluster answers", runner
            )
            assert runner.stop() == 0, runner.log()
    finally:
        cut.close()
    assert last(client.instance(first))["status"] == "Completed"
    assert last(client.instance(held))["status"] == "Completed"


def test_against_a_platform_each_task_in_a_pod_posts_what_docker_does(
    namespace: str, kube_runner_id: str, state_dir: Path
) -> None:
    key = "foreign-key-k8s"
    with ForeignPlatform(key) as platform:
        platform.enqueue("sample", "simple", "s1", {"arg": "hello", "arg#type": "String"})
        platform.enqueue("sample", "zero_division", "z1", {})
        env = on_kubernetes(namespace, state_dir, XC_RUNNER_POOL_SIZE="1")
        with runner_process(platform.url, key, [SAMPLE_IMAGE], kube_runner_id, env=env) as runner:

            def done() -> bool:
                return all(
                    any(s["status"] in ("Completed", "Error") for s in platform.statuses_of(i))
                    for i in ("s1", "z1")
                )

            wait_for(done, 90, "terminal statuses", runner)
            assert runner.stop() == 0, runner.log()
        published = {d["name"] for d in platform.catalogs["sample"]}
        assert {"simple", "zero_division"} <= published
        assert platform.statuses_of("s1") == [
            {
                "taskInstanceId": "s1",
                "status": "Completed",
                "message": "",
                "outputValues": {"msg": 'The argument received was "hello".'},
            }
        ]
        assert platform.statuses_of("z1") == [
            {
                "taskInstanceId": "z1",
                "status": "Error",
                "message": "ZeroDivisionError: division by zero",
            }
        ]


def test_sigterm_drains_a_running_task_pod_then_removes_the_warm_ones(
    server: LocalServer, namespace: str, kube_runner_id: str, state_dir: Path
) -> None:
    client = LocalClient(server.url, KEY)
    instance_id = client.submit("sample", "reporting_task", {"n": "3", "param": "drain"})["id"]
    env = on_kubernetes(namespace, state_dir, XC_RUNNER_POOL_SIZE="1")
    with runner_process(server.url, KEY, [SAMPLE_IMAGE], kube_runner_id, env=env) as runner:
        wait_for(lambda: len(client.instance(instance_id)["statuses"]) >= 2, 60, "progress", runner)
        assert runner.stop() == 0, runner.log()
    assert last(client.instance(instance_id))["status"] == "Completed"
    wait_gone(namespace, kube_runner_id)

"""A task Pod's launch and the catalog read from a Pod, on a fake of the cluster: what is
created, what a Pod that cannot start becomes, and that nothing is left behind."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from runner.core.catalog import CATALOG_LABEL
from runner.core.errors import ConfigError, EngineError, ImageFault, ImageMissing
from runner.core.policy import ContainerLimits
from runner.core.protocol import Stream
from runner.core.secrets import SecretSnapshot
from runner.engine.interface import LABEL_RUNNER_ID, ContainerSpec, ExitInfo
from runner.engine.kube_manifest import Owner, PodState, pod_state
from runner.engine.kube_pods import catalog_text, launch, read_catalog
from tests.unit.test_kube_stream import FakeSession


def status(state: dict[str, Any]) -> dict[str, Any]:
    return {
        "metadata": {"resourceVersion": "2"},
        "status": {"containerStatuses": [{"name": "task", "state": state}]},
    }


class FakeCluster:
    runner_id = "r1"
    owner: Owner | None = None

    def __init__(self, states: list[dict[str, Any]], log: str = "") -> None:
        self.states = states
        self.log = log
        self.created: list[tuple[dict[str, Any], dict[str, Any] | None]] = []
        self.deleted: list[str] = []
        self.sessions: list[FakeSession] = []
        self.attach_fails = False
        self.secrets_deleted: list[bool] = []

    def pod_name(self) -> str:
        return f"xc-r1-{len(self.created)}"

    def pull_policy(self, image: str) -> str:
        return "Never"

    def create(self, pod: dict[str, Any], secret: dict[str, Any] | None) -> str:
        self.created.append((pod, secret))
        return "1"

    def read_pod(self, name: str) -> dict[str, Any] | None:
        return self.states[-1]

    def watch_until(
        self, name: str, version: str, done: Callable[[PodState], bool], timeout_s: float
    ) -> PodState:
        for pod in self.states:
            if done(state := pod_state(pod)):
                return state
        raise EngineError(f"pod {name}: nothing after {timeout_s:g} s")

    def attach(self, name: str, *, stdin: bool) -> FakeSession:
        if self.attach_fails:
            raise EngineError("container not running")
        self.sessions.append(FakeSession([] if stdin else [(1, b'{"done": 1}\n'), None]))
        return self.sessions[-1]

    def log_tail(self, name: str, lines: int | None = 20) -> str:
        return self.log

    def delete(self, name: str, grace_s: float = 0.0, *, secret: bool = True) -> None:
        self.deleted.append(name)
        self.secrets_deleted.append(secret)

    def mark_suspect(self) -> None:
        pass


SPEC = ContainerSpec(image="xc-tasks/sample:latest", labels={LABEL_RUNNER_ID: "r1"})


def test_a_launch_creates_the_pod_and_attaches_its_streams() -> None:
    cluster = FakeCluster(
        [status({"waiting": {"reason": "ContainerCreating"}}), status({"running": {}})]
    )
    pod = launch(cluster, SPEC)
    assert pod.id == "xc-r1-0"
    assert cluster.created[0][1] is None  # no secrets, no Secret
    assert len(cluster.sessions) == 2
    assert pod.read(0) == [(Stream.STDOUT, b'{"done": 1}\n')]
    pod.remove()
    pod.remove()
    assert cluster.deleted == ["xc-r1-0"]
    assert cluster.secrets_deleted == [False]  # no Secret: no request for one


def test_secrets_become_a_secret_of_the_pods_name() -> None:
    cluster = FakeCluster([status({"running": {}})])
    spec = ContainerSpec(image="i", labels={}, secrets=SecretSnapshot((("token", b"t0k3n"),)))
    launch(cluster, spec).remove()
    pod, secret = cluster.created[0]
    assert secret is not None and secret["metadata"]["name"] == pod["metadata"]["name"]
    assert cluster.secrets_deleted == [True]  # with the Pod


@pytest.mark.parametrize(
    ("reason", "error"), [("ErrImageNeverPull", ImageMissing), ("CreateContainerError", ImageFault)]
)
def test_a_pod_that_cannot_start_is_deleted_and_its_launch_fails(
    reason: str, error: type[Exception]
) -> None:
    cluster = FakeCluster([status({"waiting": {"reason": reason, "message": "why"}})])
    with pytest.raises(error, match=f"{reason}: why"):
        launch(cluster, SPEC)
    assert cluster.deleted == ["xc-r1-0"]


def test_a_pod_never_running_fails_its_launch_and_is_deleted() -> None:
    cluster = FakeCluster([status({"waiting": {"reason": "ContainerCreating"}})])
    with pytest.raises(EngineError, match="nothing after"):
        launch(cluster, SPEC)
    assert cluster.deleted == ["xc-r1-0"]


def test_a_user_kubernetes_cannot_hold_is_an_image_fault_and_creates_nothing() -> None:
    cluster = FakeCluster([])
    spec = ContainerSpec(image="i", labels={}, limits=ContainerLimits(user="root"))
    with pytest.raises(ImageFault, match="numeric"):
        launch(cluster, spec)
    assert cluster.created == []


def test_a_pod_that_exited_before_it_was_attached_hands_its_log_to_its_task() -> None:
    cluster = FakeCluster([status({"terminated": {"exitCode": 2}})], log="Traceback: boom\n")
    pod = launch(cluster, SPEC)
    assert pod.alive() is False
    assert pod.early_stderr() == "Traceback: boom"
    assert pod.wait(1) == ExitInfo(2)


def test_a_pod_that_exits_while_it_is_attached_hands_its_log_to_its_task() -> None:
    cluster = FakeCluster([status({"running": {}}), status({"terminated": {"exitCode": 1}})])
    cluster.log = "died\n"
    cluster.attach_fails = True
    pod = launch(cluster, SPEC)
    assert pod.read(0) == [(Stream.STDERR, b"died\n")]
    assert pod.read(0) is None


def test_the_catalog_is_the_json_array_a_catalog_pod_prints() -> None:
    assert catalog_text('[{"name": "a"}]\n') == '[{"name": "a"}]'
    assert catalog_text('warning: slow disk\n[{"name": "a"}]\n') == '[{"name": "a"}]'
    assert catalog_text("[\n  {}\n]\n") == "[\n  {}\n]"
    assert catalog_text('{"name": "a"}') is None
    assert catalog_text("") is None


def test_a_catalog_is_read_from_a_pod_run_once_and_deleted() -> None:
    cluster = FakeCluster([status({"terminated": {"exitCode": 0}})], log='[{"name": "t"}]\n')
    assert read_catalog(cluster, "xc-tasks/sample:latest") == {CATALOG_LABEL: '[{"name": "t"}]'}
    pod, _ = cluster.created[0]
    assert pod["spec"]["containers"][0]["args"] == ["--catalog"]
    assert pod["spec"]["containers"][0]["stdin"] is False
    assert cluster.deleted == ["xc-r1-0"]


@pytest.mark.parametrize(
    ("state", "log", "said"),
    [
        ({"terminated": {"exitCode": 2}}, "usage: no --catalog here", "exited with code 2"),
        ({"terminated": {"exitCode": 0}}, "hello", "printed no JSON array"),
        ({"waiting": {"reason": "ErrImageNeverPull"}}, "", "ErrImageNeverPull"),
    ],
)
def test_an_image_whose_pod_cannot_tell_its_catalog_is_a_configuration_error(
    state: dict[str, Any], log: str, said: str
) -> None:
    cluster = FakeCluster([status(state)], log=log)
    with pytest.raises(ConfigError, match=said) as caught:
        read_catalog(cluster, "xc-tasks/greet-sh:latest")
    assert "image xc-tasks/greet-sh:latest: its catalog cannot be read on Kubernetes" in str(
        caught.value
    )
    assert cluster.deleted == ["xc-r1-0"]

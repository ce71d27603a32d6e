"""The Kubernetes engine against a real cluster (`make k8s-up`): each task a Pod, its stdin,
stdout and stderr, its containment, its limits, its faults, and nothing left behind."""

from __future__ import annotations

import base64
import json
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from runner.core.catalog import CATALOG_LABEL
from runner.core.errors import ConfigError, EngineError, ImageMissing
from runner.core.protocol import encode_envelope
from runner.core.secrets import SecretSnapshot
from runner.engine.interface import LABEL_RUNNER_ID, ContainerSpec
from runner.engine.kubernetes_engine import KubernetesEngine
from tests.conftest import REPO, SAMPLE_IMAGE
from tests.integration import kube_support
from tests.integration.kube_support import (
    KUBECONFIG,
    import_image,
    kubectl,
    pods,
    wait_gone,
)
from tests.integration.test_engine import collect, spec

pytestmark = pytest.mark.integration


cluster = kube_support.cluster
namespace = kube_support.namespace
kube_runner_id = kube_support.kube_runner_id

PROBE = "xc-test/probe:latest"
ABSENT = "xc-test/absent-from-the-node:nope"


@pytest.fixture(scope="module")
def probe(probe_image: str, cluster: Path) -> str:
    import_image(probe_image)
    return probe_image


@pytest.fixture
def kube(namespace: str, kube_runner_id: str) -> Iterator[KubernetesEngine]:
    kube = KubernetesEngine(
        namespace,
        runner_id=kube_runner_id,
        pull_policies={SAMPLE_IMAGE: "never", PROBE: "never", ABSENT: "never"},
    )
    yield kube
    kube.remove_labelled({LABEL_RUNNER_ID: kube_runner_id})
    kube.close()


def run_task(
    kube: KubernetesEngine, image: str, runner_id: str, task: str, inputs: dict[str, str],
    **limits: object,
) -> tuple[bytes, bytes, int, bool]:  # fmt: skip
    container = kube.launch(spec(image, runner_id, **limits))
    try:
        container.send(encode_envelope("probe", task, "t1", inputs))
        out, err = collect(container)
        exit_info = container.wait(60)
        return out, err, exit_info.exit_code, exit_info.oom_killed
    finally:
        container.remove()


def test_stdin_reaches_the_task_and_stdout_stderr_come_back_apart(
    kube: KubernetesEngine, probe: str, kube_runner_id: str
) -> None:
    out, err, code, _ = run_task(kube, probe, kube_runner_id, "crash", {})
    assert (out, code) == (b"", 3)
    assert err == b"about to fail\nfatal: probe crashed on purpose\n"
    out, _, code, _ = run_task(kube, probe, kube_runner_id, "echo", {"text": "héllo\nworld"})
    assert out == b'{"type": "result", "outputs": {"text": "h\\u00e9llo\\nworld"}}\n'
    assert code == 0


def test_large_input_and_output_pass_whole_without_deadlock(
    kube: KubernetesEngine, probe: str, kube_runner_id: str
) -> None:
    data = "d" * (3 * 1024 * 1024)
    out, _, _, _ = run_task(kube, probe, kube_runner_id, "big_input", {"data": data})
    assert out.endswith(b'{"type": "result", "outputs": {"size": "3145728"}}\n')
    out, _, _, _ = run_task(kube, probe, kube_runner_id, "flood", {"kib": "4096"})
    assert len(out) == 4096 * 1024 + len(b'{"type": "result", "outputs": {"done": "yes"}}\n')


def test_pods_are_contained_by_default(
    kube: KubernetesEngine, probe: str, kube_runner_id: str, namespace: str
) -> None:
    out, _, code, _ = run_task(kube, probe, kube_runner_id, "whoami", {})
    assert code == 0
    assert b'"uid": "65534", "gid": "65534", "root_writable": "no", "tmp_writable": "yes"' in out
    container = kube.launch(spec(probe, kube_runner_id, memory_bytes=256 * 1024**2))
    try:
        (pod,) = pods(namespace, kube_runner_id)
        security = pod["spec"]["containers"][0]["securityContext"]
        assert security["readOnlyRootFilesystem"] is True
        assert security["allowPrivilegeEscalation"] is False
        assert security["capabilities"] == {"drop": ["ALL"]}
        assert security["seccompProfile"] == {"type": "RuntimeDefault"}
        assert pod["spec"]["automountServiceAccountToken"] is False
        assert pod["spec"]["containers"][0]["resources"]["limits"]["memory"] == str(256 * 1024**2)
        assert "/var/run/secrets/kubernetes.io" not in json.dumps(pod["spec"])
    finally:
        container.remove()


def test_a_task_over_its_memory_limit_is_seen_oom_killed(
    kube: KubernetesEngine, probe: str, kube_runner_id: str
) -> None:
    _, _, code, oom = run_task(
        kube, probe, kube_runner_id, "allocate", {"mib": "200"}, memory_bytes=64 * 1024**2
    )
    assert (code, oom) == (137, True)


def test_secrets_are_files_at_run_secrets_and_go_with_the_pod(
    kube: KubernetesEngine, probe: str, kube_runner_id: str, namespace: str
) -> None:
    snapshot = SecretSnapshot((("api_token", b"t0k3n-value"),))
    labels = {LABEL_RUNNER_ID: kube_runner_id}
    container = kube.launch(ContainerSpec(image=probe, labels=labels, secrets=snapshot))
    try:
        secret = json.loads(kubectl("-n", namespace, "get", "secret", container.id, "-o", "json"))
        assert secret["immutable"] is True
        container.send(encode_envelope("probe", "echo", "t1", {"text": "x"}))
        collect(container)
    finally:
        container.remove()
    wait_gone(namespace, kube_runner_id)


def test_stop_deletes_a_running_pod_and_remove_is_idempotent(
    kube: KubernetesEngine, probe: str, kube_runner_id: str, namespace: str
) -> None:
    container = kube.launch(spec(probe, kube_runner_id))
    container.send(encode_envelope("probe", "sleep", "t", {"seconds": "600"}))
    assert container.read(0.3) == []
    container.stop(1)
    assert container.read(5) is None
    container.remove()
    container.remove()
    wait_gone(namespace, kube_runner_id)


def test_an_image_the_node_lacks_is_image_missing_and_leaves_no_pod(
    kube: KubernetesEngine, kube_runner_id: str, namespace: str
) -> None:
    with pytest.raises(ImageMissing, match="ErrImageNeverPull"):
        kube.launch(spec(ABSENT, kube_runner_id))
    wait_gone(namespace, kube_runner_id)


def test_pods_refused_by_a_quota_are_an_engine_fault_not_the_images(
    kube: KubernetesEngine, probe: str, kube_runner_id: str, namespace: str
) -> None:
    quota = f"no-pods-{kube_runner_id}"
    kubectl("-n", namespace, "create", "quota", quota, "--hard=pods=0")
    try:
        time.sleep(1)  # the quota controller sees it
        with pytest.raises(EngineError, match="exceeded quota") as refused:
            kube.launch(spec(probe, kube_runner_id))
        assert type(refused.value) is EngineError
    finally:
        kubectl("-n", namespace, "delete", "quota", quota)


def test_the_catalog_is_read_from_a_pod_that_prints_it(
    kube: KubernetesEngine, kube_runner_id: str
) -> None:
    labels = kube.image_labels(SAMPLE_IMAGE)
    names = {task["name"] for task in json.loads(labels[CATALOG_LABEL])}
    assert {"simple", "double", "reporting_task", "error_placeholder", "zero_division"} <= names


def test_an_image_that_cannot_print_its_catalog_is_a_configuration_error(
    kube: KubernetesEngine, probe: str
) -> None:
    with pytest.raises(ConfigError, match="its catalog cannot be read on Kubernetes"):
        kube.image_labels(probe)


def test_remove_labelled_removes_only_the_labelled(
    kube: KubernetesEngine, probe: str, kube_runner_id: str
) -> None:
    other = f"test-other-{uuid.uuid4().hex[:8]}"
    mine = kube.launch(spec(probe, kube_runner_id))
    theirs = kube.launch(spec(probe, other))
    try:
        assert kube.remove_labelled({LABEL_RUNNER_ID: kube_runner_id}) == [mine.id]
        assert kube.remove_labelled({LABEL_RUNNER_ID: other}) == [theirs.id]
    finally:
        mine.remove()
        theirs.remove()


def service_account_kubeconfig(namespace: str, folder: Path) -> Path:
    """The Role of deploy/kubernetes/pods/rbac.yaml in `namespace`, and a kubeconfig of its
    ServiceAccount's token (the credentials the runner has in its Pod)."""
    docs = list(yaml.safe_load_all((REPO / "deploy/kubernetes/pods/rbac.yaml").read_text()))
    for doc in docs:
        doc["metadata"]["namespace"] = namespace
        for subject in doc.get("subjects", []):
            subject["namespace"] = namespace
    manifest = folder / "rbac.yaml"
    manifest.write_text(yaml.safe_dump_all(docs))
    kubectl("apply", "-f", str(manifest))
    deadline = time.monotonic() + 30
    while not (secret := kubectl("-n", namespace, "get", "sa", "xc-runner", "-o",
                                 "jsonpath={.secrets[0].name}", check=False)):  # fmt: skip
        assert time.monotonic() < deadline, "the ServiceAccount has no token"
        time.sleep(0.2)
    token = kubectl("-n", namespace, "get", "secret", secret, "-o", "jsonpath={.data.token}")
    admin = yaml.safe_load(KUBECONFIG.read_text())
    cluster = admin["clusters"][0]["cluster"]
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": cluster}],
        "users": [{"name": "xc-runner", "user": {"token": base64.b64decode(token).decode()}}],
        "contexts": [{"name": "sa", "context": {"cluster": "c", "user": "xc-runner"}}],
        "current-context": "sa",
    }
    path = folder / "kubeconfig"
    path.write_text(yaml.safe_dump(config))
    return path


def test_the_runners_role_grants_what_the_engine_needs_and_no_exec(
    probe: str, namespace: str, kube_runner_id: str, tmp_path: Path
) -> None:
    kubeconfig = service_account_kubeconfig(namespace, tmp_path)
    before = os.environ["KUBECONFIG"]
    os.environ["KUBECONFIG"] = str(kubeconfig)
    try:
        kube = KubernetesEngine(
            namespace,
            runner_id=kube_runner_id,
            pull_policies={SAMPLE_IMAGE: "never", PROBE: "never"},
        )
        try:
            assert CATALOG_LABEL in kube.image_labels(SAMPLE_IMAGE)
            snapshot = SecretSnapshot((("api_token", b"t0k3n-value"),))
            labels = {LABEL_RUNNER_ID: kube_runner_id}
            container = kube.launch(ContainerSpec(image=probe, labels=labels, secrets=snapshot))
            container.send(encode_envelope("probe", "echo", "t1", {"text": "x"}))
            assert b'"text": "x"' in collect(container)[0]
            assert container.wait(30).exit_code == 0
            container.remove()
            left = kube.launch(spec(probe, kube_runner_id))
            assert kube.remove_labelled({LABEL_RUNNER_ID: kube_runner_id}) == [left.id]
            left.remove()  # its streams
        finally:
            kube.close()
    finally:
        os.environ["KUBECONFIG"] = before
    account = f"system:serviceaccount:{namespace}:xc-runner"

    def can(verb: str, where: str, subresource: str = "") -> str:
        asked = ["auth", "can-i", verb, "pods", f"--subresource={subresource}", "-n", where]
        return kubectl(*asked, "--as", account, check=False).strip()

    assert can("create", namespace, "exec") == "no"
    assert can("list", "default") == "no"
    assert can("get", namespace, "attach") == "yes"

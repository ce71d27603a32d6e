"""A task's Pod as the Kubernetes engine creates it, and what a Pod's status says: pure logic."""

from __future__ import annotations

import base64

import pytest

from runner.core.policy import ContainerEnv, ContainerLimits
from runner.engine.interface import (
    LABEL_INSTANCE_ID,
    LABEL_RUNNER_ID,
    LABEL_TASK,
    ContainerSpec,
    ExitInfo,
)
from runner.engine.kube_manifest import (
    Owner,
    label_value,
    pending_reason,
    pod_manifest,
    pod_state,
    secret_manifest,
    selector,
)

SPEC = ContainerSpec(
    image="xc-tasks/sample:latest",
    labels={LABEL_RUNNER_ID: "runner-1", LABEL_TASK: "sample/simple", LABEL_INSTANCE_ID: "42"},
    limits=ContainerLimits(memory_bytes=256 * 1024**2, cpus=0.5, tmpfs_bytes=8 * 1024**2),
    env=ContainerEnv(variables=(("GREETING", "hi"),)),
)


def pod(**kwargs: object) -> dict:
    return pod_manifest(SPEC, name="xc-runner-1-abc", pull_policy="Never", **kwargs)  # type: ignore[arg-type]


def test_the_pod_holds_the_containment_of_a_task_container() -> None:
    spec = pod()["spec"]
    container = spec["containers"][0]
    assert container["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 65534,
        "runAsGroup": 65534,
        "readOnlyRootFilesystem": True,
        "allowPrivilegeEscalation": False,
        "privileged": False,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert spec["automountServiceAccountToken"] is False
    assert spec["enableServiceLinks"] is False
    assert (spec["hostNetwork"], spec["hostPID"], spec["hostIPC"]) == (False, False, False)
    assert spec["restartPolicy"] == "Never"
    assert spec["dnsPolicy"] == "None"
    assert container["resources"]["limits"] == {"memory": str(256 * 1024**2), "cpu": "500m"}
    assert container["resources"]["requests"] == {"memory": str(256 * 1024**2), "cpu": "50m"}
    assert spec["volumes"] == [
        {"name": "tmp", "emptyDir": {"medium": "Memory", "sizeLimit": str(8 * 1024**2)}}
    ]
    assert container["volumeMounts"] == [{"name": "tmp", "mountPath": "/tmp"}]
    assert (container["stdin"], container["stdinOnce"], container["tty"]) == (True, True, False)
    assert container["env"] == [{"name": "GREETING", "value": "hi"}]
    assert container["imagePullPolicy"] == "Never"
    assert "args" not in container  # the image's own entrypoint and command


def test_labels_are_what_kubernetes_takes_and_the_exact_values_are_annotations() -> None:
    meta = pod()["metadata"]
    assert meta["labels"][LABEL_RUNNER_ID] == "runner-1"
    assert meta["labels"][LABEL_INSTANCE_ID] == "42"
    assert meta["labels"][LABEL_TASK].startswith("sample-simple-")
    assert meta["annotations"][LABEL_TASK] == "sample/simple"
    assert "ownerReferences" not in meta


@pytest.mark.parametrize(
    "text", ["xc-tasks/sample:latest", "a" * 64, "-lead", "ünïcode", "", "x" * 300]
)
def test_any_text_becomes_a_valid_label_value(text: str) -> None:
    value = label_value(text)
    assert len(value) <= 63
    assert value == "" or (value[0].isalnum() and value[-1].isalnum())
    assert label_value(text) == value  # stable: a selector finds it again


def test_a_selector_matches_the_labels_as_written() -> None:
    assert selector({LABEL_RUNNER_ID: "r", "xc-scenario.pool": "xc-tasks/x:1"}) == (
        f"xc-scenario.pool={label_value('xc-tasks/x:1')},{LABEL_RUNNER_ID}=r"
    )


def test_an_owner_makes_the_pod_collected_with_the_runner() -> None:
    meta = pod(owner=Owner("runner-pod", "uid-1"))["metadata"]
    assert meta["ownerReferences"] == [
        {"apiVersion": "v1", "kind": "Pod", "name": "runner-pod", "uid": "uid-1"}
    ]


def test_secrets_are_a_secret_mounted_read_only_at_run_secrets() -> None:
    manifest = pod(secret="xc-runner-1-abc")
    assert manifest["spec"]["volumes"][1] == {
        "name": "secrets",
        "secret": {"secretName": "xc-runner-1-abc", "defaultMode": 0o444},
    }
    assert manifest["spec"]["containers"][0]["volumeMounts"][1] == {
        "name": "secrets",
        "mountPath": "/run/secrets",
        "readOnly": True,
    }
    secret = secret_manifest("xc-runner-1-abc", (("token", b"s3cret"),), SPEC.labels, None)
    assert secret["data"] == {"token": base64.b64encode(b"s3cret").decode()}
    assert secret["immutable"] is True


def test_a_command_replaces_the_images_arguments_only_and_a_runtime_is_a_runtime_class() -> None:
    spec = ContainerSpec(
        image="i", labels={}, command=("--catalog",), limits=ContainerLimits(runtime="gvisor")
    )
    manifest = pod_manifest(spec, name="n", pull_policy="IfNotPresent", stdin=False)
    assert manifest["spec"]["containers"][0]["args"] == ["--catalog"]
    assert manifest["spec"]["runtimeClassName"] == "gvisor"
    assert manifest["spec"]["containers"][0]["stdin"] is False


@pytest.mark.parametrize("user", ["nobody", "0:0", "0", "65534:staff"])
def test_a_user_kubernetes_cannot_hold_as_non_root_is_refused(user: str) -> None:
    spec = ContainerSpec(image="i", labels={}, limits=ContainerLimits(user=user))
    with pytest.raises(ValueError, match="task user"):
        pod_manifest(spec, name="n", pull_policy="Never")


def status(state: dict, phase: str = "Running", name: str = "task") -> dict:
    return {"status": {"phase": phase, "containerStatuses": [{"name": name, "state": state}]}}


def test_what_a_pods_status_says() -> None:
    assert pod_state(status({"running": {}})).running
    assert pod_state(status({"terminated": {"exitCode": 3}})).exit == ExitInfo(3)
    oom = status({"terminated": {"exitCode": 137, "reason": "OOMKilled"}})
    assert pod_state(oom).exit == ExitInfo(137, oom_killed=True)
    never = pod_state(status({"waiting": {"reason": "ErrImageNeverPull", "message": "no"}}))
    assert never.stuck == "ErrImageNeverPull: no" and never.image_missing
    config = pod_state(status({"waiting": {"reason": "CreateContainerConfigError"}}))
    assert config.stuck == "CreateContainerConfigError" and not config.image_missing
    assert pod_state(status({"waiting": {"reason": "ContainerCreating"}})) == pod_state({})
    evicted = pod_state({"status": {"phase": "Failed", "reason": "Evicted"}})
    assert evicted.stuck == "Evicted" and evicted.exit == ExitInfo(-1)


def test_why_a_pod_is_pending_in_words() -> None:
    unschedulable = {
        "status": {
            "phase": "Pending",
            "conditions": [
                {
                    "type": "PodScheduled",
                    "status": "False",
                    "reason": "Unschedulable",
                    "message": "0/1 nodes are available: 1 Insufficient memory.",
                }
            ],
        }
    }
    assert pending_reason(unschedulable) == (
        "Unschedulable: 0/1 nodes are available: 1 Insufficient memory."
    )
    assert pending_reason({}) == "not scheduled yet"

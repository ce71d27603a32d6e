"""deploy/kubernetes/pods/ (each task a Pod, no engine sidecar): the manifests pass
scripts/validate_manifests.py, and each of its own rules, broken once, is reported."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from scripts.validate_manifests import POD_MANIFESTS, load, pods_errors

Resources = list[tuple[str, dict[str, Any]]]


@pytest.fixture(scope="module")
def resources() -> Resources:
    return load(sorted(POD_MANIFESTS.glob("*.yaml")))


def kind(resources: Resources, name: str, index: int = 0) -> dict[str, Any]:
    return [r for _, r in resources if r["kind"] == name][index]


def pod(resources: Resources) -> dict[str, Any]:
    spec: dict[str, Any] = kind(resources, "StatefulSet")["spec"]["template"]["spec"]
    return spec


def test_the_manifests_pass(resources: Resources) -> None:
    assert list(pods_errors(resources)) == []


def _privileged(r: Resources) -> None:
    pod(r)["containers"][0]["securityContext"]["allowPrivilegeEscalation"] = True


def _exec(r: Resources) -> None:
    kind(r, "Role")["rules"].append(
        {"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create"]}
    )


def _baseline(r: Resources) -> None:
    kind(r, "Namespace")["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] = "baseline"


def _open_tasks(r: Resources) -> None:
    task_policy = next(p for _, p in r if p["metadata"]["name"] == "xc-tasks-isolated")
    task_policy["spec"]["egress"] = [{}]


def _sidecar(r: Resources) -> None:
    pod(r)["initContainers"] = [copy.deepcopy(pod(r)["containers"][0]) | {"name": "engine"}]


def _docker(r: Resources) -> None:
    kind(r, "ConfigMap")["data"]["XC_RUNNER_ENGINE"] = "docker"


@pytest.mark.parametrize(
    ("breaks", "said"),
    [
        (_privileged, "allowPrivilegeEscalation must be false"),
        (_exec, "must grant exactly"),
        (_baseline, "enforce must be restricted"),
        (_open_tasks, "must deny all ingress and egress of the task Pods"),
        (_sidecar, "no engine sidecar"),
        (_docker, "XC_RUNNER_ENGINE: kubernetes"),
    ],
)
def test_each_rule_broken_is_reported(
    resources: Resources, breaks: Callable[[Resources], None], said: str
) -> None:
    broken = copy.deepcopy(resources)
    breaks(broken)
    assert any(said in error for error in pods_errors(broken)), list(pods_errors(broken))

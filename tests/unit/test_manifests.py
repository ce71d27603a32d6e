"""scripts/validate_manifests.py: the Kubernetes manifests pass, and broken ones do not."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from scripts.validate_manifests import MANIFESTS, errors, load


@pytest.fixture(scope="module")
def resources() -> list[tuple[str, dict[str, Any]]]:
    return load(sorted(MANIFESTS.glob("*.yaml")))


def kind(resources: list[tuple[str, dict[str, Any]]], name: str) -> dict[str, Any]:
    return next(r for _, r in resources if r["kind"] == name)


def pod(resources: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    spec: dict[str, Any] = kind(resources, "StatefulSet")["spec"]["template"]["spec"]
    return spec


def runner(sts: dict[str, Any]) -> dict[str, Any]:
    containers: list[dict[str, Any]] = sts["spec"]["template"]["spec"]["containers"]
    return containers[0]


def init(resources: list[tuple[str, dict[str, Any]]], name: str) -> dict[str, Any]:
    return next(c for c in pod(resources)["initContainers"] if c["name"] == name)


def drop_mount(container: dict[str, Any], volume: str) -> None:
    container["volumeMounts"] = [m for m in container["volumeMounts"] if m["name"] != volume]


def test_the_manifests_pass(resources: list[tuple[str, dict[str, Any]]]) -> None:
    kinds = {r["kind"] for _, r in resources}
    assert kinds >= {"StatefulSet", "Service", "ServiceMonitor", "Namespace", "NetworkPolicy"}
    assert list(errors(resources)) == []


@pytest.mark.parametrize(
    ("break_it", "expected"),
    [
        (
            lambda r: kind(r, "StatefulSet")["spec"]["template"]["spec"].update(
                terminationGracePeriodSeconds=40
            ),
            "must be at least the drain (25 s) + 20 s",
        ),
        (
            lambda r: kind(r, "ConfigMap")["data"].update(XC_RUNNER_DRAIN_TIMEOUT_S="50"),
            "must be at least the drain (50 s) + 20 s",
        ),
        (lambda r: kind(r, "StatefulSet")["spec"].update(replicas="2"), "is not of type"),
        (
            lambda r: kind(r, "StatefulSet")["spec"]["template"]["spec"].update(hostNetwork2=True),
            "'hostNetwork2' was unexpected",
        ),
        (
            lambda r: runner(kind(r, "StatefulSet"))["env"].append(
                {"name": "XC_SCENARIO_APIKEY", "value": "k"}
            ),
            "runner: the API key must not be an environment variable",
        ),
        (
            lambda r: kind(r, "ConfigMap")["data"].update(XC_SCENARIO_APIKEY="k"),
            "the API key must not be in the ConfigMap",
        ),
        (
            lambda r: drop_mount(runner(kind(r, "StatefulSet")), "apikey"),
            "XC_SCENARIO_APIKEY_FILE must name a file of a Secret volume",
        ),
        (
            lambda r: init(r, "engine").pop("livenessProbe"),
            "the engine sidecar needs a livenessProbe",
        ),
        (lambda r: init(r, "task-images").pop("resources"), "task-images needs resources"),
        (
            lambda r: runner(kind(r, "StatefulSet"))["resources"].pop("requests"),
            "runner needs resources",
        ),
        (lambda r: pod(r).pop("topologySpreadConstraints"), "spread over nodes"),
        (
            lambda r: drop_mount(init(r, "engine"), "task-secrets"),
            "XC_RUNNER_SECRETS_DIR must be in an emptyDir (medium Memory)",
        ),
        (
            lambda r: kind(r, "Namespace")["metadata"]["labels"].update(
                {"pod-security.kubernetes.io/enforce": "baseline"}
            ),
            "pod-security.kubernetes.io/enforce must be privileged",
        ),
        (
            lambda r: kind(r, "Service")["metadata"].pop("namespace"),
            "Service/xc-runner: must be in the namespace xc-runner",
        ),
        (
            lambda r: kind(r, "NetworkPolicy")["spec"]["ingress"][0]["ports"][0].update(port=80),
            "ingress must allow only TCP 9180 from the namespace monitoring",
        ),
        (
            lambda r: kind(r, "NetworkPolicy")["spec"]["ingress"][0].pop("from"),
            "ingress must allow only TCP 9180 from the namespace monitoring",
        ),
        (
            lambda r: kind(r, "NetworkPolicy")["spec"]["podSelector"].update(
                matchLabels={"app": "other"}
            ),
            "no NetworkPolicy selects the runner's pods",
        ),
        (lambda r: runner(kind(r, "StatefulSet"))["volumeMounts"].pop(0), "volume claim"),
        (
            lambda r: runner(kind(r, "StatefulSet"))["readinessProbe"]["httpGet"].update(path="/"),
            "readinessProbe must GET /readyz",
        ),
        (
            lambda r: kind(r, "ServiceMonitor")["spec"]["endpoints"][0].update(port="web"),
            "not a port of the Service",
        ),
        (
            lambda r: kind(r, "ServiceMonitor")["spec"]["selector"].update(
                matchLabels={"app": "other"}
            ),
            "selects none of the Services",
        ),
        (
            lambda r: kind(r, "ServiceMonitor")["metadata"].update(label={}),
            "'label' was unexpected",
        ),
    ],
)
def test_a_broken_manifest_is_reported(
    resources: list[tuple[str, dict[str, Any]]], break_it: Any, expected: str
) -> None:
    broken = copy.deepcopy(resources)
    break_it(broken)
    found = list(errors(broken))
    assert any(expected in e for e in found), found

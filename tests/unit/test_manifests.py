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


def runner(sts: dict[str, Any]) -> dict[str, Any]:
    containers: list[dict[str, Any]] = sts["spec"]["template"]["spec"]["containers"]
    return containers[0]


def test_the_manifests_pass(resources: list[tuple[str, dict[str, Any]]]) -> None:
    assert {r["kind"] for _, r in resources} >= {"StatefulSet", "Service", "ServiceMonitor"}
    assert list(errors(resources)) == []


@pytest.mark.parametrize(
    ("break_it", "expected"),
    [
        (
            lambda r: kind(r, "StatefulSet")["spec"]["template"]["spec"].update(
                terminationGracePeriodSeconds=40
            ),
            "must exceed the drain",
        ),
        (
            lambda r: kind(r, "ConfigMap")["data"].update(XC_RUNNER_DRAIN_TIMEOUT_S="50"),
            "must exceed the drain",
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
            "must come from a Secret",
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

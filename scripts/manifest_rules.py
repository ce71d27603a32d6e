"""The rules that tie the runner's Kubernetes manifests together, beyond their schemas
(scripts/validate_manifests.py runs them): each yields one line per problem."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

from scripts.swarm_stack import STOP_MARGIN_S

OPS_PORT = 9180
STATE_DIR = "/var/lib/xc-runner/state"
MONITORING_NAMESPACE = "monitoring"
# Kinds that live in no namespace.
CLUSTER_KINDS = {"Namespace"}

Resource = dict[str, Any]


def env_of(container: Resource, config: dict[str, str]) -> dict[str, str]:
    """A container's plain environment: the ConfigMap (envFrom), then its own `env`."""
    found = dict(config) if container.get("envFrom") else {}
    found.update({e["name"]: str(e.get("value", "<from>")) for e in container.get("env", [])})
    return found


def pod_spec(sts: Resource) -> Resource:
    spec: Resource = sts["spec"]["template"]["spec"]
    return spec


def named(containers: list[Resource], name: str) -> Resource | None:
    return next((c for c in containers if c["name"] == name), None)


def grace_errors(where: str, pod: Resource, config: dict[str, str]) -> Iterator[str]:
    drain_s = float(config.get("XC_RUNNER_DRAIN_TIMEOUT_S", "25"))
    grace_s = pod.get("terminationGracePeriodSeconds", 30)
    if grace_s < drain_s + STOP_MARGIN_S:
        yield (
            f"{where}: terminationGracePeriodSeconds {grace_s} must be at least the drain "
            f"({drain_s:g} s) + {STOP_MARGIN_S} s"
        )


def key_errors(where: str, pod: Resource, config: dict[str, str]) -> Iterator[str]:
    """The API key from a Secret's volume, through XC_SCENARIO_APIKEY_FILE; never in an
    environment variable."""
    runner = named(pod["containers"], "runner") or {}
    for container in pod["containers"] + pod.get("initContainers", []):
        if any(e["name"] == "XC_SCENARIO_APIKEY" for e in container.get("env", [])):
            yield f"{where}: {container['name']}: the API key must not be an environment variable"
    if "XC_SCENARIO_APIKEY" in config:
        yield f"{where}: the API key must not be in the ConfigMap"
    path = env_of(runner, config).get("XC_SCENARIO_APIKEY_FILE", "")
    secrets = {v["name"] for v in pod.get("volumes", []) if "secret" in v}
    mounts = [m for m in runner.get("volumeMounts", []) if m["name"] in secrets]
    if not any(path.startswith(m["mountPath"].rstrip("/") + "/") for m in mounts):
        yield (
            f"{where}: XC_SCENARIO_APIKEY_FILE must name a file of a Secret volume "
            "mounted in the runner"
        )


def probe_errors(where: str, pod: Resource) -> Iterator[str]:
    runner = named(pod["containers"], "runner") or {}
    ports = {p.get("name"): p["containerPort"] for p in runner.get("ports", [])}
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        http = runner.get(probe, {}).get("httpGet", {})
        if http.get("path") != path or ports.get(http.get("port")) != OPS_PORT:
            yield f"{where}: {probe} must GET {path} on the ops port {OPS_PORT}"


def sidecar_errors(where: str, pod: Resource) -> Iterator[str]:
    engine = named(pod.get("initContainers", []), "engine")
    if engine is None or engine.get("restartPolicy") != "Always":
        yield f"{where}: the engine must be a sidecar (an init container, restartPolicy Always)"
    elif "livenessProbe" not in engine:
        yield f"{where}: the engine sidecar needs a livenessProbe (a hung engine is restarted)"


def resource_errors(where: str, pod: Resource) -> Iterator[str]:
    for container in pod["containers"] + pod.get("initContainers", []):
        resources = container.get("resources", {})
        requests, limits = resources.get("requests", {}), resources.get("limits", {})
        if not {"cpu", "memory"} <= set(requests) or "memory" not in limits:
            yield (
                f"{where}: {container['name']} needs resources: requests of cpu and memory, "
                "a limit of memory"
            )


def spread_errors(where: str, pod: Resource, labels: dict[str, str]) -> Iterator[str]:
    spread = [
        c
        for c in pod.get("topologySpreadConstraints", [])
        if c.get("topologyKey") == "kubernetes.io/hostname"
        and c.get("labelSelector", {}).get("matchLabels", {}).items() <= labels.items()
        and c.get("labelSelector", {}).get("matchLabels")
    ]
    if not spread:
        yield f"{where}: the runners must be spread over nodes (topologySpreadConstraints)"


def secrets_dir_errors(where: str, pod: Resource, config: dict[str, str]) -> Iterator[str]:
    """XC_RUNNER_SECRETS_DIR on an in-memory emptyDir that the runner and the engine mount
    at the same path (the engine bind-mounts task secrets from it)."""
    runner = named(pod["containers"], "runner") or {}
    engine = named(pod.get("initContainers", []), "engine") or {}
    folder = env_of(runner, config).get("XC_RUNNER_SECRETS_DIR", "")
    memory = {
        v["name"] for v in pod.get("volumes", []) if v.get("emptyDir", {}).get("medium") == "Memory"
    }

    def mount(container: Resource) -> tuple[str, str] | None:
        for m in container.get("volumeMounts", []):
            if m["name"] in memory and folder.startswith(m["mountPath"].rstrip("/") + "/"):
                return m["name"], m["mountPath"]
        return None

    if not folder or mount(runner) is None or mount(runner) != mount(engine):
        yield (
            f"{where}: XC_RUNNER_SECRETS_DIR must be in an emptyDir (medium Memory) that the "
            "runner and the engine mount at the same path"
        )


def statefulset_errors(where: str, sts: Resource, config: dict[str, str]) -> Iterator[str]:
    pod = pod_spec(sts)
    runner = named(pod["containers"], "runner")
    if runner is None:
        yield f"{where}: no container named runner"
        return
    yield from grace_errors(where, pod, config)
    yield from key_errors(where, pod, config)
    claims = {t["metadata"]["name"] for t in sts["spec"].get("volumeClaimTemplates", [])}
    mounts = {m["mountPath"]: m["name"] for m in runner.get("volumeMounts", [])}
    if mounts.get(STATE_DIR) not in claims:
        yield f"{where}: {STATE_DIR} must be a volume claim of the StatefulSet"
    yield from probe_errors(where, pod)
    yield from sidecar_errors(where, pod)
    yield from resource_errors(where, pod)
    yield from spread_errors(where, pod, sts["spec"]["template"]["metadata"].get("labels", {}))
    yield from secrets_dir_errors(where, pod, config)


def namespace_errors(resources: list[tuple[str, Resource]]) -> Iterator[str]:
    """One Namespace, whose Pod Security admits the privileged engine, holds the rest."""
    namespaces = [r for _, r in resources if r["kind"] == "Namespace"]
    if len(namespaces) != 1:
        yield "the manifests must have one Namespace (with its Pod Security label)"
        return
    namespace = namespaces[0]["metadata"]
    if namespace.get("labels", {}).get("pod-security.kubernetes.io/enforce") != "privileged":
        yield (
            f"Namespace/{namespace['name']}: pod-security.kubernetes.io/enforce must be "
            "privileged: the engine sidecar is a privileged container"
        )
    for where, resource in resources:
        inside = resource["metadata"].get("namespace") == namespace["name"]
        if resource["kind"] not in CLUSTER_KINDS and not inside:
            yield f"{where}: must be in the namespace {namespace['name']}"


def network_policy_errors(resources: list[tuple[str, Resource]]) -> Iterator[str]:
    """The ops port (no key) only from the monitoring namespace; nothing else in."""
    pods = [
        r["spec"]["template"]["metadata"].get("labels", {})
        for _, r in resources
        if r["kind"] == "StatefulSet"
    ]
    policies = [
        (where, r)
        for where, r in resources
        if r["kind"] == "NetworkPolicy"
        and any(r["spec"]["podSelector"].get("matchLabels", {}).items() <= p.items() for p in pods)
    ]
    if not policies:
        yield "no NetworkPolicy selects the runner's pods (the ops port has no key)"
    for where, policy in policies:
        if "Ingress" not in policy["spec"].get("policyTypes", []):
            yield f"{where}: policyTypes must include Ingress"
        for rule in policy["spec"].get("ingress", []):
            ports = [(p.get("protocol", "TCP"), p.get("port")) for p in rule.get("ports", [])]
            sources = [
                s.get("namespaceSelector", {}).get("matchLabels") for s in rule.get("from", [])
            ]
            wanted = {"kubernetes.io/metadata.name": MONITORING_NAMESPACE}
            if ports != [("TCP", OPS_PORT)] or not sources or any(s != wanted for s in sources):
                yield (
                    f"{where}: ingress must allow only TCP {OPS_PORT} from the namespace "
                    f"{MONITORING_NAMESPACE}"
                )


if __name__ == "__main__":
    from scripts.scripthelp import part_of

    sys.exit(part_of(__doc__, "python -m scripts.validate_manifests"))

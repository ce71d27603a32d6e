"""The rules of the variant of deploy/kubernetes/pods/ (each task a Pod, no engine sidecar),
beyond the schemas (scripts/validate_manifests.py runs them): one Namespace enforcing the
`restricted` Pod Security Standard holds everything; the runner's Role grants exactly the
verbs its Kubernetes engine uses; the runner's Pods meet the restricted standard; and a
NetworkPolicy isolates every task Pod. Each yields one line per problem."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from scripts.manifest_rules import (
    CLUSTER_KINDS,
    grace_errors,
    key_errors,
    pod_spec,
    probe_errors,
    resource_errors,
)

Resource = dict[str, Any]
# What runner.engine.kubernetes_engine and kube_pods ask of the API server, by resource.
ENGINE_VERBS = {
    "pods": {"create", "get", "list", "watch", "delete"},
    "pods/attach": {"create", "get"},
    "pods/log": {"get"},
    "secrets": {"create", "list", "delete"},
}
RUNNER_LABEL = "xc-scenario.runner-id"


def _namespace_errors(resources: list[tuple[str, Resource]]) -> Iterator[str]:
    namespaces = [r for _, r in resources if r["kind"] == "Namespace"]
    if len(namespaces) != 1:
        yield "pods/: the manifests must have one Namespace (with its Pod Security label)"
        return
    meta = namespaces[0]["metadata"]
    if meta.get("labels", {}).get("pod-security.kubernetes.io/enforce") != "restricted":
        yield f"Namespace/{meta['name']}: pod-security.kubernetes.io/enforce must be restricted"
    for where, resource in resources:
        if (
            resource["kind"] not in CLUSTER_KINDS
            and resource["metadata"].get("namespace") != (meta["name"])
        ):
            yield f"{where}: must be in the namespace {meta['name']}"


def _role_errors(resources: list[tuple[str, Resource]]) -> Iterator[str]:
    roles = [(w, r) for w, r in resources if r["kind"] == "Role"]
    if len(roles) != 1:
        yield "pods/: one Role (the runner's) is expected"
        return
    where, role = roles[0]
    granted: dict[str, set[str]] = {}
    for rule in role.get("rules", []):
        if rule.get("apiGroups") != [""]:
            yield f"{where}: only the core API group is needed, not {rule.get('apiGroups')}"
        for resource in rule.get("resources", []):
            granted.setdefault(resource, set()).update(rule.get("verbs", []))
    if granted != ENGINE_VERBS:
        yield f"{where}: must grant exactly {ENGINE_VERBS}, not {granted}"


def _restricted_errors(where: str, pod: Resource) -> Iterator[str]:
    security = pod.get("securityContext", {})
    if security.get("runAsNonRoot") is not True:
        yield f"{where}: runAsNonRoot must be true (restricted)"
    if security.get("seccompProfile", {}).get("type") != "RuntimeDefault":
        yield f"{where}: seccompProfile must be RuntimeDefault (restricted)"
    if any(pod.get(h) for h in ("hostNetwork", "hostPID", "hostIPC")):
        yield f"{where}: no host namespaces (restricted)"
    for container in pod.get("containers", []) + pod.get("initContainers", []):
        context = container.get("securityContext", {})
        if context.get("privileged") or context.get("allowPrivilegeEscalation") is not False:
            yield f"{where}: {container['name']}: allowPrivilegeEscalation must be false"
        if context.get("capabilities", {}).get("drop") != ["ALL"]:
            yield f"{where}: {container['name']}: capabilities must drop ALL"


def _task_policy_errors(resources: list[tuple[str, Resource]]) -> Iterator[str]:
    for where, policy in resources:
        if policy["kind"] != "NetworkPolicy":
            continue
        wanted = {"key": RUNNER_LABEL, "operator": "Exists"}
        if policy["spec"]["podSelector"].get("matchExpressions") == [wanted]:
            spec = policy["spec"]
            if set(spec.get("policyTypes", [])) != {"Ingress", "Egress"} or (
                spec.get("ingress") or spec.get("egress")
            ):
                yield f"{where}: must deny all ingress and egress of the task Pods"
            return
    yield f"pods/: no NetworkPolicy selects the task Pods (label {RUNNER_LABEL})"


def pods_variant_errors(resources: list[tuple[str, Resource]]) -> Iterator[str]:
    config: dict[str, str] = {}
    for _, r in resources:
        if r["kind"] == "ConfigMap":
            config.update(r.get("data", {}))
    if config.get("XC_RUNNER_ENGINE") != "kubernetes":
        yield "pods/: the ConfigMap must set XC_RUNNER_ENGINE: kubernetes"
    yield from _namespace_errors(resources)
    yield from _role_errors(resources)
    yield from _task_policy_errors(resources)
    for where, sts in resources:
        if sts["kind"] == "StatefulSet":
            pod = pod_spec(sts)
            yield from _restricted_errors(where, pod)
            yield from grace_errors(where, pod, config)
            yield from key_errors(where, pod, config)
            yield from resource_errors(where, pod)
            # The runner's probes, as in the sidecar variant; and no engine beside it.
            yield from probe_errors(where, pod)
            if pod.get("initContainers"):
                yield f"{where}: no engine sidecar nor init container in this variant"


if __name__ == "__main__":
    import sys

    from scripts.scripthelp import part_of

    sys.exit(part_of(__doc__, "make lint"))

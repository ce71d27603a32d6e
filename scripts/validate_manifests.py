"""Check the Kubernetes manifests of deploy/kubernetes/ offline (part of `make lint`).

    python -m scripts.validate_manifests [FILE ...]

- Every resource of a built-in kind is validated against the Kubernetes OpenAPI
  schemas that kubernetes-validate bundles, strictly (an unknown field is an
  error), for the oldest Kubernetes the manifests need and the newest bundled.
- The ServiceMonitor is a custom resource: its schema comes with the Prometheus
  Operator, not with Kubernetes. Its metadata (ObjectMeta) and selector
  (LabelSelector) are validated against the Kubernetes schemas, and it must
  select the runner's Service and name one of its ports; the rest of its spec
  is not checked against a schema.
- The rules that tie the runner's manifests together (scripts/manifest_rules.py):
  a grace period of at least the drain + 20 s, the API key from a Secret's volume
  (never an environment variable), the state on a volume claim, probes on the
  operations listener, a liveness probe on the engine sidecar, resources on every
  container, the runners spread over nodes, the task secrets' shared in-memory
  volume, one Namespace whose Pod Security admits the privileged engine and holds
  everything else, and a NetworkPolicy that lets only the monitoring namespace
  reach the ops port.
- The variant of deploy/kubernetes/pods/ (each task a Pod, no engine sidecar): its
  schemas and its own rules (scripts/manifest_rules_pods.py).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import kubernetes_validate
import yaml

from scripts.manifest_rules import namespace_errors, network_policy_errors, statefulset_errors
from scripts.manifest_rules_pods import pods_variant_errors

ROOT = Path(__file__).resolve().parent.parent
MANIFESTS = ROOT / "deploy" / "kubernetes"
# The variant with each task a Pod and no engine sidecar (scripts/manifest_rules_pods.py).
POD_MANIFESTS = MANIFESTS / "pods"
OLDEST = "1.29.0"  # sidecar containers (initContainers with restartPolicy: Always)
CUSTOM_KINDS = {("monitoring.coreos.com/v1", "ServiceMonitor")}

Resource = dict[str, Any]


def load(paths: Sequence[Path]) -> list[tuple[str, Resource]]:
    found = []
    for path in paths:
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                found.append((f"{path.name}: {doc.get('kind')}/{doc['metadata']['name']}", doc))
    return found


def schema_errors(where: str, resource: Resource) -> Iterator[str]:
    for version in (OLDEST, kubernetes_validate.latest_version()):
        try:
            kubernetes_validate.validate(resource, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = ".".join(str(p) for p in exc.path)
            yield f"{where}: Kubernetes {version}: {path}: {exc.message}"
        except kubernetes_validate.SchemaNotFoundError as exc:
            yield f"{where}: {exc.message}"


def monitor_errors(where: str, monitor: Resource, services: list[Resource]) -> Iterator[str]:
    # ObjectMeta and LabelSelector, checked as the same fields of a built-in kind
    # that has both: a PodDisruptionBudget.
    stand_in = {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": monitor["metadata"],
        "spec": {"selector": monitor["spec"].get("selector", {})},
    }
    yield from schema_errors(where, stand_in)
    wanted = monitor["spec"].get("selector", {}).get("matchLabels", {})
    selected = [s for s in services if wanted.items() <= s["metadata"].get("labels", {}).items()]
    if not wanted or not selected:
        yield f"{where}: its selector {wanted} selects none of the Services"
    ports = {p.get("name") for s in selected for p in s["spec"].get("ports", [])}
    for endpoint in monitor["spec"].get("endpoints", []):
        if endpoint.get("port") not in ports:
            yield f"{where}: endpoint port {endpoint.get('port')!r} is not a port of the Service"
        if not str(endpoint.get("path", "/metrics")).startswith("/"):
            yield f"{where}: endpoint path must start with /"


def pods_errors(resources: list[tuple[str, Resource]]) -> Iterator[str]:
    """The variant of deploy/kubernetes/pods/: its schemas and its own rules."""
    for where, resource in resources:
        yield from schema_errors(where, resource)
    yield from pods_variant_errors(resources)


def errors(resources: list[tuple[str, Resource]]) -> Iterator[str]:
    services = [r for _, r in resources if r["kind"] == "Service"]
    config: dict[str, str] = {}
    for _, r in resources:
        if r["kind"] == "ConfigMap":
            config.update(r.get("data", {}))
    for where, resource in resources:
        if (resource["apiVersion"], resource["kind"]) in CUSTOM_KINDS:
            yield from monitor_errors(where, resource, services)
            continue
        yield from schema_errors(where, resource)
        if resource["kind"] == "StatefulSet":
            yield from statefulset_errors(where, resource, config)
    yield from namespace_errors(resources)
    yield from network_policy_errors(resources)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.validate_manifests",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("paths", nargs="*", metavar="FILE", type=Path, help="default: all")
    paths: list[Path] = parser.parse_args(argv).paths
    pods = [p for p in paths if p.resolve().parent == POD_MANIFESTS]
    if not paths:
        paths, pods = sorted(MANIFESTS.glob("*.yaml")), sorted(POD_MANIFESTS.glob("*.yaml"))
    resources = load([p for p in paths if p not in pods])
    variant = [(f"pods/{where}", resource) for where, resource in load(pods)]
    found = (list(errors(resources)) if resources else []) + (
        list(pods_errors(variant)) if variant else []
    )
    resources = resources + variant
    for error in found:
        sys.stderr.write(f"{error}\n")
    sys.stdout.write(
        f"{len(resources)} Kubernetes resource(s) checked against the schemas of "
        f"{OLDEST} and {kubernetes_validate.latest_version()}: {len(found)} error(s)\n"
    )
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())

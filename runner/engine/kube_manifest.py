"""A task's Pod as Kubernetes objects, and what a Pod's status says: pure logic, no client.

The Pod holds the task policy as Kubernetes expresses it: the restricted security
context (non-root user, read-only root, no capabilities, no privilege escalation, the
runtime's default seccomp profile), no service-account token, no host namespaces, no
service links, `/tmp` an in-memory volume, memory and CPU limits, the secrets as a
Secret mounted at /run/secrets, `restartPolicy: Never`, stdin open once. What a Pod
cannot hold (a process limit, open files, no network) is the cluster's:
docs/running/kubernetes.md says what the operator sets instead.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from runner.core.secrets import SECRETS_MOUNT
from runner.engine.interface import ContainerSpec, ExitInfo

CONTAINER = "task"
# Kubernetes' image pull policy for each of the runner's pull policies.
PULL_POLICIES = {"missing": "IfNotPresent", "always": "Always", "never": "Never"}
# A Pod's CPU request is this share of its limit: idle warm Pods hold their requests, so
# full requests would keep a node's CPUs reserved for tasks not yet there. Memory is
# requested in full: it cannot be taken back from a Pod without killing it.
CPU_REQUEST_SHARE = 0.1
_LABEL_VALUE = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?)?", re.ASCII)
# Container states of a Pod that will not start: the image cannot be had or used.
IMAGE_MISSING = frozenset({"ErrImageNeverPull", "ErrImagePull", "ImagePullBackOff"})
IMAGE_UNUSABLE = frozenset(
    {"InvalidImageName", "CreateContainerConfigError", "CreateContainerError", "RunContainerError"}
)


def label_value(text: str) -> str:
    """`text` if Kubernetes takes it as a label value, else a readable part of it and a
    hash (the exact value is in the annotation of the same key)."""
    if len(text) <= 63 and _LABEL_VALUE.fullmatch(text):
        return text
    readable = re.sub(r"[^A-Za-z0-9_.-]+", "-", text)[:46].strip("-_.")
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    return f"{readable}-{digest}" if readable else digest


def selector(labels: Mapping[str, str]) -> str:
    return ",".join(f"{key}={label_value(value)}" for key, value in sorted(labels.items()))


@dataclass(frozen=True)
class Owner:
    """The runner's own Pod, when it has one in the tasks' namespace: its task Pods are
    garbage-collected with it."""

    name: str
    uid: str

    def reference(self) -> list[dict[str, Any]]:
        return [{"apiVersion": "v1", "kind": "Pod", "name": self.name, "uid": self.uid}]


def _metadata(name: str, labels: Mapping[str, str], owner: Owner | None) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "name": name,
        "labels": {key: label_value(value) for key, value in labels.items()},
        "annotations": dict(labels),
    }
    if owner is not None:
        meta["ownerReferences"] = owner.reference()
    return meta


def _user(user: str) -> dict[str, Any]:
    """runAsUser and runAsGroup from `uid[:gid]`; a name cannot be checked as non-root."""
    uid, _, gid = user.partition(":")
    if not uid.isdigit() or (gid and not gid.isdigit()):
        raise ValueError(f"the task user must be numeric on Kubernetes (uid:gid), not {user!r}")
    if int(uid) == 0:
        raise ValueError("the task user may not be root (0) on Kubernetes")
    ids = {"runAsUser": int(uid)}
    if gid:
        ids["runAsGroup"] = int(gid)
    return ids


def _resources(spec: ContainerSpec) -> dict[str, Any]:
    limits = spec.limits
    cpu_m = max(1, round(limits.cpus * 1000))
    return {
        "limits": {"memory": str(limits.memory_bytes), "cpu": f"{cpu_m}m"},
        "requests": {
            "memory": str(limits.memory_bytes),
            "cpu": f"{max(1, round(cpu_m * CPU_REQUEST_SHARE))}m",
        },
    }


def _container(spec: ContainerSpec, pull_policy: str, stdin: bool) -> dict[str, Any]:
    container: dict[str, Any] = {
        "name": CONTAINER,
        "image": spec.image,
        "imagePullPolicy": pull_policy,
        "stdin": stdin,
        "stdinOnce": stdin,
        "tty": False,
        "env": [{"name": name, "value": value} for name, value in spec.env.variables],
        "resources": _resources(spec),
        "securityContext": {
            "runAsNonRoot": True,
            **_user(spec.limits.user),
            "readOnlyRootFilesystem": True,
            "allowPrivilegeEscalation": False,
            "privileged": False,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],  # noqa: S108 -- in the Pod
        "terminationMessagePolicy": "FallbackToLogsOnError",
    }
    if spec.command is not None:
        container["args"] = list(spec.command)  # the image's entrypoint stays, as on Docker
    return container


def _volumes(
    spec: ContainerSpec, container: dict[str, Any], secret: str | None
) -> list[dict[str, Any]]:
    """The in-memory volume of the task's temporary files, and its Secret if it has one
    (mounted in `container` at /run/secrets)."""
    tmp = {"medium": "Memory", "sizeLimit": str(spec.limits.tmpfs_bytes)}
    volumes: list[dict[str, Any]] = [{"name": "tmp", "emptyDir": tmp}]
    if secret is not None:
        volumes.append({"name": "secrets", "secret": {"secretName": secret, "defaultMode": 0o444}})
        container["volumeMounts"].append(
            {"name": "secrets", "mountPath": SECRETS_MOUNT, "readOnly": True}
        )
    return volumes


def pod_manifest(
    spec: ContainerSpec,
    *,
    name: str,
    pull_policy: str,
    owner: Owner | None = None,
    secret: str | None = None,
    stdin: bool = True,
    grace_s: float = 5.0,
) -> dict[str, Any]:
    """The Pod of one task (or of a catalog read, `stdin=False`)."""
    container = _container(spec, pull_policy, stdin)
    volumes = _volumes(spec, container, secret)
    pod: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": _metadata(name, spec.labels, owner),
        "spec": {
            "containers": [container],
            "volumes": volumes,
            "restartPolicy": "Never",
            "automountServiceAccountToken": False,
            "enableServiceLinks": False,
            "hostNetwork": False,
            "hostPID": False,
            "hostIPC": False,
            # The pause container is PID 1 and reaps the task's zombies (Docker's --init).
            "shareProcessNamespace": True,
            "terminationGracePeriodSeconds": max(1, round(grace_s)),
            "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
        },
    }
    if spec.limits.runtime:
        pod["spec"]["runtimeClassName"] = spec.limits.runtime
    if spec.limits.network == "none":
        # No name server but the Pod's own loopback: nothing to resolve names with, nor to
        # leak them to, even where the network is not closed by a NetworkPolicy.
        pod["spec"]["dnsPolicy"] = "None"
        pod["spec"]["dnsConfig"] = {"nameservers": ["127.0.0.1"]}
    return pod


def secret_manifest(
    name: str, files: tuple[tuple[str, bytes], ...], labels: Mapping[str, str], owner: Owner | None
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": _metadata(name, labels, owner),
        "immutable": True,
        "data": {key: base64.b64encode(content).decode("ascii") for key, content in files},
    }


@dataclass(frozen=True)
class PodState:
    """Where a Pod is on its way: running, ended (its exit), or stuck (why)."""

    running: bool = False
    exit: ExitInfo | None = None
    stuck: str | None = None  # a container state the Pod will not leave by itself
    image_missing: bool = False


def _task_status(pod: Mapping[str, Any]) -> Mapping[str, Any]:
    for status in (pod.get("status") or {}).get("containerStatuses") or ():
        if status.get("name") == CONTAINER:
            found: Mapping[str, Any] = status
            return found
    return {}


def pod_state(pod: Mapping[str, Any]) -> PodState:
    """What the Pod's status says of its task container."""
    state = _task_status(pod).get("state") or {}
    if "terminated" in state:
        ended = state["terminated"] or {}
        code = ended.get("exitCode")
        return PodState(
            exit=ExitInfo(
                exit_code=int(code) if code is not None else -1,
                oom_killed=ended.get("reason") == "OOMKilled",
            )
        )
    if "running" in state:
        return PodState(running=True)
    waiting = state.get("waiting") or {}
    reason = str(waiting.get("reason") or "")
    if reason in IMAGE_MISSING or reason in IMAGE_UNUSABLE:
        message = str(waiting.get("message") or "").strip()
        return PodState(
            stuck=f"{reason}: {message}" if message else reason,
            image_missing=reason in IMAGE_MISSING,
        )
    phase = (pod.get("status") or {}).get("phase")
    if phase in ("Failed", "Succeeded"):
        reason = (pod.get("status") or {}).get("reason") or phase
        return PodState(exit=ExitInfo(exit_code=-1), stuck=str(reason))
    return PodState()


def pending_reason(pod: Mapping[str, Any]) -> str:
    """Why a Pod is not running yet, in words (for a launch that gives up)."""
    status = pod.get("status") or {}
    for condition in status.get("conditions") or ():
        if condition.get("status") == "False" and condition.get("message"):
            return f"{condition.get('reason') or condition.get('type')}: {condition['message']}"
    waiting = (_task_status(pod).get("state") or {}).get("waiting") or {}
    return str(waiting.get("reason") or status.get("phase") or "not scheduled yet")

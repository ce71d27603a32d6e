"""The container engine on Kubernetes: each task a Pod. With runner.engine.kube_client (the
cluster's configuration, the attach sessions), the only module that imports the Kubernetes
client (and urllib3).

The cluster is found as kubectl finds it: in a Pod, its service account; elsewhere
KUBECONFIG (or ~/.kube/config) and its current context. The client's and the
transport's exceptions become EngineError (ImageFault for a Pod the cluster refuses as
invalid, ImageMissing for an image it cannot pull) here, once. A Pod's manifest and
what its status says are runner.engine.kube_manifest's; its streams are
runner.engine.kube_stream's; a Pod's life and the catalog read from a Pod are
runner.engine.kube_pods'.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import kubernetes.client
import kubernetes.watch
import urllib3
from kubernetes.client.exceptions import ApiException

from runner.core.errors import EngineError, ImageFault, in_words
from runner.engine.interface import ContainerSpec
from runner.engine.kube_client import Attacher, AttachError, load_cluster
from runner.engine.kube_manifest import (
    CONTAINER,
    PULL_POLICIES,
    Owner,
    PodState,
    pending_reason,
    pod_state,
    selector,
)
from runner.engine.kube_pods import KubePod, launch, read_catalog
from runner.engine.kube_stream import Channels
from runner.engine.remover import Orphans

log = logging.getLogger(__name__)

# The client's modules, untyped here: its generated models are not used (requests and
# answers are plain JSON).
client: Any = kubernetes.client
watch: Any = kubernetes.watch

_PING_TIMEOUT_S = 3.0
_ERRORS = (ApiException, urllib3.exceptions.HTTPError, AttachError, OSError)


def _message(exc: BaseException) -> str:
    """What the API server said (its Status' message), else the error in words."""
    if isinstance(exc, ApiException):
        with contextlib.suppress(ValueError, TypeError, AttributeError):
            said = json.loads(exc.body or "").get("message")
            if said:
                return str(said)
        return f"{exc.status} {exc.reason}".strip()
    return in_words(exc)


class KubernetesEngine:
    def __init__(
        self,
        namespace: str | None = None,
        *,
        runner_id: str = "",
        pull_policies: Mapping[str, str] | None = None,
        timeout_s: float = 30.0,
        pool_size: int = 16,
    ) -> None:
        # A launch holds a connection while it watches its Pod start: `pool_size` of them.
        self._client, self.namespace, in_cluster = load_cluster(namespace, pool_size)
        self._api: Any = client.CoreV1Api(self._client)
        self._attacher = Attacher(self._client.configuration, self.namespace)
        self._timeout = (5.0, timeout_s)
        self._pull = dict(pull_policies or {})
        self.runner_id = runner_id
        self._suspect = threading.Event()
        self._orphans = Orphans(
            "the Kubernetes API server does not delete Pods",
            "every Pod the API server did not delete is deleted now",
        )
        with self.call(f"cannot reach the Kubernetes API server at {self.host}"):
            client.VersionApi(self._client).get_code(_request_timeout=self._timeout)
        self.owner = self._own_pod() if in_cluster else None

    @property
    def host(self) -> str:
        return str(self._client.configuration.host)

    def close(self) -> None:
        self._attacher.close()
        self._client.close()

    @contextlib.contextmanager
    def call(self, what: str, refused: type[EngineError] = ImageFault) -> Iterator[None]:
        """Around an API request: its errors become EngineError naming `what` (`refused`
        for an object the cluster finds invalid: ImageFault, unless the request is not about
        an image); a failed transport means the API server is checked at once."""
        try:
            yield
        except ApiException as exc:
            if exc.status in (400, 422):
                raise refused(f"{what}: the cluster refused it: {_message(exc)}") from None
            if exc.status in (0, None) or exc.status >= 500:
                self._suspect.set()
            raise EngineError(f"{what}: {_message(exc)}") from None
        except _ERRORS as exc:
            self._suspect.set()
            raise EngineError(f"{what}: {in_words(exc)}") from None

    def _own_pod(self) -> Owner | None:
        """The runner's own Pod (HOSTNAME is its name), if it is in the tasks' namespace."""
        name = os.environ.get("HOSTNAME", "")
        try:
            pod = self.read_pod(name) if name else None
        except EngineError as exc:
            log.info("task Pods have no owner (%s): they are removed by the runner alone", exc)
            return None
        if pod is None:
            return None
        return Owner(name, str(pod["metadata"]["uid"]))

    def ping(self) -> None:
        self._suspect.clear()
        try:
            client.VersionApi(self._client).get_code(_request_timeout=_PING_TIMEOUT_S)
        except _ERRORS as exc:
            raise EngineError(f"the API server does not answer: {_message(exc)}") from exc
        for name in self._orphans.pending():
            self.delete(name)

    def wait_suspect(self, timeout_s: float) -> bool:
        return self._suspect.wait(timeout_s)

    def runtimes(self) -> set[str]:
        """The cluster's RuntimeClasses (what a task policy's runtime names on Kubernetes)."""
        with self.call("cannot list the cluster's RuntimeClasses"):
            found = client.NodeV1Api(self._client).list_runtime_class(
                _request_timeout=self._timeout
            )
        return {item.metadata.name for item in found.items}

    def follow_image_events(self) -> None:
        """Nothing to follow: an image is known by its name, which the nodes resolve."""

    def image_id(self, image: str) -> str:
        """The image as the cluster's nodes resolve it: its name (the kubelet pulls it)."""
        return image

    def image_digests(self, image: str) -> list[str]:
        return []

    def image_labels(self, image: str) -> Mapping[str, str]:
        """The catalog label, from a Pod of the image that prints its catalog (the cluster
        cannot show an image's labels)."""
        return read_catalog(self, image)

    def pod_name(self) -> str:
        """A new Pod's name: unique in its first 12 characters, as the logs show it (the
        runner id is its label)."""
        return f"xc-{uuid.uuid4().hex[:16]}"

    def pull_policy(self, image: str) -> str:
        return PULL_POLICIES.get(self._pull.get(image, "missing"), "IfNotPresent")

    def read_pod(self, name: str) -> dict[str, Any] | None:
        """The Pod as the API server has it now, or None if it is gone."""
        with self.call(f"cannot read pod {name}", refused=EngineError):
            try:
                response = self._api.read_namespaced_pod(
                    name, self.namespace, _preload_content=False, _request_timeout=self._timeout
                )
            except ApiException as exc:
                if exc.status == 404:
                    return None
                raise
            found: dict[str, Any] = json.loads(response.data)  # its body read inside too
        return found

    def create(self, pod: dict[str, Any], secret: dict[str, Any] | None) -> str:
        """Create the Pod (after its Secret); its resourceVersion."""
        what = f"cannot create a Pod of {pod['spec']['containers'][0]['image']}"
        with self.call(what):
            if secret is not None:
                self._api.create_namespaced_secret(
                    self.namespace, secret, _request_timeout=self._timeout
                )
            response = self._api.create_namespaced_pod(
                self.namespace, pod, _preload_content=False, _request_timeout=self._timeout
            )
        created: dict[str, Any] = json.loads(response.data)
        return str(created["metadata"].get("resourceVersion") or "")

    def watch_until(
        self, name: str, version: str, done: Callable[[PodState], bool], timeout_s: float
    ) -> PodState:
        """Watch the Pod until `done(state)`; its last state (EngineError if it is deleted,
        or not done within `timeout_s`)."""
        last: dict[str, Any] = {}
        deadline = time.monotonic() + timeout_s
        while (remaining := deadline - time.monotonic()) > 0:
            events = watch.Watch().stream(
                self._api.list_namespaced_pod, self.namespace,
                field_selector=f"metadata.name={name}", resource_version=version or None,
                timeout_seconds=max(1, int(remaining)), deserialize=False,
                _request_timeout=(5.0, remaining + 5),
            )  # fmt: skip
            with self.call(f"cannot watch pod {name}"):
                for event in events:
                    if event["type"] == "DELETED":
                        raise EngineError(f"pod {name} was deleted by someone else")
                    if event["type"] == "ERROR":
                        version = ""  # the version is too old: from now on
                        break
                    last = event["object"]
                    version = str(last.get("metadata", {}).get("resourceVersion") or version)
                    if done(state := pod_state(last)):
                        return state
        raise EngineError(f"pod {name}: nothing after {timeout_s:g} s: {pending_reason(last)}")

    def mark_suspect(self) -> None:
        """A stream broke: the API server is checked at once."""
        self._suspect.set()

    def attach(self, name: str, *, stdin: bool) -> Channels:
        """An attach session: stdin alone, or stdout and stderr (runner.engine.kube_attach)."""
        with self.call(f"cannot attach to pod {name}"):
            return self._attacher.open(name, stdin=stdin)

    def log_tail(self, name: str, lines: int | None = 20) -> str:
        """The end of what the Pod wrote (stdout and stderr merged); "" if it cannot be read."""
        try:
            with self.call(f"cannot read the log of pod {name}"):
                response = self._api.read_namespaced_pod_log(
                    name, self.namespace, container=CONTAINER, tail_lines=lines or None,
                    _preload_content=False, _request_timeout=self._timeout,
                )  # fmt: skip
        except EngineError as exc:
            log.debug("%s", exc)
            return ""
        return bytes(response.data).decode("utf-8", errors="replace")

    def delete(self, name: str, grace_s: float = 0.0, *, secret: bool = True) -> None:
        """Delete the Pod (and its Secret, `secret`: if it may have one); again later if the
        API server does not answer or refuses. Never raises."""
        options = {"gracePeriodSeconds": max(0, round(grace_s)), "propagationPolicy": "Background"}
        removals = [self._api.delete_namespaced_pod]
        if secret:
            removals.append(self._api.delete_namespaced_secret)
        try:
            for remove in removals:
                try:
                    remove(name, self.namespace, body=options, _request_timeout=self._timeout)
                except ApiException as exc:
                    if exc.status != 404:  # gone already
                        raise
        except _ERRORS as exc:
            if not isinstance(exc, ApiException) or not exc.status or exc.status >= 500:
                self._suspect.set()
            self._orphans.failed(name, _message(exc))
            return
        self._orphans.removed(name)

    def remove_container(self, container_id: str) -> None:
        self.delete(container_id)

    def remove_labelled(self, labels: Mapping[str, str]) -> list[str]:
        """Delete every Pod (and Secret) carrying all these labels; the Pods' names."""
        found = selector(labels)
        with self.call("cannot list pods"):
            pods = self._api.list_namespaced_pod(
                self.namespace, label_selector=found, _request_timeout=self._timeout
            )
            secrets = self._api.list_namespaced_secret(
                self.namespace, label_selector=found, _request_timeout=self._timeout
            )
        names = [pod.metadata.name for pod in pods.items]
        for name in {*names, *(secret.metadata.name for secret in secrets.items)}:
            self.delete(name)
        return names

    def launch(self, spec: ContainerSpec) -> KubePod:
        return launch(self, spec)

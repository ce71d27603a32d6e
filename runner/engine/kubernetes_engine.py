"""The container engine on Kubernetes: each task a Pod. The only module that imports the
Kubernetes client (and its websocket and urllib3 transports).

The cluster is found as kubectl finds it: in a Pod, its service account; elsewhere
KUBECONFIG (or ~/.kube/config) and its current context. The client's and the
transport's exceptions become EngineError (ImageFault for a Pod the cluster refuses as
invalid, ImageMissing for an image it cannot pull) here, once. A Pod's manifest and
what its status says are runner.engine.kube_manifest's; its streams are
runner.engine.kube_stream's; the catalog read from a Pod is runner.engine.kube_catalog's.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import select
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import kubernetes.client
import kubernetes.config
import kubernetes.stream
import kubernetes.watch
import urllib3
import websocket
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from runner.core.errors import ConfigError, EngineError, ImageFault, in_words
from runner.engine.interface import ContainerSpec
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
from runner.engine.remover import Orphans

log = logging.getLogger(__name__)

# The client's modules, untyped here: its generated models are not used (requests and
# answers are plain JSON), and its configuration functions have no annotations.
client: Any = kubernetes.client
config: Any = kubernetes.config
watch: Any = kubernetes.watch
stream: Any = kubernetes.stream.stream

_PING_TIMEOUT_S = 3.0
_SOCKET_TIMEOUT_S = 30.0
_IN_CLUSTER_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
_ERRORS = (ApiException, urllib3.exceptions.HTTPError, websocket.WebSocketException, OSError)


def _message(exc: BaseException) -> str:
    """What the API server said (its Status' message), else the error in words."""
    if isinstance(exc, ApiException):
        with contextlib.suppress(ValueError, TypeError, AttributeError):
            said = json.loads(exc.body or "").get("message")
            if said:
                return str(said)
        return f"{exc.status} {exc.reason}".strip()
    return in_words(exc)


def _status(exc: BaseException) -> int | None:
    return exc.status if isinstance(exc, ApiException) else None


def load_cluster(namespace: str | None) -> tuple[Any, str, bool]:
    """The API client of the cluster kubectl would use, its namespace, and whether the runner
    runs in a Pod; ConfigError if there is none."""
    configuration = client.Configuration()
    try:
        config.load_incluster_config(client_configuration=configuration)
        in_cluster = True
        found = _IN_CLUSTER_NAMESPACE.read_text().strip() if _IN_CLUSTER_NAMESPACE.exists() else ""
    except ConfigException:
        in_cluster = False
        try:
            # KUBECONFIG as it is now (the client reads it once, when it is imported).
            files = os.environ.get("KUBECONFIG") or None
            config.load_kube_config(config_file=files, client_configuration=configuration)
            _, current = config.list_kube_config_contexts(config_file=files)
        except (ConfigException, OSError, ValueError) as exc:
            raise ConfigError(
                f"no Kubernetes cluster to run tasks on: {in_words(exc)} (set KUBECONFIG, or "
                "run the runner in a Pod with a service account)"
            ) from None
        found = str((current or {}).get("context", {}).get("namespace") or "")
    return client.ApiClient(configuration), namespace or found or "default", in_cluster


class _Channels:
    """One attach session's frames (runner.engine.kube_stream.Channels) on the client's
    websocket; its errors become EngineError."""

    def __init__(self, ws: Any, name: str) -> None:
        self._ws = ws
        self._name = name
        ws.settimeout(_SOCKET_TIMEOUT_S)

    def readable(self, timeout_s: float) -> bool:
        sock = self._ws.sock
        if sock is None:
            return True
        if isinstance(sock, ssl.SSLSocket) and sock.pending():
            return True
        try:
            return bool(select.select([sock], [], [], max(timeout_s, 0.0))[0])
        except (OSError, ValueError):
            return True

    def receive(self) -> tuple[int, bytes] | None:
        try:
            opcode, frame = self._ws.recv_data_frame(True)
        except websocket.WebSocketConnectionClosedException:
            return None
        except (websocket.WebSocketException, OSError) as exc:
            raise EngineError(f"lost the output of pod {self._name}: {in_words(exc)}") from exc
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            return None
        data = bytes(frame.data or b"")
        if opcode not in (websocket.ABNF.OPCODE_BINARY, websocket.ABNF.OPCODE_TEXT) or not data:
            return (-1, b"")
        return data[0], data[1:]

    def send(self, channel: int, data: bytes) -> None:
        try:
            self._ws.send(bytes([channel]) + data, opcode=websocket.ABNF.OPCODE_BINARY)
        except (websocket.WebSocketException, OSError) as exc:
            raise EngineError(f"cannot write to pod {self._name}: {in_words(exc)}") from exc

    def close(self) -> None:
        """End the session (the server's close answered for up to 2 s), and its socket."""
        try:
            with contextlib.suppress(websocket.WebSocketException, OSError):
                self._ws.close(timeout=2)
        finally:
            with contextlib.suppress(websocket.WebSocketException, OSError):
                self._ws.shutdown()


class KubernetesEngine:
    def __init__(
        self,
        namespace: str | None = None,
        *,
        runner_id: str = "",
        pull_policies: Mapping[str, str] | None = None,
        timeout_s: float = 30.0,
    ) -> None:
        self._client, self.namespace, in_cluster = load_cluster(namespace)
        self._api: Any = client.CoreV1Api(self._client)
        # Attach sessions on a client of their own: the client's `stream` swaps its client's
        # request function for the time of a call, which other threads' requests on the same
        # client would go through.
        self._streams = client.ApiClient(self._client.configuration)
        self._attach: Any = client.CoreV1Api(self._streams).connect_get_namespaced_pod_attach
        self._timeout = (5.0, timeout_s)
        self._pull = dict(pull_policies or {})
        self.runner_id = runner_id
        self._suspect = threading.Event()
        self._orphans = Orphans()
        websocket.setdefaulttimeout(_SOCKET_TIMEOUT_S)
        with self.call(f"cannot reach the Kubernetes API server at {self.host}"):
            client.VersionApi(self._client).get_code(_request_timeout=self._timeout)
        self.owner = self._own_pod() if in_cluster else None

    @property
    def host(self) -> str:
        return str(self._client.configuration.host)

    def close(self) -> None:
        self._streams.close()
        self._client.close()

    @contextlib.contextmanager
    def call(self, what: str) -> Iterator[None]:
        """Around an API request: its errors become EngineError naming `what` (ImageFault
        for an object the cluster finds invalid); a failed transport means the API server
        is checked at once."""
        try:
            yield
        except ApiException as exc:
            if exc.status in (400, 422):
                raise ImageFault(f"{what}: the cluster refused it: {_message(exc)}") from None
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
            with self.call("cannot read the runner's own Pod"):
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
        """The Pod as the API server has it now, or None if it is gone (inside `call`)."""
        try:
            response = self._api.read_namespaced_pod(
                name, self.namespace, _preload_content=False, _request_timeout=self._timeout
            )
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise
        found: dict[str, Any] = json.loads(response.data)
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
    ) -> tuple[PodState, dict[str, Any]]:
        """Watch the Pod until `done(state)`; its last state and object (EngineError if it is
        deleted, or not done within `timeout_s`)."""
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
                        return state, last
        raise EngineError(f"pod {name}: nothing after {timeout_s:g} s: {pending_reason(last)}")

    def mark_suspect(self) -> None:
        """A stream broke: the API server is checked at once."""
        self._suspect.set()

    def attach(self, name: str, *, stdin: bool) -> _Channels:
        """An attach session: stdin alone, or stdout and stderr.

        The output session asks for stdin too, and never writes it: a session without stdin
        hands the container an empty stdin, whose end (at once) would end the task's input
        before it was written (`stdinOnce`)."""
        with self.call(f"cannot attach to pod {name}"):
            session = stream(
                self._attach, name, self.namespace,
                container=CONTAINER, stdin=True, stdout=not stdin, stderr=not stdin,
                tty=False, _preload_content=False, binary=True,
            )  # fmt: skip
        return _Channels(session.sock, name)

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

    def delete(self, name: str, grace_s: float = 0.0) -> None:
        """Delete the Pod and its Secret (if any); again later if the API server does not
        answer. Never raises."""
        options = {"gracePeriodSeconds": max(0, round(grace_s)), "propagationPolicy": "Background"}
        try:
            for remove in (self._api.delete_namespaced_pod, self._api.delete_namespaced_secret):
                with contextlib.suppress(ApiException):
                    try:
                        remove(name, self.namespace, body=options, _request_timeout=self._timeout)
                    except ApiException as exc:
                        if exc.status != 404:
                            raise
        except _ERRORS as exc:
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

"""The Kubernetes client's configuration (the cluster found as kubectl finds it) and a task
Pod's attach sessions on its websocket: with runner.engine.kubernetes_engine, the only module
that imports the client, and the only one that imports websocket (its transport). What goes
over the sessions is runner.engine.kube_stream's.
"""

from __future__ import annotations

import contextlib
import os
import select
import ssl
from pathlib import Path
from typing import Any

import kubernetes.client
import kubernetes.config
import kubernetes.stream
import websocket
from kubernetes.config.config_exception import ConfigException

from runner.core.errors import ConfigError, EngineError, in_words
from runner.engine.kube_manifest import CONTAINER

_SOCKET_TIMEOUT_S = 30.0
# The websocket's own errors, for the engine to translate where a session is opened.
AttachError = websocket.WebSocketException

_stream: Any = kubernetes.stream.stream
_config: Any = kubernetes.config
_IN_CLUSTER_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")


def load_cluster(namespace: str | None, pool_size: int = 16) -> tuple[Any, str, bool]:
    """The API client of the cluster kubectl would use (with `pool_size` connections), its
    namespace, and whether the runner runs in a Pod; ConfigError if there is none."""
    configuration = kubernetes.client.Configuration()
    configuration.connection_pool_maxsize = pool_size
    try:
        _config.load_incluster_config(client_configuration=configuration)
        in_cluster = True
        found = _IN_CLUSTER_NAMESPACE.read_text().strip() if _IN_CLUSTER_NAMESPACE.exists() else ""
    except ConfigException:
        in_cluster = False
        try:
            # KUBECONFIG as it is now (the client reads it once, when it is imported).
            files = os.environ.get("KUBECONFIG") or None
            _config.load_kube_config(config_file=files, client_configuration=configuration)
            _, current = _config.list_kube_config_contexts(config_file=files)
        except (ConfigException, OSError, ValueError) as exc:
            raise ConfigError(
                f"no Kubernetes cluster to run tasks on: {in_words(exc)} (set KUBECONFIG, or "
                "run the runner in a Pod with a service account)"
            ) from None
        found = str((current or {}).get("context", {}).get("namespace") or "")
    return kubernetes.client.ApiClient(configuration), namespace or found or "default", in_cluster


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


class Attacher:
    """Opens attach sessions, on an API client of its own: the client's `stream` swaps its
    client's request function for the time of a call, which other threads' requests on the
    same client would go through."""

    def __init__(self, configuration: Any, namespace: str) -> None:
        self._client: Any = kubernetes.client.ApiClient(configuration)
        self._api: Any = kubernetes.client.CoreV1Api(self._client)
        self._namespace = namespace
        websocket.setdefaulttimeout(_SOCKET_TIMEOUT_S)

    def open(self, name: str, *, stdin: bool) -> _Channels:
        """An attach session: stdin alone, or stdout and stderr.

        The output session asks for stdin too, and never writes it: a session without stdin
        hands the container an empty stdin, whose end (at once) would end the task's input
        before it was written (`stdinOnce`)."""
        session = _stream(
            self._api.connect_get_namespaced_pod_attach, name, self._namespace,
            container=CONTAINER, stdin=True, stdout=not stdin, stderr=not stdin,
            tty=False, _preload_content=False, binary=True,
        )  # fmt: skip
        return _Channels(session.sock, name)

    def close(self) -> None:
        self._client.close()

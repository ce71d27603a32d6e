"""The real single-node cluster of `make k8s-up`, for the Kubernetes engine's tests: its
kubeconfig, a namespace of their own, images imported into its containerd, and the Pods
and Secrets a runner id left behind."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

from runner.engine.interface import LABEL_RUNNER_ID
from runner.engine.kube_manifest import label_value
from tests.conftest import REPO, unavailable

CLUSTER = REPO / "build" / "k8s"
KUBECONFIG = CLUSTER / "kubeconfig"


def kubectl(*args: str, check: bool = True, timeout_s: float = 60) -> str:
    done = subprocess.run(
        ["kubectl", f"--kubeconfig={KUBECONFIG}", *args],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    if check and done.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)}: {done.stderr}")
    return done.stdout


def import_image(image: str) -> None:
    """An image of the Docker engine into the cluster's containerd (Pods use it with
    imagePullPolicy Never)."""
    ctr = [
        "ctr", "--address", str(CLUSTER / "run" / "containerd.sock"), "--namespace", "k8s.io",
        "images", "import", "-",
    ]  # fmt: skip
    with subprocess.Popen(["docker", "save", image], stdout=subprocess.PIPE) as save:
        assert save.stdout is not None
        subprocess.run(ctr, stdin=save.stdout, check=True, capture_output=True, timeout=300)
        assert save.wait(300) == 0


def cluster_answers() -> str | None:
    """Why the cluster cannot be used, or None."""
    if not KUBECONFIG.exists():
        return f"no Kubernetes cluster ({KUBECONFIG} is missing): run `make k8s-up`"
    try:
        kubectl("get", "--raw", "/readyz", timeout_s=10)
    except (AssertionError, subprocess.TimeoutExpired) as exc:
        return f"the cluster of `make k8s-up` does not answer: {exc}"
    return None


@contextmanager
def using_cluster() -> Iterator[Path]:
    """The cluster's kubeconfig, as KUBECONFIG while it is used (runners started by the tests
    find the cluster as kubectl does); unavailable without a cluster."""
    problem = cluster_answers()
    if problem is not None:
        unavailable(problem)
    before = os.environ.get("KUBECONFIG")
    os.environ["KUBECONFIG"] = str(KUBECONFIG)
    try:
        yield KUBECONFIG
    finally:
        if before is None:
            os.environ.pop("KUBECONFIG", None)
        else:
            os.environ["KUBECONFIG"] = before


@contextmanager
def temporary_namespace() -> Iterator[str]:
    """A namespace of the tests' own, removed at the end."""
    name = f"xc-test-{uuid.uuid4().hex[:8]}"
    kubectl("create", "namespace", name)
    try:
        deadline = time.monotonic() + 60
        while kubectl("-n", name, "get", "serviceaccount", "default", check=False) == "":
            assert time.monotonic() < deadline, "the namespace's default service account is missing"
            time.sleep(0.2)
        yield name
    finally:
        kubectl("delete", "namespace", name, "--wait=false")


@pytest.fixture(scope="module")
def cluster() -> Iterator[Path]:
    """The cluster, for a test module (unavailable without one)."""
    with using_cluster() as kubeconfig:
        yield kubeconfig


@pytest.fixture(scope="module")
def namespace(cluster: Path) -> Iterator[str]:
    """A namespace of the test module's own."""
    with temporary_namespace() as name:
        yield name


@pytest.fixture
def kube_runner_id(namespace: str) -> Iterator[str]:
    """A runner id of the test's own: none of its Pods nor Secrets may be left at the end."""
    rid = f"test-{uuid.uuid4().hex[:10]}"
    yield rid
    wait_gone(namespace, rid)


def left_behind(namespace: str, runner_id: str) -> dict[str, list[str]]:
    """The Pods and Secrets of a runner id still in the namespace (terminating ones too)."""
    found = {}
    for kind in ("pods", "secrets"):
        selector = f"{LABEL_RUNNER_ID}={label_value(runner_id)}"
        listed = json.loads(kubectl("-n", namespace, "get", kind, "-o", "json", "-l", selector))
        found[kind] = [item["metadata"]["name"] for item in listed["items"]]
    return found


def wait_gone(namespace: str, runner_id: str, timeout_s: float = 90) -> None:
    """Every Pod and Secret of the runner id gone from the API server. A Pod deleted while
    its task runs stays Terminating until the kubelet has stopped it and released its
    volumes: about 12 s on this cluster at load 14, longer on a busier machine."""
    deadline = time.monotonic() + timeout_s
    while any((left := left_behind(namespace, runner_id)).values()):
        assert time.monotonic() < deadline, f"left behind by runner {runner_id}: {left}"
        time.sleep(0.3)


def pods(namespace: str, runner_id: str) -> list[dict[str, Any]]:
    listed = json.loads(
        kubectl(
            "-n", namespace, "get", "pods", "-o", "json", "-l", f"{LABEL_RUNNER_ID}={runner_id}"
        )
    )
    items: list[dict[str, Any]] = listed["items"]
    return items


class ApiServerCut:
    """A loopback TCP relay in front of the cluster's API server that can be cut (every
    connection closed, new ones refused) and healed; `kubeconfig` points at it."""

    def __init__(self, folder: Path) -> None:
        config = yaml.safe_load(KUBECONFIG.read_text())
        server = config["clusters"][0]["cluster"]["server"]
        self._target = ("127.0.0.1", int(server.rsplit(":", 1)[1]))
        self._listener = self._listen(0)
        self.port = self._listener.getsockname()[1]
        config["clusters"][0]["cluster"]["server"] = f"https://127.0.0.1:{self.port}"
        self.kubeconfig = folder / "kubeconfig-cut"
        self.kubeconfig.write_text(yaml.safe_dump(config))
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        self._accepting = threading.Thread(target=self._accept, daemon=True)
        self._accepting.start()

    @staticmethod
    def _listen(port: int) -> socket.socket:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(64)
        return listener

    def _accept(self) -> None:
        listener = self._listener
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self._target, timeout=10)
            with self._lock:
                self._open += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        with contextlib.suppress(OSError):  # wakes the accepting thread: the port is closed
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        with self._lock:
            for end in self._open:
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
                end.close()
            self._open.clear()

    def heal(self) -> None:
        self._listener = self._listen(self.port)
        self._accepting = threading.Thread(target=self._accept, daemon=True)
        self._accepting.start()

    def close(self) -> None:
        self.cut()

"""`make bench` baselines on docker-py alone, and the cost of an idle warm container.

The bare loop does, per task, the container work the runner does, and nothing
else: create (network none), attach, start, write the envelope to stdin, read
to end of file, wait, remove. The idle cost is the memory and processes the
engine counts for a container that waits for its task, as the runner starts it.
"""

from __future__ import annotations

import socket
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import docker

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from runner.core.policy import ContainerLimits
from runner.engine.docker_engine import DockerEngine
from runner.engine.interface import LABEL_RUNNER_ID, ContainerSpec

BENCH_LABEL = {LABEL_RUNNER_ID: "bench-bare"}


class BareLoop:
    """One task's container work with docker-py, timed; a client shared by the threads."""

    def __init__(self, image: str, envelope: bytes, runtime: str = "") -> None:
        self._client = docker.from_env(timeout=120, max_pool_size=32)
        self._api = self._client.api
        self._image = image
        self._envelope = envelope
        self._runtime = runtime or None

    def close(self) -> None:
        self._client.close()

    def one(self) -> float:
        started = time.perf_counter()
        host_config = self._api.create_host_config(network_mode="none", runtime=self._runtime)
        container = self._api.create_container(
            self._image, stdin_open=True, labels=BENCH_LABEL, host_config=host_config
        )["Id"]
        try:
            sock = self._api.attach_socket(
                container, params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1}
            )
            self._api.start(container)
            raw: socket.socket = sock._sock
            raw.sendall(self._envelope)
            raw.shutdown(socket.SHUT_WR)
            while raw.recv(65536):
                pass
            sock.close()
            self._api.wait(container, timeout=60)
        finally:
            self._api.remove_container(container, force=True)
        return time.perf_counter() - started

    def throughput(self, count: int, parallel: int) -> float:
        started = time.perf_counter()
        with ThreadPoolExecutor(parallel) as pool:
            list(pool.map(lambda _: self.one(), range(count)))
        return count / (time.perf_counter() - started)


class HardenedLoop(BareLoop):
    """The same work through the runner's own engine layer: its hardening and limits (its
    default policy), no platform, no journal, no pool."""

    def __init__(self, image: str, envelope: bytes, runtime: str = "") -> None:
        super().__init__(image, envelope, runtime)
        self._engine = DockerEngine(pool_size=32)
        self._spec = ContainerSpec(image, BENCH_LABEL, ContainerLimits(runtime=runtime))

    def close(self) -> None:
        self._engine.close()
        super().close()

    def one(self) -> float:
        started = time.perf_counter()
        container = self._engine.launch(self._spec)
        try:
            container.send(self._envelope)
            while container.read(60) is not None:
                pass
            container.wait(60)
        finally:
            container.remove()
        return time.perf_counter() - started


def idle_cost(
    image: str, runtime: str = "", samples: int = 3, settle_s: float = 3.0
) -> dict[str, float]:
    """Memory (MiB, as `docker stats` counts it) and processes of an idle warm container of
    `image`, started as the runner starts one (its default policy); medians of `samples`."""
    engine = DockerEngine()
    spec = ContainerSpec(image, BENCH_LABEL, ContainerLimits(runtime=runtime))
    containers = [engine.launch(spec) for _ in range(samples)]
    try:
        time.sleep(settle_s)
        stats = [_stats(engine, c.id) for c in containers]
    finally:
        for container in containers:
            container.remove()
        engine.close()
    return {
        "memory_mib": statistics.median(s["memory_mib"] for s in stats),
        "pids": statistics.median(s["pids"] for s in stats),
    }


def _stats(engine: DockerEngine, container_id: str) -> dict[str, float]:
    raw: dict[str, Any] = engine._api.stats(container_id, stream=False)
    memory = raw.get("memory_stats") or {}
    detail = memory.get("stats") or {}
    inactive = detail.get("total_inactive_file", detail.get("inactive_file", 0))
    return {
        "memory_mib": (memory.get("usage", 0) - inactive) / 1024**2,
        "pids": float((raw.get("pids_stats") or {}).get("current", 0)),
    }


if __name__ == "__main__":
    from scripts.scripthelp import part_of

    sys.exit(part_of(__doc__, "make bench"))

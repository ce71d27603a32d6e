"""A task container's usage as the Docker engine reports it: for a runner that cannot read
the host's cgroup files (in a container without the host's /sys/fs/cgroup mounted, or on
an engine in another container, as in the Kubernetes deployment).

The engine answers a stats request only at its next collection, up to a second later
(even with `one-shot`), and answers zeros once the container stopped; so each metered
container's stats are followed as a stream, one sample a second, by a thread of its own
that keeps the latest in memory until the stream ends with the container. Reading it
never waits. The figures are those of the last sample: up to a second of CPU can be
missing at the end. Docker's own errors stay here.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

import docker
from docker.errors import DockerException

from runner.core.usage import Reading
from runner.engine.docker_engine import local_api

log = logging.getLogger(__name__)

STATS_EVERY_S = 1.0  # the engine's collection interval
_TIMEOUT_S = 30


def reading(stats: Mapping[str, Any]) -> Reading | None:
    """A Reading of one stats sample; None for the zeros of a stopped container."""
    cpu = (stats.get("cpu_stats") or {}).get("cpu_usage") or {}
    memory = stats.get("memory_stats") or {}
    total = cpu.get("total_usage")
    if not isinstance(total, int) or not total:
        return None
    peak = memory.get("max_usage")  # cgroup v1 only
    usage = memory.get("usage")
    return Reading(
        cpu_ns=total,
        memory_peak_bytes=peak if isinstance(peak, int) and peak else None,
        memory_bytes=usage if isinstance(usage, int) else None,
    )


class FollowedStats:
    """The latest sample of one container's stats stream."""

    every_s = STATS_EVERY_S

    def __init__(self) -> None:
        self._latest: Reading | None = None
        self._lock = threading.Lock()

    def read(self) -> Reading | None:
        with self._lock:
            return self._latest

    def keep(self, sample: Reading) -> None:
        with self._lock:
            self._latest = sample


class EngineStats:
    """Follows containers' stats streams, on a client of its own (each stream holds one of
    its connections while its container runs)."""

    def __init__(self, streams: int) -> None:
        self._api: Any = None
        self._streams = streams
        self._lock = threading.Lock()

    def follow(self, container_id: str) -> FollowedStats:
        followed = FollowedStats()
        thread = threading.Thread(
            target=self._run,
            args=(container_id, followed),
            name=f"stats-{container_id[:12]}",
            daemon=True,
        )
        thread.start()
        return followed

    def _client(self) -> Any:
        with self._lock:
            if self._api is None:
                client = docker.from_env(timeout=_TIMEOUT_S, max_pool_size=self._streams)
                self._api = local_api(client.api)  # as the engine adapter's own
            return self._api

    def _run(self, container_id: str, followed: FollowedStats) -> None:
        try:
            for sample in self._client().stats(container_id, decode=True, stream=True):
                found = reading(sample)
                if found is None:  # stopped: the zeros would replace the last figures
                    return
                followed.keep(found)
        except (DockerException, OSError, ValueError) as exc:
            log.debug("stats of container %s: %s", container_id[:12], exc)

    def close(self) -> None:
        with self._lock:
            if self._api is not None:
                self._api.close()
                self._api = None

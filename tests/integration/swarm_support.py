"""What the swarm tests share: a mix of sample tasks with the ending each must reach,
a record of the task containers the engine creates, and the checks of the endings."""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from types import TracebackType

import docker
import requests

from runner.engine.interface import LABEL_RUNNER_ID
from runner.localserver.client import LocalClient

TERMINAL = ("Completed", "Error")
SHUTDOWN_ERRORS = (
    "the runner shut down before the task finished",
    "the task was interrupted: ",
)


@dataclass(frozen=True)
class Job:
    """A sample task to submit, and its one right ending."""

    name: str
    inputs: dict[str, str]
    status: str
    outputs: dict[str, str] | None = None  # of Completed
    message: str | None = None  # of Error


def job(kind: str, i: int, sleep_s: int) -> Job:
    """The i-th job of a kind; inputs differ by i, so outputs tell instances apart."""
    if kind == "simple":
        return Job(
            "simple", {"arg": f"a{i}"}, "Completed", {"msg": f'The argument received was "a{i}".'}
        )
    if kind == "double":
        return Job(
            "double",
            {"str_in": f"s{i}", "nbr_in": str(i)},
            "Completed",
            {"str_out": f"s{i}s{i}", "nbr_out": str(2 * i)},
        )
    if kind == "reporting_task":
        return Job(
            "reporting_task",
            {"n": str(sleep_s), "param": f"p{i}"},
            "Completed",
            {"result": f'Input "p{i}", result is ok'},
        )
    if kind == "error_placeholder":
        return Job(kind, {}, "Error", message='Task "error_placeholder" reports a fatal error.')
    return Job("zero_division", {}, "Error", message="ZeroDivisionError: division by zero")


KINDS = ("simple", "double", "reporting_task", "error_placeholder", "zero_division")


def sample_mix(count: int, *, kinds: Iterable[str] = KINDS, sleep_s: int = 1) -> list[Job]:
    cycle = list(kinds)
    return [job(cycle[i % len(cycle)], i, sleep_s) for i in range(count)]


def submit(client: LocalClient, jobs: Iterable[Job]) -> dict[str, Job]:
    """Queue every job in namespace sample; instance id → job."""
    return {client.submit("sample", j.name, dict(j.inputs))["id"]: j for j in jobs}


def wait_terminal(client: LocalClient, ids: Iterable[str], timeout_s: float) -> None:
    """Follow the server's statuses until each instance has a terminal one."""
    waiting = set(ids)
    after = 0
    deadline = time.monotonic() + timeout_s
    while waiting:
        left = deadline - time.monotonic()
        assert left > 0, f"{len(waiting)} instance(s) got no terminal status: {sorted(waiting)[:5]}"
        page = client.statuses(after, wait_s=min(5.0, left))
        after = page["last"]
        waiting -= {s["taskInstanceId"] for s in page["statuses"] if s["status"] in TERMINAL}


def ending(client: LocalClient, instance_id: str, expected: Job) -> str:
    """`ran` or `reported` (stopped by a runner's shutdown); fails on anything else."""
    view = client.instance(instance_id)
    terminals = [s for s in view["statuses"] if s["status"] in TERMINAL]
    assert len(terminals) == 1, f"{instance_id}: {len(terminals)} terminal statuses: {view}"
    assert view["takenAt"] is not None, view
    final = terminals[0]
    if final["status"] == "Error" and final["message"].startswith(SHUTDOWN_ERRORS):
        return "reported"
    assert final["status"] == expected.status, (expected, view)
    if expected.status == "Completed":
        assert final["outputValues"] == expected.outputs, (expected, view)
    else:
        assert final["message"] == expected.message, (expected, view)
    return "ran"


class ContainerCreates:
    """Every container of the runners the engine creates while this is open: its runner id,
    by container id (warm ones too, whose labels cannot name a task).

    Read from the engine's event stream, so a container counts even when it
    was removed long before anyone looked.
    """

    def __init__(self, runner_id_prefix: str) -> None:
        self._prefix = runner_id_prefix
        self._client = docker.from_env(timeout=30)
        self._events = self._client.events(
            decode=True,
            since=int(time.time()) - 1,
            filters={"type": "container", "event": "create", "label": LABEL_RUNNER_ID},
        )
        self._lock = threading.Lock()
        self._seen: dict[str, str] = {}  # container id (12 characters) -> runner id
        # Warm containers made before this opened wait for a task: count them too.
        for container in self._client.api.containers(filters={"label": LABEL_RUNNER_ID}):
            runner_id = container["Labels"].get(LABEL_RUNNER_ID, "")
            if runner_id.startswith(runner_id_prefix):
                self._seen[container["Id"][:12]] = runner_id
        self._thread = threading.Thread(target=self._read, name="container-creates", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            for event in self._events:
                labels = event.get("Actor", {}).get("Attributes", {})
                runner_id = labels.get(LABEL_RUNNER_ID, "")
                if runner_id.startswith(self._prefix):
                    with self._lock:
                        self._seen[str(event.get("id", ""))[:12]] = runner_id
        except (requests.exceptions.RequestException, OSError, ValueError):
            pass  # the stream was closed

    def runner_of(self, container: str) -> str:
        """The runner id that created a container (its id's first 12 characters)."""
        with self._lock:
            return self._seen.get(container[:12], "?")

    def __enter__(self) -> ContainerCreates:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._events.close()
        self._thread.join(10)
        self._client.close()


# What a runner logs when it hands a task its container, warm (made ahead) or cold.
STARTED = re.compile(
    r"#(?P<instance>[^:\s]+): started (?:warm|cold) in container (?P<id>[0-9a-f]{12})"
)


def runner_logs(service: str) -> str:
    """What every container of the runner service (replaced ones too) logged, on this node:
    read from the engine rather than `docker service logs`, which can hang on a running
    service."""
    client = docker.from_env(timeout=30)
    try:
        found = client.containers.list(
            all=True, filters={"label": f"com.docker.swarm.service.name={service}"}
        )
        return "".join(c.logs().decode("utf-8", "replace") for c in found)
    finally:
        client.close()


def task_runs(logs: str) -> list[tuple[str, str]]:
    """(instance id, container id) of every task run the runners' logs show."""
    return [(m["instance"], m["id"]) for m in STARTED.finditer(logs)]


def check_all(
    client: LocalClient, jobs: dict[str, Job], creates: ContainerCreates, logs: str
) -> tuple[Counter[str], Counter[str]]:
    """Each instance ended once, rightly, and ran in one container (none if it was stopped
    by a shutdown before it started), as the runners' `logs` tell. Returns the endings
    (`ran` / `reported`) and the containers per runner id."""
    endings = {i: ending(client, i, j) for i, j in jobs.items()}
    runs = [(i, c) for i, c in task_runs(logs) if i in jobs]
    per_instance = Counter(i for i, _ in runs)
    per_runner = Counter(creates.runner_of(c) for _, c in runs)
    twice = {i: n for i, n in per_instance.items() if n > 1}
    never = [i for i, how in endings.items() if how == "ran" and per_instance[i] == 0]
    assert not twice, f"instances run in more than one container: {twice}"
    assert not never, f"instances that ended with no container: {never[:5]}"
    return Counter(endings.values()), per_runner


def running(client: LocalClient, jobs: dict[str, Job], kind: str) -> list[str]:
    """The instances of that kind of job that are running now (handed out, no end yet)."""
    return [
        i for i, j in jobs.items() if j.name == kind and client.instance(i)["state"] == "InProgress"
    ]



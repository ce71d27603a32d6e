"""The runner's stack on a swarm: deploy it, know when it is ready, remove it.

Ready means every runner task runs and has logged that it polls, and the local
server lists each namespace's catalog. Removing takes the runners first, so they
drain and deliver their last statuses while the server still runs, then the
stack; a task container the runners left (one killed before it could) is
removed and named.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from urllib.error import URLError
from urllib.request import Request, urlopen

from runner.core.catalog import CATALOG_LABEL
from runner.engine.interface import LABEL_RUNNER_ID
from scripts.swarm_cluster import SwarmError, docker, lines, retry, wait_until

ROOT = Path(__file__).resolve().parent.parent
STACK_FILE = ROOT / "deploy" / "swarm" / "stack.yaml"
REPLICATED_FILE = ROOT / "deploy" / "swarm" / "replicated.yaml"
DEFAULT_KEY_FILE = ROOT / ".local" / "swarm-apikey"
ENGINE_SOCKET = Path("/var/run/docker.sock")
DEFAULT_IMAGES = ("xc-tasks/sample:latest", "xc-tasks/textstats-node:latest")
RUNNER_IMAGE = "xc-scenario-runner:latest"
STACK_LABEL = "com.docker.stack.namespace"
SERVICE_LABEL = "com.docker.swarm.service.name"
READY_LINE = re.compile(r"runner (\S+) polling ")
# What a stopping runner may need beyond its drain: the tasks' stop grace (5 s),
# the outbox flush (10 s) and removing its containers. The Kubernetes manifests'
# terminationGracePeriodSeconds are checked against it too (scripts/validate_manifests.py).
STOP_MARGIN_S = 20

log = logging.getLogger("swarm")


@dataclass(frozen=True)
class Stack:
    """One deployment of deploy/swarm/stack.yaml, and the values it is given."""

    name: str = "xc"
    port: int = 8077
    key_file: Path = DEFAULT_KEY_FILE
    replicas: int | None = 3  # None: mode global, one runner per node
    images: tuple[str, ...] = DEFAULT_IMAGES
    concurrency: int = 4
    drain_timeout_s: int = 25
    runner_image: str = RUNNER_IMAGE

    @property
    def runner_service(self) -> str:
        return f"{self.name}_runner"

    @property
    def runner_id_prefix(self) -> str:
        """Every runner id of the stack starts so (stack.yaml's XC_RUNNER_ID template)."""
        return f"{self.runner_service}-"

    @property
    def server_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def api_key(self) -> str:
        return self.key_file.read_text().strip()

    def compose_args(self) -> list[str]:
        files = [STACK_FILE] + ([REPLICATED_FILE] if self.replicas is not None else [])
        return [arg for path in files for arg in ("-c", str(path))]

    def environ(self) -> dict[str, str]:
        return {
            **os.environ,
            "XC_SWARM_APIKEY_FILE": str(self.key_file.resolve()),
            "XC_LOCAL_PORT": str(self.port),
            "XC_RUNNER_REPLICAS": str(self.replicas or 1),
            "XC_RUNNER_IMAGE": self.runner_image,
            "XC_RUNNER_IMAGES": " ".join(self.images),
            "XC_RUNNER_CONCURRENCY": str(self.concurrency),
            "XC_RUNNER_DRAIN_TIMEOUT_S": str(self.drain_timeout_s),
            "XC_RUNNER_STOP_GRACE_PERIOD": f"{self.drain_timeout_s + STOP_MARGIN_S}s",
            "DOCKER_GID": str(docker_gid()),
        }


def docker_gid() -> int:
    """The group of this engine's socket (DOCKER_GID, else the socket's own): the runners
    (uid 10001) open it through it. Every node's socket must have the same group
    (scripts/swarm_nodes.py starts its engines so)."""
    given = os.environ.get("DOCKER_GID", "")
    if given.isdigit():
        return int(given)
    return ENGINE_SOCKET.stat().st_gid if ENGINE_SOCKET.exists() else 0


def ensure_key_file(path: Path) -> None:
    """A random API key for the stack's secret, made once and kept (mode 600)."""
    if path.is_file() and path.read_text().strip():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(secrets.token_urlsafe(24) + "\n")
    log.info("API key written to %s", path)


def namespaces(images: Sequence[str]) -> list[str]:
    """The namespaces the task images' catalog labels declare; the images must be built."""
    found: set[str] = set()
    for image in images:
        try:
            out = docker("image", "inspect", "--format", "{{json .Config.Labels}}", image)
        except SwarmError:
            raise SwarmError(f"image {image} is not built (run `make images`)") from None
        catalog = json.loads(json.loads(out or "{}").get(CATALOG_LABEL) or "[]")
        found.update(str(entry["namespace"]) for entry in catalog)
    return sorted(found)


def deploy(stack: Stack) -> None:
    """`docker stack deploy` of the stack (a new one, or an update); images are local."""
    try:
        docker("image", "inspect", "--format", "{{.Id}}", stack.runner_image)
    except SwarmError:
        raise SwarmError(f"image {stack.runner_image} is not built (make runner-image)") from None
    namespaces(stack.images)
    ensure_key_file(stack.key_file)
    docker(
        "stack",
        "deploy",
        "--resolve-image",
        "never",  # no registry: the images are the engine's own
        *stack.compose_args(),
        stack.name,
        env=stack.environ(),
        timeout_s=120,
    )


def expected_runners(stack: Stack) -> int:
    if stack.replicas is not None:
        return stack.replicas
    nodes = lines(docker("node", "ls", "--format", "{{.Status}} {{.Availability}}"))
    return sum(1 for node in nodes if node == "Ready Active")


def running_runners(stack: Stack) -> dict[str, str] | None:
    """Runner task id → runner id, once every expected runner task runs and polls."""
    tasks = lines(
        docker(
            "service",
            "ps",
            "--no-trunc",
            "--filter",
            "desired-state=running",
            "--format",
            "{{.ID}} {{.CurrentState}}",
            stack.runner_service,
        )
    )
    if len(tasks) != expected_runners(stack) or any(" Running " not in t for t in tasks):
        return None
    ready: dict[str, str] = {}
    for task in tasks:
        task_id = task.split()[0]
        found = READY_LINE.search(service_logs(task_id))
        if found is None:
            return None
        ready[task_id] = found.group(1)
    return ready


def service_logs(service_or_task: str, *args: str) -> str:
    """What a service's or a task's containers wrote (their stderr too), on every node."""
    return docker(
        "service",
        "logs",
        "--raw",
        *args,
        service_or_task,
        timeout_s=30,
        check=False,
        with_stderr=True,
    )


def published(stack: Stack, namespace: str) -> bool:
    """Whether the local server lists a catalog for the namespace."""
    url = f"{stack.server_url}/taskcatalog/api/catalog-task-definitions/{namespace}"
    request = Request(url, headers={"Authorization": f"bearer {stack.api_key()}"})  # noqa: S310
    try:
        with urlopen(request, timeout=5) as answer:  # noqa: S310 -- http on loopback
            return bool(json.loads(answer.read()))
    except (URLError, OSError, ValueError):
        return False


def wait_ready(stack: Stack, timeout_s: float = 180) -> dict[str, str]:
    """Wait until every runner polls and every catalog is published; task id → runner id."""
    found: dict[str, str] = {}

    def ready() -> bool:
        found.clear()
        found.update(running_runners(stack) or {})
        return bool(found) and all(published(stack, ns) for ns in namespaces(stack.images))

    wait_until(ready, timeout_s, f"the runners of stack {stack.name}", lambda: _state(stack))
    return found


def _state(stack: Stack) -> str:
    """What the services' tasks are doing, and the runners' last log lines, for errors."""
    tasks = docker("stack", "ps", "--no-trunc", stack.name, check=False)
    logs = service_logs(stack.runner_service, "--tail", "20")
    return f"{tasks}\n--- last runner log lines ---\n{logs}"


def _listed(kind: str, *filters: str) -> list[str]:
    args = [arg for item in filters for arg in ("--filter", item)]
    command = ["ps", "-aq"] if kind == "container" else [kind, "ls", "-q"]
    return lines(docker(*command, *args))


def task_containers(stack: Stack) -> list[str]:
    """Ids of the task containers on this engine that the stack's runners started."""
    listing = docker(
        "ps", "-a", "--filter", f"label={LABEL_RUNNER_ID}",
        "--format", f'{{{{.ID}}}} {{{{.Label "{LABEL_RUNNER_ID}"}}}}',
    )  # fmt: skip
    owned = (line.partition(" ") for line in lines(listing))
    return [cid for cid, _, runner_id in owned if runner_id.startswith(stack.runner_id_prefix)]


def remove(stack: Stack, *, volumes: bool = False) -> list[str]:
    """Drain and remove the runners, then the stack; the leftover task containers removed.

    Runners remove their own task containers when they stop; what is returned
    is what they left (a runner killed before it could), removed here.
    """
    grace_s = stack.drain_timeout_s + STOP_MARGIN_S
    if _listed("service", f"name={stack.runner_service}"):
        docker("service", "rm", stack.runner_service)
        wait_until(
            lambda: not _listed("container", f"label={SERVICE_LABEL}={stack.runner_service}"),
            grace_s + 30,
            f"the runners of stack {stack.name} to stop",
        )
    label = f"label={STACK_LABEL}={stack.name}"
    docker("stack", "rm", stack.name, timeout_s=120)
    wait_until(
        lambda: not any(_listed(kind, label) for kind in ("service", "container", "network")),
        120,
        f"stack {stack.name} to go",
    )
    leftovers = task_containers(stack)
    if leftovers:
        log.warning("removing task containers the runners left: %s", ", ".join(leftovers))
        docker("rm", "-f", *leftovers)
    if volumes:
        for volume in _listed("volume", label):
            retry(partial(docker, "volume", "rm", volume), 30, f"removing volume {volume}")
    return leftovers


if __name__ == "__main__":
    from scripts.scripthelp import part_of

    sys.exit(part_of(__doc__, "python -m scripts.swarm"))

"""A real multi-node swarm on one machine, and the runners' throughput on 1 and 3 nodes.

    python -m scripts.swarm_nodes [--nodes 2] [--tasks 60]      (make swarm-nodes)

Extra engines run in containers (Docker-in-Docker, Debian's docker.io, built
FROM the local Debian base: scripts/dind), get the task and runner images by
`docker save | docker load`, and join a swarm made for the run as workers; the
stack runs its runner service in global mode, one runner per node. The same
batches of tasks are timed with the manager alone and with every node.
Everything made is removed at the end, the swarm included: the engine must be
in no swarm when this starts (it needs one advertised on a bridge the nodes
reach, not on 127.0.0.1).
"""

from __future__ import annotations

import argparse
import logging
import re
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from runner.core.model import TERMINAL_STATUSES
from runner.localserver.client import LocalClient
from scripts.build_images import base_build_args
from scripts.swarm_cluster import (
    SwarmError,
    docker,
    ensure_swarm,
    leave_swarm,
    swarm_state,
    wait_until,
)
from scripts.swarm_stack import (
    DEFAULT_IMAGES,
    RUNNER_IMAGE,
    Stack,
    deploy,
    docker_gid,
    remove,
    wait_ready,
)

ROOT = Path(__file__).resolve().parent.parent
DIND_IMAGE = "xc-test/dind:latest"
NETWORK = "xc-swarm-nodes"
NODE_LABEL = "xc-swarm-node"
IMAGES_TAR = ROOT / "build" / "swarm-node-images.tar"
# Not --privileged: Docker's --privileged asks for every capability the kernel
# knows, and a host whose bounding set lacks one (CAP_SYS_RESOURCE on the
# development VMs) refuses the container. The nested engine needs the rest,
# unconfined system calls and /proc, and every device.
DIND_RUN_ARGS = (
    "--cap-add", "ALL", "--cap-drop", "SYS_RESOURCE",
    "--security-opt", "seccomp=unconfined",
    "--security-opt", "apparmor=unconfined",
    "--security-opt", "systempaths=unconfined",
    "--device-cgroup-rule", "a *:* rwm",
    "--volume", "/var/lib/docker",
)  # fmt: skip
STARTED = re.compile(r"@(\S+)\s+\|.*#([0-9a-f-]+): started")

log = logging.getLogger("swarm_nodes")


@dataclass(frozen=True)
class Batch:
    """Tasks of one kind, timed from the first submission to the last terminal status."""

    name: str
    inputs: dict[str, str]
    count: int


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def build_dind_image() -> None:
    base = base_build_args().get("DEBIAN_BASE", "debian:bookworm-slim")
    docker(
        "build", "--quiet", "--build-arg", f"DEBIAN_BASE={base}", "-t", DIND_IMAGE,
        str(ROOT / "scripts" / "dind"),
        timeout_s=900,
    )  # fmt: skip


@contextmanager
def node_network() -> Iterator[str]:
    """A bridge for the nodes; yields its gateway, the manager's address on it."""
    docker("network", "create", "--label", f"{NODE_LABEL}=1", NETWORK)
    try:
        yield docker(
            "network", "inspect", NETWORK, "--format", "{{(index .IPAM.Config 0).Gateway}}"
        ).strip()
    finally:
        docker("network", "rm", NETWORK, check=False)


def start_node(name: str, manager_addr: str) -> None:
    """An engine in a container, with the images, joined to the swarm as a worker."""
    docker(
        "run", "-d", "--name", name, "--hostname", name, "--label", f"{NODE_LABEL}=1",
        "--network", NETWORK, *DIND_RUN_ARGS, DIND_IMAGE,
        "--group", str(docker_gid()),  # the runners reach every node's socket alike
    )  # fmt: skip
    wait_until(
        lambda: _answers(name),
        60,
        f"the engine of {name}",
        lambda: docker("logs", "--tail", "20", name, check=False, with_stderr=True),
    )
    with IMAGES_TAR.open("rb") as images:
        subprocess.run(
            ["docker", "exec", "-i", name, "docker", "load", "-q"],
            stdin=images,
            check=True,
            capture_output=True,
            timeout=600,
        )
    token = docker("swarm", "join-token", "-q", "worker").strip()
    address = docker(
        "inspect", "--format", f'{{{{(index .NetworkSettings.Networks "{NETWORK}").IPAddress}}}}',
        name,
    ).strip()  # fmt: skip
    docker(
        "exec", name, "docker", "swarm", "join", "--token", token,
        "--advertise-addr", address, f"{manager_addr}:2377",
        timeout_s=120,
    )  # fmt: skip
    log.info("node %s (%s) joined the swarm", name, address)


def _answers(node: str) -> bool:
    try:
        docker("exec", node, "docker", "version", "--format", "{{.Server.Version}}")
    except SwarmError:
        return False
    return True


def remove_nodes() -> None:
    for name in docker("ps", "-aq", "--filter", f"label={NODE_LABEL}").split():
        docker("rm", "-f", "-v", name, timeout_s=120)


def run_batch(stack: Stack, client: LocalClient, batch: Batch) -> tuple[float, Counter[str]]:
    """Seconds for the batch, and how many of its tasks each node's runner started."""
    start = time.monotonic()
    ids = {
        client.submit("sample", batch.name, dict(batch.inputs))["id"] for _ in range(batch.count)
    }
    waiting, after = set(ids), 0
    while waiting:
        page = client.statuses(after, wait_s=5)
        after = page["last"]
        for status in page["statuses"]:
            if status["taskInstanceId"] in waiting and status["status"] in TERMINAL_STATUSES:
                if status["status"] != "Completed":
                    raise SwarmError(f"a {batch.name} task failed: {status['message']}")
                waiting.discard(status["taskInstanceId"])
        if time.monotonic() - start > 600:
            raise SwarmError(f"{len(waiting)} {batch.name} task(s) did not end in 10 minutes")
    elapsed = time.monotonic() - start
    logs = docker("service", "logs", stack.runner_service, timeout_s=60, with_stderr=True)
    per_node = Counter(m.group(1) for m in STARTED.finditer(logs) if m.group(2) in ids)
    return elapsed, per_node


def measure(stack: Stack, batches: Sequence[Batch], nodes: int) -> list[str]:
    client = LocalClient(stack.server_url, stack.api_key())
    run_batch(stack, client, Batch("simple", {"arg": "warm-up"}, 3 * nodes))
    rows = []
    for batch in batches:
        seconds, per_node = run_batch(stack, client, batch)
        spread = ", ".join(f"{node} {n}" for node, n in sorted(per_node.items()))
        rows.append(
            f"| {nodes} | {batch.count} `{batch.name}` | {seconds:.1f} s | "
            f"{batch.count / seconds:.2f} tasks/s | {spread} |"
        )
        log.info("%s", rows[-1])
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    parser = argparse.ArgumentParser(prog="python -m scripts.swarm_nodes")
    parser.add_argument("--nodes", type=int, default=2, help="extra engines (2)")
    parser.add_argument("--tasks", type=int, default=60, help="tasks per batch (60)")
    args = parser.parse_args(argv)
    batches = (
        Batch("simple", {"arg": "x"}, args.tasks),
        Batch("reporting_task", {"n": "2", "param": "x"}, args.tasks),
    )
    try:
        if swarm_state() != "inactive":
            raise SwarmError("the engine is in a swarm: this needs one of its own (leave it first)")
        rows = run(args.nodes, batches)
    except (SwarmError, subprocess.SubprocessError) as exc:
        log.error("%s", exc)
        return 1
    sys.stdout.write(
        "| nodes | tasks | time | throughput | tasks per node |\n| --- | --- | --- | --- | --- |\n"
    )
    sys.stdout.write("\n".join(rows) + "\n")
    return 0


def run(extra_nodes: int, batches: Sequence[Batch]) -> list[str]:
    build_dind_image()
    IMAGES_TAR.parent.mkdir(parents=True, exist_ok=True)
    docker("save", "-o", str(IMAGES_TAR), RUNNER_IMAGE, *DEFAULT_IMAGES, timeout_s=600)
    stack = Stack(
        name="xcnodes",
        port=free_port(),
        replicas=None,
        key_file=ROOT / ".local" / "swarm-nodes-apikey",
    )
    rows: list[str] = []
    with node_network() as manager_addr:
        created = ensure_swarm(manager_addr)
        try:
            deploy(stack)
            wait_ready(stack)
            rows += measure(stack, batches, 1)
            for i in range(1, extra_nodes + 1):
                start_node(f"xc-swarm-node-{i}", manager_addr)
            wait_ready(stack)
            rows += measure(stack, batches, 1 + extra_nodes)
        finally:
            with suppress(SwarmError):
                remove(stack, volumes=True)
            remove_nodes()
            leave_swarm(created)
            IMAGES_TAR.unlink(missing_ok=True)
    return rows


if __name__ == "__main__":
    sys.exit(main())

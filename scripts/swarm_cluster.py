"""The swarm under the stack: the docker CLI, a single-node swarm made when there is none.

A swarm made here listens and advertises on 127.0.0.1 only (or on the address
given, for workers in containers on this machine), and its host-mode published
ports bind to 127.0.0.1 (the docker_gwbridge network, created first, says so),
so nothing of it is reachable from another machine.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

log = logging.getLogger("swarm")

GWBRIDGE = "docker_gwbridge"
LOOPBACK_BINDING = "com.docker.network.bridge.host_binding_ipv4"
# Options of the docker_gwbridge Swarm creates itself, plus the loopback binding.
GWBRIDGE_OPTIONS = {
    "com.docker.network.bridge.name": GWBRIDGE,
    "com.docker.network.bridge.enable_icc": "false",
    "com.docker.network.bridge.enable_ip_masquerade": "true",
    LOOPBACK_BINDING: "127.0.0.1",
}


class SwarmError(Exception):
    """A docker command failed or the swarm did not reach the state asked for."""


def docker(
    *args: str,
    timeout_s: float = 60,
    env: Mapping[str, str] | None = None,
    check: bool = True,
    with_stderr: bool = False,
) -> str:
    """Run the docker CLI; its stdout (and stderr after it: logs). Failing: SwarmError."""
    try:
        done = subprocess.run(
            ["docker", *args],
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout_s,
            env=dict(env) if env is not None else None,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise SwarmError(f"docker {' '.join(args)}: no answer in {timeout_s:g} s") from None
    if check and done.returncode != 0:
        raise SwarmError(f"docker {' '.join(args)} failed: {done.stderr.strip() or done.stdout}")
    return done.stdout + done.stderr if with_stderr else done.stdout


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def swarm_state() -> str:
    """`inactive`, `active`, `pending`, `error` or `locked`: this engine's part in a swarm."""
    return docker("info", "--format", "{{.Swarm.LocalNodeState}}").strip()


@dataclass(frozen=True)
class Created:
    """What ensure_swarm made, so that leave_swarm undoes exactly that."""

    swarm: bool
    gwbridge: bool


def ensure_swarm(advertise_addr: str = "127.0.0.1") -> Created:
    """A swarm this engine manages: the one there is, or a new single-node one."""
    state = swarm_state()
    if state == "active":
        if docker("info", "--format", "{{.Swarm.ControlAvailable}}").strip() != "true":
            raise SwarmError("this engine is a swarm worker: run this on a manager")
        return Created(swarm=False, gwbridge=False)
    if state != "inactive":
        raise SwarmError(f"this engine's swarm is {state}: fix it or `docker swarm leave --force`")
    gwbridge = _ensure_loopback_gwbridge()
    docker(
        "swarm",
        "init",
        "--advertise-addr",
        advertise_addr,
        "--listen-addr",
        f"{advertise_addr}:2377",
        timeout_s=120,
    )
    log.info("initialised a single-node swarm on %s", advertise_addr)
    return Created(swarm=True, gwbridge=gwbridge)


def _ensure_loopback_gwbridge() -> bool:
    """Make docker_gwbridge publish on 127.0.0.1; True if it was created here."""
    existing = lines(docker("network", "ls", "-q", "--filter", f"name=^{GWBRIDGE}$"))
    if existing:
        binding = docker(
            "network",
            "inspect",
            GWBRIDGE,
            "--format",
            f'{{{{index .Options "{LOOPBACK_BINDING}"}}}}',
        ).strip()
        if binding != "127.0.0.1":
            log.warning(
                "%s exists and publishes ports on every address: the local server's port "
                "is reachable from other machines (remove %s before the swarm is made "
                "to keep it on 127.0.0.1)",
                GWBRIDGE,
                GWBRIDGE,
            )
        return False
    options = [
        arg for key, value in GWBRIDGE_OPTIONS.items() for arg in ("--opt", f"{key}={value}")
    ]
    docker("network", "create", *options, GWBRIDGE)
    return True


def leave_swarm(created: Created) -> None:
    """Undo what ensure_swarm made: leave the swarm, remove docker_gwbridge."""
    if created.swarm:
        docker("swarm", "leave", "--force", timeout_s=120)
        log.info("left the swarm")
    if created.gwbridge:
        # Swarm's own endpoints on it go a moment after the swarm.
        retry(lambda: docker("network", "rm", GWBRIDGE), 30, f"removing {GWBRIDGE}")


def retry(action: Callable[[], object], timeout_s: float, what: str) -> None:
    """Call action() until it stops raising SwarmError, for up to timeout_s."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            action()
            return
        except SwarmError as exc:
            if time.monotonic() > deadline:
                raise SwarmError(f"{what}: {exc}") from None
            time.sleep(0.5)


def wait_until(
    done: Callable[[], bool], timeout_s: float, what: str, detail: Callable[[], str] = str
) -> None:
    """Poll done() every half second; SwarmError naming what (and detail()) on timeout."""
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            raise SwarmError(f"timed out after {timeout_s:g} s waiting for {what}\n{detail()}")
        time.sleep(0.5)


if __name__ == "__main__":
    from scripts.scripthelp import part_of

    sys.exit(part_of(__doc__, "python -m scripts.swarm"))

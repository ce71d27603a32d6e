"""What a task container may do, and for how long: the task policy as plain values.

The secure defaults are the dataclasses' defaults. Where the values come from
(flags, environment, the TOML file) is configuration's business: see
runner.config.policy.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from runner.core.caps import Caps
from runner.core.secrets import SecretSource
from runner.core.taskrun import OutputLimits

_RUNSC_BASE_THREADS = 64
_RUNSC_THREADS_PER_PROCESS = 8


@dataclass(frozen=True)
class ContainerLimits:
    """What a task container is allowed: resources, identity, network, runtime."""

    memory_bytes: int = 512 * 1024**2  # swap included
    cpus: float = 1.0
    pids: int = 256
    open_files: int = 1024
    tmpfs_bytes: int = 64 * 1024**2
    user: str = "65534:65534"
    network: str = "none"
    runtime: str = ""  # "" is the engine's default (runc); "runsc" is gVisor

    @property
    def engine_pids(self) -> int:
        """The engine's pids limit for `pids` processes in the task.

        Under gVisor the engine's limit counts the sandbox's own threads (measured:
        about 57 idle, about 8 more per process inside), and a sandbox over it dies
        at once; the limit is scaled so that `pids` still means the task's processes.
        """
        if self.runtime == "runsc":
            return _RUNSC_BASE_THREADS + _RUNSC_THREADS_PER_PROCESS * self.pids
        return self.pids


# Threads of a gVisor sandbox: about 57 idle, about 8 more per process inside (measured).
_RUNSC_BASE_THREADS = 64
_RUNSC_THREADS_PER_PROCESS = 8


@dataclass(frozen=True)
class ContainerEnv:
    """What a task container of one image is given besides its input: plain environment
    variables, and secret files (read when the container is created)."""

    variables: tuple[tuple[str, str], ...] = ()
    secrets: tuple[SecretSource, ...] = ()

    def names(self) -> str:
        """The variables' and the secrets' names, for the start-up log (never a value)."""
        parts = []
        if self.variables:
            parts.append("environment " + ", ".join(name for name, _ in self.variables))
        if self.secrets:
            parts.append(
                "secrets " + ", ".join(f"{s.name} (from {s.path})" for s in self.secrets)
            )
        return "; ".join(parts)


PULL_POLICIES = ("missing", "always", "never")


@dataclass(frozen=True)
class TaskPolicy:
    """Everything a task of one image is held to."""

    limits: ContainerLimits = field(default_factory=ContainerLimits)
    timeout_s: float = 3600.0  # when neither the instance nor the catalog sets one
    max_output_bytes: int = 16 * 1024**2
    max_line_bytes: int = 1024**2
    max_result_bytes: int = 512 * 1024
    # Warm containers kept ready for this image; None: as many as the runner's concurrency.
    pool_size: int | None = None
    # When the image is pulled from its registry: PULL_POLICIES (runner.core.pulling).
    pull: str = "missing"
    # How long the runner tries to start a task it has taken when the fault is its own (the
    # engine cannot create containers, the image is missing), before ending it in Error.
    launch_budget_s: float = 60.0
    env: ContainerEnv = field(default_factory=ContainerEnv)

    def replace(self, values: Mapping[str, Any]) -> TaskPolicy:
        """A copy with these fields (of TaskPolicy or of its limits) changed."""
        limits = {k: v for k, v in values.items() if k in LIMIT_FIELDS}
        own = {k: v for k, v in values.items() if k not in LIMIT_FIELDS}
        return dataclasses.replace(
            self, limits=dataclasses.replace(self.limits, **limits), **own
        )

    def value(self, name: str) -> Any:
        """A field of TaskPolicy or of its limits, by name."""
        return getattr(self.limits if name in LIMIT_FIELDS else self, name)

    def output_limits(self) -> OutputLimits:
        """The caps a running task's output is held to."""
        return OutputLimits(
            max_line_bytes=self.max_line_bytes,
            max_output_bytes=self.max_output_bytes,
            max_result_bytes=self.max_result_bytes,
        )


LIMIT_FIELDS = frozenset(f.name for f in dataclasses.fields(ContainerLimits))


@dataclass(frozen=True)
class PolicyTable:
    """The runner-wide policy, the images that override it, the task types that override
    their image's, and how many of a task type or an image may run at once."""

    default: TaskPolicy = field(default_factory=TaskPolicy)
    images: Mapping[str, TaskPolicy] = field(default_factory=dict)
    # "NAMESPACE/TASK": fields of TaskPolicy (or of its limits) set over its image's policy.
    tasks: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    caps: Caps = field(default_factory=Caps)

    def for_image(self, image: str) -> TaskPolicy:
        return self.images.get(image, self.default)

    def for_task(self, image: str, namespace: str, name: str) -> TaskPolicy:
        """The policy of a task of `image`: its image's, with its own section's values."""
        policy = self.for_image(image)
        own = self.tasks.get(f"{namespace}/{name}")
        return policy.replace(own) if own else policy

"""The warm pool's decisions, as a pure state machine: no threads, no engine, no clock.

A pool keeps containers of one served image created, attached and started
ahead of their tasks; each is handed to exactly one task. The caller (the
engine layer's ContainerPool) tells it facts — what a tag resolved to, a
container created, one found dead — and acts on what it returns: which
container a task gets, which to create next, which to discard, what to report.

A container is handed out only to a task whose key (image ID, container policy,
environment and secrets) is exactly the pool's. When a tag moves to another image,
or a secret file's content changes, the idle containers made before are discarded
and the pool refills with the new ones.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from runner.core.backoff import backoff_delay
from runner.core.policy import ContainerEnv, ContainerLimits

# Idle containers dying this many times in a row, none handed out in between:
# the image is reported once and its tasks start cold from then on.
GIVE_UP_AFTER = 3
# Creations at once while a pool is empty and no task launches a container of its own.
MAX_PARALLEL_CREATIONS = 4
_RETRY_BASE_S = 1.0  # after a failed creation; doubling up to the cap
_RETRY_CAP_S = 10.0


@dataclass(frozen=True)
class PoolKey:
    """What makes two containers interchangeable: the image ID and everything that changes
    the container (its limits, identity, network, runtime, command, environment, the names
    and sources of its secrets, and the version of their contents it was given)."""

    image_id: str
    limits: ContainerLimits
    command: tuple[str, ...] | None = None
    env: ContainerEnv = field(default_factory=ContainerEnv)
    secrets_version: str = ""  # runner.core.secrets.SecretSnapshot.version; "" for none


@dataclass(frozen=True)
class Target:
    """What to keep warm for one served image (its name as configured, e.g. `x/y:latest`)."""

    image: str
    limits: ContainerLimits
    size: int
    command: tuple[str, ...] | None = None
    env: ContainerEnv = field(default_factory=ContainerEnv)


@dataclass(frozen=True)
class Create:
    """Start one container of `key` for the pool of `image` (one creation at a time)."""

    image: str
    key: PoolKey


@dataclass(frozen=True)
class Discard:
    """Remove this container: it will never be handed out."""

    container_id: str
    reason: str


@dataclass(frozen=True)
class Moved:
    """The image's tag now points to another image: its catalog must be read again."""

    image: str
    old_id: str
    new_id: str


@dataclass(frozen=True)
class Report:
    """Something the operator must know, once (not once per container)."""

    level: str  # "warning" or "error"
    message: str


Event = Discard | Moved | Report


@dataclass
class _Pool:
    target: Target
    image_id: str | None = None
    secrets_version: str = ""
    idle: deque[str] = field(default_factory=deque)
    deaths: int = 0  # idle containers that died in a row
    gave_up: bool = False
    failures: int = 0  # creations that failed in a row
    not_before: float = 0.0

    @property
    def key(self) -> PoolKey | None:
        if self.image_id is None:
            return None
        target = self.target
        return PoolKey(
            self.image_id, target.limits, target.command, target.env, self.secrets_version
        )

    def wants(self, now: float, creating: int) -> bool:
        return (
            self.image_id is not None
            and not self.gave_up
            and now >= self.not_before
            and len(self.idle) + creating < self.target.size
        )


class WarmPool:
    def __init__(self, targets: Iterable[Target], *, give_up_after: int = GIVE_UP_AFTER) -> None:
        self._pools = {t.image: _Pool(t) for t in targets}
        self._give_up_after = give_up_after
        self._creating: list[Create] = []  # in flight
        self.closing = False

    def resolved(self, image: str, image_id: str) -> list[Event]:
        """The image's tag points to `image_id` now. If it moved, the old image's idle
        containers are discarded, and the pool starts afresh with the new one."""
        pool = self._pools.get(image)
        if pool is None or pool.image_id == image_id:
            return []
        old, pool.image_id = pool.image_id, image_id
        pool.deaths = pool.failures = 0
        pool.gave_up = False
        pool.not_before = 0.0
        if old is None:
            return []
        discards = self._empty(pool, f"retired: {image} now points to another image")
        return [Moved(image, old, image_id), *discards]

    def secrets_read(self, image: str, version: str) -> list[Event]:
        """The image's secret files hold `version` now. If it changed, the idle containers
        given the old contents are discarded: the next task gets the new ones."""
        pool = self._pools.get(image)
        if pool is None or pool.secrets_version == version:
            return []
        pool.secrets_version = version
        return self._empty(pool, f"retired: a secret of {image} changed")

    def hand_out(self, image: str, key: PoolKey) -> str | None:
        """The oldest idle container for a task of `image` whose container is `key`, or None
        (the task starts cold). The caller checks it is alive, then says `confirmed` or
        `died`."""
        pool = self._pools.get(image)
        if pool is None or pool.key != key or not pool.idle or self.closing:
            return None
        return pool.idle.popleft()

    def confirmed(self, image: str) -> None:
        """A container handed out was alive: the image's idle containers do not keep dying."""
        pool = self._pools.get(image)
        if pool is not None:
            pool.deaths = 0

    def next_creation(self, now: float, *, busy: bool = False) -> Create | None:
        """The container to create now, if any, for the emptiest pool: one at a time; but
        while that pool is empty and no task is launching a container of its own (`busy`:
        tasks need the engine), up to its size at once (at most MAX_PARALLEL_CREATIONS)."""
        if self.closing:
            return None
        wanting = [p for p in self._pools.values() if p.wants(now, self._in_flight(p))]
        if not wanting:
            return None
        pool = min(wanting, key=lambda p: len(p.idle) / p.target.size)
        key = pool.key
        if key is None:  # wants() checked it: never
            return None
        at_once = 1 if busy or pool.idle else min(pool.target.size, MAX_PARALLEL_CREATIONS)
        if len(self._creating) >= at_once:
            return None
        create = Create(pool.target.image, key)
        self._creating.append(create)
        return create

    def _in_flight(self, pool: _Pool) -> int:
        return sum(1 for create in self._creating if create.image == pool.target.image)

    def _landed(self, create: Create) -> None:
        """A creation ended (its key may have changed on the way: its secrets were read)."""
        landed = next((c for c in self._creating if c.image == create.image), None)
        if landed is not None:
            self._creating.remove(landed)

    def created(self, create: Create, container_id: str) -> list[Event]:
        """The creation finished: the container joins its pool, unless it is no longer
        wanted (the runner is closing, the tag moved, the pool is full)."""
        self._landed(create)
        pool = self._pools[create.image]
        events: list[Event] = []
        if pool.failures:
            events.append(Report("info", f"warm containers of {create.image} start again"))
            pool.failures = 0
        if self.closing:
            return [*events, Discard(container_id, "the runner is shutting down")]
        if pool.key != create.key:
            reason = f"retired: {create.image} now points to another image"
            return [*events, Discard(container_id, reason)]
        if pool.gave_up or len(pool.idle) >= pool.target.size:
            return [*events, Discard(container_id, "not needed any more")]
        pool.idle.append(container_id)
        return events

    def creation_failed(self, create: Create, problem: str, now: float) -> list[Event]:
        """The creation failed: that pool waits before trying again (the first failure of a
        run of them is reported)."""
        self._landed(create)
        pool = self._pools[create.image]
        pool.not_before = now + backoff_delay(
            pool.failures, base_s=_RETRY_BASE_S, factor=2.0, cap_s=_RETRY_CAP_S, jitter=0.0
        )
        pool.failures += 1
        if pool.failures > 1:
            return []
        return [
            Report(
                "warning",
                f"cannot start a warm container of {create.image}: {problem}; its tasks start "
                "cold until it can",
            )
        ]

    def ended(self, image: str, container_id: str) -> None:
        """An idle container's output ended (found by a check while it waited): it is no
        longer handed out. `died` or `lost` follows, once its fate is known."""
        pool = self._pools.get(image)
        if pool is not None and container_id in pool.idle:
            pool.idle.remove(container_id)

    def died(self, image: str, container_id: str, detail: str) -> list[Event]:
        """A container exited (or was removed) before its task: discard it. Reported once
        its image's containers have died `give_up_after` times in a row; that image then
        runs cold."""
        self.ended(image, container_id)
        events: list[Event] = [Discard(container_id, f"died while idle: {detail}")]
        pool = self._pools.get(image)
        if pool is None or pool.gave_up:
            return events
        pool.deaths += 1
        if pool.deaths >= self._give_up_after:
            pool.gave_up = True
            events += self._empty(pool, "its image's warm containers keep dying")
            events.append(
                Report(
                    "error",
                    f"image {image}: its warm containers keep exiting while they wait for a "
                    f"task ({pool.deaths} in a row; the last one {detail}); its tasks start cold "
                    "from now on (until the image changes)",
                )
            )
        return events

    def lost(self, image: str, container_id: str) -> list[Event]:
        """An idle container cannot be used, through no fault of its image (the engine did
        not answer): discard it, without counting it as a death."""
        self.ended(image, container_id)
        return [Discard(container_id, "its stream to the engine was lost")]

    def idle(self) -> list[tuple[str, str]]:
        """(image, container id) of every idle container."""
        return [(image, cid) for image, pool in self._pools.items() for cid in pool.idle]

    def image_ids(self) -> dict[str, str | None]:
        """The image ID each served image resolved to last (None: not yet)."""
        return {image: pool.image_id for image, pool in self._pools.items()}

    def close(self) -> list[Event]:
        """Shutting down: every idle container is discarded, and no more are created."""
        self.closing = True
        return [
            event
            for pool in self._pools.values()
            for event in self._empty(pool, "the runner is shutting down")
        ]

    def _empty(self, pool: _Pool, reason: str) -> list[Event]:
        discards: list[Event] = [Discard(cid, reason) for cid in pool.idle]
        pool.idle.clear()
        return discards


def death(exit_code: int, oom_killed: bool, stderr: str) -> str:
    """How an idle container died, in words, for `WarmPool.died`."""
    what = "was killed for lack of memory" if oom_killed else "exited"
    text = f"{what} with code {exit_code}"
    return f"{text}; stderr ends with: {stderr}" if stderr else text

"""The warm pool and secrets: a container is handed out only to a task of the same
environment and secrets, and only while its secrets' files still hold what it was given;
a rotated file retires the idle containers made before (state machine and pool)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from runner.core.policy import ContainerEnv, ContainerLimits
from runner.core.secrets import SecretSnapshot, SecretSource
from runner.core.warmpool import Create, Discard, PoolKey, Target, WarmPool
from runner.engine.interface import ContainerSpec
from runner.engine.pool import ContainerPool
from tests.unit.test_pool import IMAGE, TASK_LABELS, PoolEngine, eventually

LIMITS = ContainerLimits()
TOKEN = SecretSource("api_token", "/etc/secrets/token")
ENV = ContainerEnv((("MODE", "fast"),), (TOKEN,))


@dataclass
class Files:
    """The secret files' contents, by path, as the pool reads them."""

    contents: dict[str, bytes] = field(default_factory=lambda: {TOKEN.path: b"v1"})
    reads: int = 0

    def snapshot(self, image: str, sources: Sequence[SecretSource]) -> SecretSnapshot:
        self.reads += 1
        return SecretSnapshot(tuple((s.name, self.contents[s.path]) for s in sources))


def version(content: bytes) -> str:
    return SecretSnapshot((("api_token", content),)).version


def test_a_changed_secret_retires_the_idle_containers_given_the_old_one() -> None:
    machine = WarmPool([Target(IMAGE, LIMITS, 2, env=ENV)])
    machine.resolved(IMAGE, "sha256:one")
    assert machine.secrets_read(IMAGE, version(b"v1")) == []
    key = PoolKey("sha256:one", LIMITS, None, ENV, version(b"v1"))
    for container_id in ("c1", "c2"):
        create = machine.next_creation(0.0)
        assert create == Create(IMAGE, key)
        machine.created(create, container_id)
    assert machine.secrets_read(IMAGE, version(b"v1")) == []  # unchanged: nothing
    assert machine.secrets_read(IMAGE, version(b"v2")) == [
        Discard("c1", f"retired: a secret of {IMAGE} changed"),
        Discard("c2", f"retired: a secret of {IMAGE} changed"),
    ]
    assert machine.hand_out(IMAGE, key) is None
    new_key = PoolKey("sha256:one", LIMITS, None, ENV, version(b"v2"))
    assert machine.next_creation(0.0) == Create(IMAGE, new_key)


def test_a_task_of_other_secrets_or_environment_never_gets_the_pools_container() -> None:
    machine = WarmPool([Target(IMAGE, LIMITS, 1, env=ENV)])
    machine.resolved(IMAGE, "sha256:one")
    machine.secrets_read(IMAGE, version(b"v1"))
    create = machine.next_creation(0.0)
    assert create is not None
    machine.created(create, "c1")
    others = [
        PoolKey("sha256:one", LIMITS, None, ContainerEnv(), ""),
        PoolKey("sha256:one", LIMITS, None, ContainerEnv(secrets=(TOKEN,)), version(b"v1")),
        PoolKey("sha256:one", LIMITS, None, ENV, version(b"v0")),
    ]
    assert [machine.hand_out(IMAGE, key) for key in others] == [None, None, None]
    assert machine.hand_out(IMAGE, create.key) == "c1"


def spec() -> ContainerSpec:
    return ContainerSpec(image=IMAGE, labels=TASK_LABELS, env=ENV)


def test_a_rotated_file_is_seen_at_the_next_hand_out_and_given_to_the_cold_container() -> None:
    engine, files = PoolEngine(), Files()
    pool = ContainerPool(engine, [Target(IMAGE, LIMITS, 1, env=ENV)], runner_id="r1", secrets=files)
    pool.start({IMAGE: "sha256:one"})
    try:
        eventually(lambda: len(engine.idle()) == 1, "the pool filled")
        [(warm_spec, old)] = engine.launched
        assert warm_spec.env == ENV
        assert warm_spec.secrets == SecretSnapshot((("api_token", b"v1"),))
        files.contents[TOKEN.path] = b"v2"  # rotated
        container = pool.launch(spec())
        assert container.warm is False, "a container given the old secret was handed out"
        cold_spec = engine.launched[-1][0]
        assert cold_spec.secrets == SecretSnapshot((("api_token", b"v2"),))
        eventually(lambda: old.removed, "the old warm container retired")
        eventually(lambda: len(engine.idle()) == 1, "the pool refilled")
        assert engine.launched[-1][0].secrets == SecretSnapshot((("api_token", b"v2"),))
        assert pool.launch(spec()).warm is True
    finally:
        pool.close()


def test_an_image_without_secrets_reads_no_file() -> None:
    engine, files = PoolEngine(), Files()
    pool = ContainerPool(engine, [Target(IMAGE, LIMITS, 0)], runner_id="r1", secrets=files)
    pool.start({IMAGE: "sha256:one"})
    try:
        pool.launch(ContainerSpec(image=IMAGE, labels=TASK_LABELS))
        assert files.reads == 0
        assert engine.launched[0][0].secrets is None
    finally:
        pool.close()

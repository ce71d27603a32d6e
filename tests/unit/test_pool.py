"""The warm pool as a Launcher (runner.engine.pool), on a fake engine: hand-out, refill,
keys, a moved tag, dead idle containers, cold starts and shutdown."""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from runner.core.errors import ConfigError, EngineError, ImageMissing
from runner.core.policy import ContainerLimits
from runner.core.warmpool import Target
from runner.engine.interface import (
    LABEL_INSTANCE_ID,
    LABEL_POOL,
    LABEL_RUNNER_ID,
    ContainerSpec,
)
from runner.engine.pool import ContainerPool
from tests.unit.fakes import FakeContainer

IMAGE = "x/task:latest"
LIMITS = ContainerLimits()
TASK_LABELS = {LABEL_RUNNER_ID: "r1", LABEL_INSTANCE_ID: "i1"}


@dataclass
class PoolEngine:
    """Creates silent, running containers c1, c2, ... and names images by a mutable table."""

    ids: dict[str, str] = field(default_factory=lambda: {IMAGE: "sha256:one"})
    launched: list[tuple[ContainerSpec, FakeContainer]] = field(default_factory=list)
    fail: bool = False
    _numbers: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def image_id(self, image: str) -> str:
        if image not in self.ids:
            raise ConfigError(f"image {image} not found in the engine (build it first)")
        return self.ids[image]

    def launch(self, spec: ContainerSpec) -> FakeContainer:
        if self.fail:
            raise EngineError("cannot create a container: engine on fire")
        with self._lock:
            container = FakeContainer([], id=f"c{next(self._numbers)}")
            self.launched.append((spec, container))
        return container

    def warm(self) -> list[FakeContainer]:
        """The containers created for the pool, in order."""
        with self._lock:
            return [c for spec, c in self.launched if LABEL_POOL in spec.labels]

    def idle(self) -> list[FakeContainer]:
        return [c for c in self.warm() if not c.removed and not c.dead and not c.stdin]


def eventually(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 10
    while not check():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.01)


@pytest.fixture
def engine() -> PoolEngine:
    return PoolEngine()


def started(engine: PoolEngine, size: int = 2, **kwargs: object) -> ContainerPool:
    pool = ContainerPool(engine, [Target(IMAGE, LIMITS, size)], runner_id="r1", **kwargs)  # type: ignore[arg-type]
    pool.start({IMAGE: engine.image_id(IMAGE)})
    return pool


def task_spec(limits: ContainerLimits = LIMITS) -> ContainerSpec:
    return ContainerSpec(image=IMAGE, labels=TASK_LABELS, limits=limits)


def test_a_task_gets_a_ready_container_and_the_pool_refills(engine: PoolEngine) -> None:
    pool = started(engine, size=2)
    try:
        eventually(lambda: len(engine.warm()) == 2, "the pool filled")
        first = engine.warm()[0]
        container = pool.launch(task_spec())
        assert (container.id, container.warm) == (first.id, True)
        eventually(lambda: len(engine.warm()) == 3, "a refill after the hand-out")
        # Created from the image ID, with the pool's labels and the task's policy.
        spec = engine.launched[0][0]
        assert spec.image == "sha256:one"
        assert spec.labels == {LABEL_RUNNER_ID: "r1", LABEL_POOL: IMAGE}
        assert spec.limits == LIMITS
        assert len(engine.warm()) == len(engine.launched), "a cold launch on the task's path"
    finally:
        pool.close()


def test_an_empty_pool_means_a_cold_start_from_the_image_id(engine: PoolEngine) -> None:
    pool = started(engine, size=0)
    try:
        container = pool.launch(task_spec())
        assert container.warm is False
        [(spec, _)] = engine.launched
        assert (spec.image, dict(spec.labels)) == ("sha256:one", TASK_LABELS)
    finally:
        pool.close()


def test_a_task_of_another_policy_starts_cold(engine: PoolEngine) -> None:
    pool = started(engine, size=1)
    try:
        eventually(lambda: len(engine.idle()) == 1, "the pool filled")
        container = pool.launch(task_spec(ContainerLimits(runtime="runsc")))
        assert container.warm is False
        assert engine.launched[-1][0].limits.runtime == "runsc"
        assert len(engine.idle()) == 1, "the warm one was given away"
    finally:
        pool.close()


def test_after_a_tag_moved_no_old_container_gets_a_task(engine: PoolEngine) -> None:
    moved: list[tuple[str, str]] = []
    pool = started(engine, size=2, on_moved=lambda *args: moved.append(args))
    try:
        eventually(lambda: len(engine.idle()) == 2, "the pool filled")
        old = engine.warm()
        engine.ids[IMAGE] = "sha256:two"  # rebuilt: the tag moved
        container = pool.launch(task_spec())
        assert container.warm is False, "got a container of the old image"
        assert engine.launched[-1][0].image == "sha256:two"
        eventually(lambda: all(c.removed for c in old), "the old containers retired")
        eventually(lambda: moved == [(IMAGE, "sha256:two")], "the move announced")
        eventually(lambda: len(engine.idle()) == 2, "the pool refilled")
        assert {spec.image for spec, c in engine.launched if c in engine.idle()} == {"sha256:two"}
        assert pool.launch(task_spec()).warm is True
    finally:
        pool.close()


def test_a_dead_idle_container_is_discarded_and_the_task_does_not_fail(
    engine: PoolEngine,
) -> None:
    pool = started(engine, size=2)
    try:
        eventually(lambda: len(engine.idle()) == 2, "the pool filled")
        first, second = engine.warm()
        first.dead = True  # e.g. `docker kill` while it waited
        container = pool.launch(task_spec())
        assert (container.id, container.warm) == (second.id, True)
        eventually(lambda: first.removed, "the dead one removed")
        second.dead = True
        eventually(lambda: second.id not in {c.id for c in engine.idle()}, "")
    finally:
        pool.close()


def test_an_image_whose_idle_containers_keep_dying_is_reported_once_and_runs_cold(
    engine: PoolEngine, caplog: pytest.LogCaptureFixture
) -> None:
    pool = started(engine, size=1)
    try:
        with caplog.at_level(logging.WARNING):
            for _ in range(3):
                eventually(lambda: len(engine.idle()) == 1, "a refill")
                [waiting] = engine.idle()
                waiting.stderr = "ImportError: no module named x"
                waiting.dead = True
            eventually(lambda: "keep exiting" in caplog.text, "the report")
            time.sleep(0.3)  # the pool would refill by now
            assert engine.idle() == []
            assert pool.launch(task_spec()).warm is False
        errors = [r for r in caplog.records if r.levelno == logging.ERROR and "pool" in r.name]
        assert len(errors) == 1, [r.getMessage() for r in errors]
        assert "ImportError: no module named x" in errors[0].getMessage()
    finally:
        pool.close()


def test_removal_is_queued_off_the_task_path_and_done_by_shutdown(engine: PoolEngine) -> None:
    pool = started(engine, size=1)
    eventually(lambda: len(engine.idle()) == 1, "the pool filled")
    container = pool.launch(task_spec())
    container.remove()
    cold = pool.launch(task_spec())
    cold.remove()
    pool.close()
    assert all(c.removed for _, c in engine.launched), "a container left at shutdown"


def test_shutdown_removes_every_idle_container_and_refills_no_more(engine: PoolEngine) -> None:
    pool = started(engine, size=3)
    eventually(lambda: len(engine.idle()) == 3, "the pool filled")
    pool.close()
    assert all(c.removed for _, c in engine.launched)
    count = len(engine.launched)
    time.sleep(0.3)
    assert len(engine.launched) == count, "created after shutdown"


def test_a_failing_engine_is_reported_once_and_tasks_start_cold(
    engine: PoolEngine, caplog: pytest.LogCaptureFixture
) -> None:
    engine.fail = True
    with caplog.at_level(logging.WARNING):
        pool = started(engine, size=2)
        try:
            eventually(lambda: "cannot start a warm container" in caplog.text, "the report")
            with pytest.raises(EngineError, match="engine on fire"):
                pool.launch(task_spec())
            engine.fail = False
            assert pool.launch(task_spec()).warm is False
        finally:
            pool.close()


def test_an_image_removed_from_the_engine_is_an_image_missing_error(
    engine: PoolEngine,
) -> None:
    pool = started(engine, size=0)
    try:
        del engine.ids[IMAGE]
        with pytest.raises(ImageMissing, match=f"image {IMAGE} is not in the engine any more"):
            pool.launch(task_spec())
    finally:
        pool.close()


@dataclass
class GatedEngine(PoolEngine):
    """Its launches wait for the gate to open; it counts those under way."""

    gate: threading.Event = field(default_factory=threading.Event)
    under_way: int = 0
    cold_under_way: int = 0

    def launch(self, spec: ContainerSpec) -> FakeContainer:
        with self._lock:
            self.under_way += 1
            self.cold_under_way += LABEL_POOL not in spec.labels
        try:
            assert self.gate.wait(10), "the gate never opened"
            return super().launch(spec)
        finally:
            with self._lock:
                self.under_way -= 1
                self.cold_under_way -= LABEL_POOL not in spec.labels


def test_an_empty_pool_refills_with_several_creations_at_once() -> None:
    engine = GatedEngine()
    pool = started(engine, size=3)
    try:
        eventually(lambda: engine.under_way == 3, "three creations under way at once")
        engine.gate.set()
        eventually(lambda: len(engine.idle()) == 3, "the pool filled")
    finally:
        engine.gate.set()
        pool.close()


def test_while_a_task_launches_its_own_container_the_pool_creates_one_at_a_time() -> None:
    engine = GatedEngine()
    pool = ContainerPool(engine, [Target(IMAGE, LIMITS, 3)], runner_id="r1")
    cold = threading.Thread(target=pool.launch, args=(task_spec(),), daemon=True)
    try:
        cold.start()  # the pool is empty: the task launches its own container
        eventually(lambda: engine.cold_under_way == 1, "the cold launch under way")
        pool.start({IMAGE: engine.image_id(IMAGE)})
        eventually(lambda: engine.under_way == 2, "one creation beside it")
        time.sleep(0.3)  # the pool's thread looks again meanwhile (every 0.25 s at most)
        assert engine.under_way == 2
        engine.gate.set()
        eventually(lambda: len(engine.idle()) == 3, "the pool filled")
    finally:
        engine.gate.set()
        cold.join(10)
        pool.close()

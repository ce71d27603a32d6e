"""The warm pool's decisions (runner.core.warmpool), fact by fact, with no engine at all."""

from __future__ import annotations

from runner.core.policy import ContainerLimits
from runner.core.warmpool import (
    MAX_PARALLEL_CREATIONS,
    Create,
    Discard,
    Moved,
    PoolKey,
    Report,
    Target,
    WarmPool,
)

IMAGE = "x/task:latest"
OTHER = "x/other:latest"
LIMITS = ContainerLimits()
KEY = PoolKey("sha256:one", LIMITS)


def pool(size: int = 2, *, other_size: int | None = None) -> WarmPool:
    targets = [Target(IMAGE, LIMITS, size)]
    if other_size is not None:
        targets.append(Target(OTHER, LIMITS, other_size))
    machine = WarmPool(targets)
    machine.resolved(IMAGE, "sha256:one")
    if other_size is not None:
        machine.resolved(OTHER, "sha256:other")
    return machine


def fill(machine: WarmPool, *ids: str) -> None:
    for container_id in ids:
        create = machine.next_creation(0.0)
        assert create is not None
        assert machine.created(create, container_id) == []


def test_an_empty_pool_is_refilled_with_up_to_its_size_at_once() -> None:
    machine = pool(size=3)
    creations = [machine.next_creation(0.0) for _ in range(3)]
    assert creations == [Create(IMAGE, KEY)] * 3
    assert machine.next_creation(0.0) is None, "its size is under way"
    for create, container_id in zip(creations, ("c1", "c2", "c3"), strict=True):
        assert machine.created(create, container_id) == []
    assert machine.next_creation(0.0) is None, "the pool is full"
    assert machine.idle() == [(IMAGE, "c1"), (IMAGE, "c2"), (IMAGE, "c3")]


def test_a_pool_with_an_idle_container_is_refilled_one_at_a_time() -> None:
    machine = pool(size=3)
    fill(machine, "c1")
    assert machine.next_creation(0.0) == Create(IMAGE, KEY)
    assert machine.next_creation(0.0) is None, "a second creation while one is in flight"


def test_while_tasks_launch_their_own_containers_one_creation_at_a_time() -> None:
    machine = pool(size=3)
    assert machine.next_creation(0.0, busy=True) == Create(IMAGE, KEY)
    assert machine.next_creation(0.0, busy=True) is None, "tasks need the engine"
    assert machine.next_creation(0.0) == Create(IMAGE, KEY), "they no longer do"


def test_creations_at_once_are_capped() -> None:
    machine = pool(size=MAX_PARALLEL_CREATIONS + 3)
    under_way = [machine.next_creation(0.0) for _ in range(MAX_PARALLEL_CREATIONS + 1)]
    assert under_way.count(None) == 1


def test_a_creation_whose_key_changed_on_the_way_still_ends() -> None:
    machine = pool(size=1)
    create = machine.next_creation(0.0)
    assert create is not None
    newer = Create(IMAGE, PoolKey("sha256:one", LIMITS, secrets_version="v2"))
    assert machine.created(newer, "c1")  # discarded: the pool's key is not the newer one
    assert machine.next_creation(0.0) == Create(IMAGE, KEY), "nothing left under way"


def test_a_hand_out_gives_the_oldest_idle_container_and_asks_for_a_refill() -> None:
    machine = pool(size=2)
    fill(machine, "c1", "c2")
    assert machine.hand_out(IMAGE, KEY) == "c1"
    machine.confirmed(IMAGE)
    assert machine.next_creation(0.0) == Create(IMAGE, KEY)


def test_an_empty_pool_hands_out_nothing_so_the_task_starts_cold() -> None:
    machine = pool(size=1)
    assert machine.hand_out(IMAGE, KEY) is None
    fill(machine, "c1")
    assert machine.hand_out(IMAGE, KEY) == "c1"
    assert machine.hand_out(IMAGE, KEY) is None


def test_size_zero_keeps_nothing_warm() -> None:
    machine = pool(size=0)
    assert machine.next_creation(0.0) is None
    assert machine.hand_out(IMAGE, KEY) is None


def test_the_emptiest_pool_is_refilled_first() -> None:
    machine = pool(size=2, other_size=2)
    fill(machine, "c1")
    create = machine.next_creation(0.0)
    assert create is not None and create.image == OTHER


def test_a_container_goes_only_to_a_task_with_exactly_its_image_and_policy() -> None:
    machine = pool(size=1)
    fill(machine, "c1")
    looser = PoolKey("sha256:one", ContainerLimits(memory_bytes=2 * 1024**3))
    assert machine.hand_out(IMAGE, looser) is None
    assert machine.hand_out(IMAGE, PoolKey("sha256:one", LIMITS, ("sh", "-c", "x"))) is None
    assert machine.hand_out(IMAGE, PoolKey("sha256:two", LIMITS)) is None
    assert machine.hand_out(OTHER, KEY) is None, "another image's pool"
    assert machine.hand_out(IMAGE, KEY) == "c1"


def test_a_moved_tag_retires_the_old_containers_and_refills_from_the_new_image() -> None:
    machine = pool(size=2)
    fill(machine, "c1")
    in_flight = machine.next_creation(0.0)
    assert in_flight is not None
    events = machine.resolved(IMAGE, "sha256:two")
    assert events[0] == Moved(IMAGE, "sha256:one", "sha256:two")
    assert [e.container_id for e in events if isinstance(e, Discard)] == ["c1"]
    assert machine.hand_out(IMAGE, KEY) is None, "an old container handed out"
    # The creation under way was of the old image: it is discarded when it arrives.
    [late] = machine.created(in_flight, "c2")
    assert isinstance(late, Discard) and late.container_id == "c2"
    new_key = PoolKey("sha256:two", LIMITS)
    assert machine.next_creation(0.0) == Create(IMAGE, new_key)
    assert machine.resolved(IMAGE, "sha256:two") == [], "no move: nothing happens"


def test_a_dead_idle_container_is_discarded_and_another_handed_out() -> None:
    machine = pool(size=2)
    fill(machine, "c1", "c2")
    assert machine.hand_out(IMAGE, KEY) == "c1"
    events = machine.died(IMAGE, "c1", "exited with code 137")
    assert events == [Discard("c1", "died while idle: exited with code 137")]
    assert machine.hand_out(IMAGE, KEY) == "c2"


def test_a_container_found_dead_while_waiting_is_never_handed_out() -> None:
    machine = pool(size=2)
    fill(machine, "c1", "c2")
    machine.ended(IMAGE, "c1")
    assert machine.idle() == [(IMAGE, "c2")]
    assert machine.died(IMAGE, "c1", "exited with code 1") == [
        Discard("c1", "died while idle: exited with code 1")
    ]
    assert machine.hand_out(IMAGE, KEY) == "c2"


def test_an_image_whose_idle_containers_keep_dying_is_reported_once_then_runs_cold() -> None:
    machine = pool(size=3)
    fill(machine, "c1", "c2", "c3")
    reports: list[Report] = []
    for container_id in ("c1", "c2", "c3"):
        machine.ended(IMAGE, container_id)
        events = machine.died(IMAGE, container_id, "exited with code 1; stderr ends with: boom")
        reports += [e for e in events if isinstance(e, Report)]
    [report] = reports
    assert report.level == "error"
    assert report.message.startswith(f"image {IMAGE}: its warm containers keep exiting")
    assert "3 in a row" in report.message and "boom" in report.message
    assert machine.hand_out(IMAGE, KEY) is None
    assert machine.next_creation(0.0) is None, "still refilling a pool given up on"
    # Once given up on, more deaths say nothing more.
    assert [e for e in machine.died(IMAGE, "c9", "exited") if isinstance(e, Report)] == []
    # A new image gets a fresh chance.
    machine.resolved(IMAGE, "sha256:two")
    assert machine.next_creation(0.0) == Create(IMAGE, PoolKey("sha256:two", LIMITS))


def test_deaths_count_only_in_a_row_and_lost_streams_do_not_count() -> None:
    machine = pool(size=1)
    for round_ in range(5):
        fill(machine, f"a{round_}")
        machine.ended(IMAGE, f"a{round_}")
        assert not [e for e in machine.died(IMAGE, f"a{round_}", "x") if isinstance(e, Report)]
        fill(machine, f"b{round_}")
        machine.ended(IMAGE, f"b{round_}")
        assert machine.lost(IMAGE, f"b{round_}") == [
            Discard(f"b{round_}", "its stream to the engine was lost")
        ]
        fill(machine, f"c{round_}")
        assert machine.hand_out(IMAGE, KEY) == f"c{round_}"
        machine.confirmed(IMAGE)  # a good hand-out ends the run of deaths


def test_a_failed_creation_waits_before_trying_again_and_is_reported_once() -> None:
    machine = pool(size=1)
    create = machine.next_creation(0.0)
    assert create is not None
    [report] = machine.creation_failed(create, "engine on fire", now=10.0)
    assert report.level == "warning" and "engine on fire" in report.message
    assert machine.next_creation(10.5) is None, "tried again at once"
    again = machine.next_creation(11.0)
    assert again is not None
    assert machine.creation_failed(again, "engine on fire", now=11.0) == []
    assert machine.next_creation(12.5) is None, "the wait does not grow"
    third = machine.next_creation(13.0)
    assert third is not None
    [back] = machine.created(third, "c1")
    assert isinstance(back, Report) and back.level == "info"


def test_shutdown_discards_every_idle_container_and_creates_no_more() -> None:
    machine = pool(size=2, other_size=1)
    fill(machine, "c1", "c2")
    in_flight = machine.next_creation(0.0)
    assert in_flight is not None
    discarded = {e.container_id for e in machine.close() if isinstance(e, Discard)}
    assert discarded == {"c1", "c2"}
    assert machine.idle() == []
    assert machine.hand_out(IMAGE, KEY) is None
    [late] = machine.created(in_flight, "c3")
    assert late == Discard("c3", "the runner is shutting down")
    assert machine.next_creation(0.0) is None


def test_an_image_not_resolved_yet_is_not_refilled() -> None:
    machine = WarmPool([Target(IMAGE, LIMITS, 2)])
    assert machine.next_creation(0.0) is None
    assert machine.resolved(IMAGE, "sha256:one") == [], "the first resolution is no move"
    assert machine.next_creation(0.0) == Create(IMAGE, KEY)

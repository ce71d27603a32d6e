"""Caps per task type and per image (`max_running`): which task types the loop polls, and the
loop never taking a task over a cap; the configuration file's sections."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import pytest

from runner.config.policy import build_policies, policy_file
from runner.core.backoff import Backoff
from runner.core.caps import NAMED_POLLS, Caps, Claims
from runner.core.catalog import TaskRoute
from runner.core.errors import SettingError
from runner.core.model import TaskInstance
from runner.worker.loop import Worker

IMAGE = "x/tasks:1"
OTHER = "x/other:1"


def route(namespace: str, name: str, image: str = IMAGE) -> TaskRoute:
    return TaskRoute(image, {"namespace": namespace, "name": name, "schemaVersion": 0})


ROUTES = [route("ns", "a"), route("ns", "b"), route("ns", "c", OTHER), route("other", "z")]


def test_without_caps_each_namespace_is_polled_whole() -> None:
    claims = Claims(Caps(), ROUTES)
    claims.taken("ns", "a")
    assert claims.names("ns") is None


def test_a_task_type_at_its_cap_is_not_polled_the_others_are_by_name() -> None:
    claims = Claims(Caps(tasks={"ns/a": 2}), ROUTES)
    claims.taken("ns", "a")
    assert claims.names("ns") is None  # 1 of 2: the namespace whole
    claims.taken("ns", "a")
    assert claims.names("ns") == ("b", "c")
    assert claims.names("other") is None
    claims.ended("ns", "a")
    assert claims.names("ns") is None
    assert claims.running("ns/a") == 1


def test_an_image_at_its_cap_holds_all_its_task_types() -> None:
    claims = Claims(Caps(images={IMAGE: 1}), ROUTES)
    claims.taken("ns", "b")
    assert claims.names("ns") == ("c",)  # a and b are IMAGE's; c is another image's
    claims.taken("ns", "c")
    assert claims.names("ns") == ("c",)
    claims.ended("ns", "b")
    assert claims.names("ns") is None


def test_named_polls_take_turns_over_a_large_namespace() -> None:
    many = [route("big", f"t{i:03}") for i in range(50)]
    claims = Claims(Caps(tasks={"big/t000": 1}), many)
    claims.taken("big", "t000")
    rounds = [claims.names("big") for _ in range(3)]
    assert all(r is not None and len(r) == NAMED_POLLS for r in rounds)
    polled = {name for r in rounds if r for name in r}
    assert "t000" not in polled and len(polled) == 49  # every other one, in turn


@dataclass
class NamedSource:
    """A queue per task type; a poll without a name takes the oldest of any type."""

    queues: dict[str, list[TaskInstance]]
    polls: list[str | None] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def poll(self, namespace: str, name: str | None = None) -> TaskInstance | None:
        with self.lock:
            self.polls.append(name)
            for task, queue in self.queues.items():
                if queue and name in (None, task):
                    return queue.pop(0)
            return None


@dataclass
class Holding:
    """Runs each task until released; records how many of each type ran at once."""

    release: threading.Event = field(default_factory=threading.Event)
    running: dict[str, int] = field(default_factory=dict)
    most: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def execute(self, instance: TaskInstance, stop: threading.Event) -> None:
        with self.lock:
            now = self.running[instance.name] = self.running.get(instance.name, 0) + 1
            self.most[instance.name] = max(self.most.get(instance.name, 0), now)
        self.release.wait(5)
        with self.lock:
            self.running[instance.name] -= 1


def test_the_loop_never_takes_a_task_over_its_cap_and_takes_the_others() -> None:
    queues = {
        "a": [TaskInstance(f"a{i}", "ns", "a") for i in range(4)],
        "b": [TaskInstance(f"b{i}", "ns", "b") for i in range(2)],
    }
    source, executor = NamedSource(queues), Holding()
    worker = Worker(
        source,
        executor,
        namespaces=["ns"],
        concurrency=4,
        idle=Backoff(base_s=0.01, cap_s=0.02, jitter=0),
        failing=Backoff(base_s=0.01, cap_s=0.02, jitter=0),
        drain_timeout_s=5,
        claims=Claims(Caps(tasks={"ns/a": 1}), [route("ns", "a"), route("ns", "b")]),
    )
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        deadline = time.monotonic() + 5
        while sum(executor.running.values()) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.1)  # a slot is free: the loop polls on, and must not take another a
        assert executor.running == {"a": 1, "b": 2}
        assert len(queues["a"]) == 3  # still queued, for another runner
        assert "a" not in source.polls  # a capped type is never polled
    finally:
        executor.release.set()
        worker.request_stop()
        thread.join(10)
    assert executor.most["a"] == 1


def test_task_sections_and_caps_from_the_configuration_file() -> None:
    file = policy_file(
        {
            "defaults": {"memory": "512m"},
            "images": {IMAGE: {"memory": "1g", "max_running": 3}},
            "tasks": {"ns/a": {"memory": "64m", "task_timeout_s": 30, "max_running": 1}},
        },
        "runner.toml",
    )
    table = build_policies(file, {}, [IMAGE])
    assert table.caps == Caps(tasks={"ns/a": 1}, images={IMAGE: 3})
    own = table.for_task(IMAGE, "ns", "a")
    assert (own.limits.memory_bytes, own.timeout_s) == (64 * 1024**2, 30.0)
    assert table.for_task(IMAGE, "ns", "b").limits.memory_bytes == 1024**3  # its image's


@pytest.mark.parametrize(
    ("document", "said"),
    [
        ({"defaults": {"max_running": 2}}, "max_running is per task type or per image"),
        ({"tasks": {"double": {"memory": "1g"}}}, "is named NAMESPACE/TASK"),
        ({"tasks": {"ns/a": {"network": "bridge"}}}, "'network' cannot be set per task type"),
        ({"tasks": {"ns/a": {"max_running": 0}}}, 'tasks."ns/a"]: max_running: must be 1 to'),
        ({"tasks": {"ns/a": {"memory": "lots"}}}, 'tasks."ns/a"]: memory: not a size'),
        ({"tasks": ["ns/a"]}, "tasks must be tables"),
    ],
)
def test_a_bad_task_section_is_refused_with_one_line(
    document: dict[str, object], said: str
) -> None:
    with pytest.raises(SettingError) as refused:
        policy_file(document, "runner.toml")
    assert said in str(refused.value)
    assert "\n" not in str(refused.value)

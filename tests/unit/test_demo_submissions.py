"""What the demo submits: the tasks its runner's catalog routes, and, while an image is
awaited (`demo --await-images`), the others once their image joins."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from runner.cli import demo
from runner.cli.demo import SUBMISSIONS


@dataclass
class Catalog:
    routed: set[tuple[str, str]] = field(default_factory=set)

    def route(self, namespace: str, task: str) -> object | None:
        return object() if (namespace, task) in self.routed else None


@dataclass
class Client:
    submitted: list[tuple[str, str]] = field(default_factory=list)

    def submit(self, namespace: str, task: str, inputs: dict[str, Any]) -> dict[str, Any]:
        self.submitted.append((namespace, task))
        return {"id": f"id-{len(self.submitted)}"}


def runner(routed: set[tuple[str, str]], awaited: list[str]) -> Any:
    return SimpleNamespace(catalog=Catalog(routed), images=SimpleNamespace(awaited=awaited))


def sample_tasks() -> set[tuple[str, str]]:
    return {(ns, task) for ns, task, _ in SUBMISSIONS if ns == "sample"}


def test_the_routed_tasks_are_submitted_and_the_others_kept_while_an_image_is_awaited() -> None:
    client = Client()
    left = demo._submit(runner(sample_tasks(), ["x/numbers:latest"]), client, list(SUBMISSIONS))
    assert set(client.submitted) == sample_tasks()
    assert {(ns, task) for ns, task, _ in left} == {
        (ns, task) for ns, task, _ in SUBMISSIONS if ns != "sample"
    }
    routed = sample_tasks() | {("numbers", "count_primes")}
    assert demo._submit(runner(routed, []), client, left) == []
    assert client.submitted[-1] == ("numbers", "count_primes")


def test_with_nothing_awaited_the_unrouted_tasks_are_dropped() -> None:
    client = Client()
    assert demo._submit(runner(sample_tasks(), []), client, list(SUBMISSIONS)) == []
    assert set(client.submitted) == sample_tasks()


def test_an_image_that_joined_between_the_two_looks_still_has_its_tasks_submitted() -> None:
    """The image joins the catalog first and stops being awaited after: seen awaited, its
    tasks are kept for the next round; seen joined, they are routed."""
    client = Client()
    joining = runner(set(), ["x/sample:latest"])
    left = demo._submit(joining, client, list(SUBMISSIONS))
    joining.catalog.routed |= sample_tasks()
    joining.images.awaited = []
    assert demo._submit(joining, client, left) == []
    assert set(client.submitted) == sample_tasks()

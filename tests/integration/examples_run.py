"""Run the examples an image declares (label xc-scenario.examples) through the runner's
own executor on the real engine: the terminal status must be what each example
expects, and every line the task wrote on stdout a protocol message."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from runner.catalog import Catalog, routes_from_label
from runner.containers import Chunk, Container, ContainerSpec
from runner.contracts import Contracts
from runner.docker_engine import DockerEngine
from runner.executor import TaskExecutor
from runner.model import TaskInstance, TaskStatus
from runner.protocol import Stream
from runner.settings import RunnerSettings
from scripts.task_examples import EXAMPLES_LABEL, example_route, parse_examples

CONTRACTS = Contracts()


@dataclass
class RecordedContainer:
    """A real container whose stdout is kept, as the executor reads it."""

    inner: Container
    stdout: bytearray = field(default_factory=bytearray)

    @property
    def id(self) -> str:
        return self.inner.id

    def send(self, data: bytes) -> None:
        self.inner.send(data)

    def read(self, timeout_s: float) -> list[Chunk] | None:
        chunks = self.inner.read(timeout_s)
        for stream, data in chunks or []:
            if stream == Stream.STDOUT:
                self.stdout += data
        return chunks

    def stop(self, grace_s: float) -> None:
        self.inner.stop(grace_s)

    def wait(self, timeout_s: float) -> Any:
        return self.inner.wait(timeout_s)

    def remove(self) -> None:
        self.inner.remove()


@dataclass
class RecordingEngine:
    engine: DockerEngine
    launched: list[RecordedContainer] = field(default_factory=list)

    def image_labels(self, image: str) -> Mapping[str, str]:
        return self.engine.image_labels(image)

    def runtimes(self) -> set[str]:
        return self.engine.runtimes()

    def launch(self, spec: ContainerSpec) -> RecordedContainer:
        container = RecordedContainer(self.engine.launch(spec))
        self.launched.append(container)
        return container

    def remove_labelled(self, labels: Mapping[str, str]) -> list[str]:
        return self.engine.remove_labelled(labels)

    def trouble(self) -> str | None:
        return self.engine.trouble()


@dataclass
class Statuses:
    posted: list[TaskStatus] = field(default_factory=list)

    def submit(self, status: TaskStatus) -> None:
        self.posted.append(status)


def protocol_problem(stdout: bytes) -> str | None:
    """Why stdout is not only protocol messages, one terminal message last; None if it is."""
    lines = stdout.split(b"\n")
    if lines[-1] != b"":
        return "stdout does not end with a newline"
    terminals = 0
    for number, line in enumerate(lines[:-1], 1):
        try:
            message = json.loads(line.decode("utf-8"))
        except ValueError as exc:
            return f"line {number} is not UTF-8 JSON: {exc}: {line[:200]!r}"
        if not isinstance(message, dict) or message.get("type") not in ("notify", "result"):
            return f"line {number} is not a protocol message: {line[:200]!r}"
        problem = CONTRACTS.check_message(message)
        if problem:
            return f"line {number}: {problem}"
        terminals += message["type"] == "result" or message.get("status") == "Error"
        if terminals and number != len(lines) - 1:
            return f"line {number} is a terminal message, but not the last line"
    return None if terminals == 1 else f"{terminals} terminal messages"


def outcome_problem(expect: Mapping[str, Any], status: TaskStatus) -> str | None:
    got = {"status": status.status, "message": status.message, "outputs": status.output_values}
    for key in ("status", "message", "outputs"):
        if key in expect and expect[key] != got[key]:
            return f"{key}: expected {expect[key]!r}, got {got[key]!r} ({got})"
    return None


def run_examples(engine: DockerEngine, image: str, runner_id: str) -> list[str]:
    """Run every example of the image; what went wrong, one line per failed example.

    Also checks that the image has examples, and one for each of its tasks.
    """
    labels = engine.image_labels(image)
    if EXAMPLES_LABEL not in labels:
        return [f"{image} declares no examples"]
    routes = routes_from_label(image, labels, CONTRACTS.check_catalog)
    definitions = [route.definition for route in routes]
    examples = parse_examples(labels[EXAMPLES_LABEL], definitions)
    covered = {example_route(example, definitions) for example in examples}
    missing = {(r.namespace, r.name) for r in routes} - covered
    failures = [f"{image}: no example for {namespace}/{name}" for namespace, name in missing]
    recording, statuses = RecordingEngine(engine), Statuses()
    executor = TaskExecutor(
        catalog=Catalog(routes),
        engine=recording,
        contracts=CONTRACTS,
        statuses=statuses,
        settings=RunnerSettings(
            server_url="http://127.0.0.1:9", api_key="unused", images=(image,), runner_id=runner_id
        ),
    )
    for index, example in enumerate(examples):
        route = example_route(example, definitions)
        assert route is not None
        launched = len(recording.launched)
        executor.execute(TaskInstance(f"ex-{index}", *route, example["inputs"]), threading.Event())
        terminal = statuses.posted[-1]
        assert terminal.terminal and terminal.task_instance_id == f"ex-{index}"
        problem = outcome_problem(example["expect"], terminal)
        if problem is None and len(recording.launched) == launched:
            problem = "no container was started"
        if problem is None:
            problem = protocol_problem(bytes(recording.launched[-1].stdout))
        if problem:
            failures.append(f"examples[{index}] {route[1]} {example['inputs']}: {problem}")
    return failures

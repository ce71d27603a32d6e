"""`make bench`: where a warm task's time goes, from a profile of the runner at work.

The bench starts the runner through this module (`python scripts/bench_profile.py OUT run
IMAGE`): timers are put around the functions of a task's path before the runner starts,
and what they recorded (each call's wall-clock start and end) is written to OUT as JSON
when it exits. A timer costs about a microsecond a call, a few dozen calls a task.

`breakdown` then splits each task's time, from the server's hand-out stamp (`takenAt`) to
its `Completed` stamp (`receivedAt`), into the phases of PHASES; what no timer covers
(thread hand-offs, logging, the executor's own steps) is `other`. Tasks are run one at a
time, so each call is the task's whose span holds it.
"""

from __future__ import annotations

import atexit
import functools
import importlib
import json
import statistics
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from runner.cli import main as runner_main

# What is timed: (module, class, method) -> the probe's name.
PROBES = {
    ("runner.scenario.client", "PlatformClient", "poll"): "poll",
    ("runner.scenario.queue", "PlatformQueue", "instance"): "instance check",
    ("runner.contracts.validation", "Contracts", "task_inputs"): "input check",
    ("runner.state.journal", "Journal", "taken"): "journal",
    ("runner.state.journal", "Journal", "handed_out"): "journal",
    ("runner.engine.pool", "ContainerPool", "launch"): "engine",
    ("runner.engine.stream", "AttachStream", "send"): "stdin",
    ("runner.core.taskrun", "TaskRun", "feed"): "result",
    ("runner.state.outbox", "Outbox", "put"): "outbox",
}
# The phases of a task's time, in order, and what each is made of.
PHASES = (
    ("poll", "the poll's answer: server stamp to the runner holding the task"),
    ("input checks", "the task instance and its inputs against their schemas"),
    ("journal", "the task taken, and its container, written to the state file"),
    ("engine calls", "a warm container taken (image ID, secrets, alive check)"),
    ("stdin", "the envelope written to the container"),
    ("task", "the task's own work: stdin written to its first output read"),
    ("result parse", "its output read as the protocol, checked against the catalog"),
    ("status kept", "the terminal status written to the outbox (with the journal)"),
    ("status post", "the outbox's sender posting it, to the server's stamp"),
    ("other", "what no timer covers: hand-offs between threads, logging"),
)

Call = tuple[str, float, float]  # probe, start, end (time.time())


def install(calls: list[Call]) -> None:
    """Put a timer around each probed method."""
    for (module_name, class_name, method), probe in PROBES.items():
        owner = getattr(importlib.import_module(module_name), class_name)
        setattr(owner, method, _timed(getattr(owner, method), probe, calls))


def _timed(function: Callable[..., Any], probe: str, calls: list[Call]) -> Callable[..., Any]:
    @functools.wraps(function)
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.time()
        try:
            return function(*args, **kwargs)
        finally:
            calls.append((probe, started, time.time()))

    return timed


def breakdown(calls: Sequence[Call], spans: Sequence[tuple[float, float]]) -> dict[str, float]:
    """Each phase's median milliseconds over the tasks' spans (taken, completed)."""
    phases: dict[str, list[float]] = {name: [] for name, _ in PHASES}
    for taken, done in spans:
        for name, value in _phases(calls, taken, done).items():
            phases[name].append(value * 1000)
    return {name: statistics.median(values) for name, values in phases.items() if values}


def _phases(calls: Sequence[Call], taken: float, done: float) -> dict[str, float]:
    inside = [c for c in calls if taken - 1.0 <= c[1] <= done]
    polled = min((c[2] for c in inside if c[0] == "poll" and c[2] >= taken), default=taken)

    def spent(*probes: str) -> float:
        return sum(end - start for probe, start, end in inside if probe in probes and end > taken)

    sent = max((c[2] for c in inside if c[0] == "stdin"), default=polled)
    first_output = min((c[1] for c in inside if c[0] == "result" and c[1] >= sent), default=sent)
    kept = max((c[2] for c in inside if c[0] == "outbox"), default=done)
    phases = {
        "poll": max(polled - taken, 0.0),
        "input checks": spent("instance check", "input check"),
        "journal": spent("journal"),
        "engine calls": spent("engine"),
        "stdin": spent("stdin"),
        "task": first_output - sent,
        "result parse": spent("result"),
        "status kept": spent("outbox"),
        "status post": max(done - kept, 0.0),
    }
    phases["other"] = max(done - taken - sum(phases.values()), 0.0)
    return phases


def read(path: Path) -> list[Call]:
    return [tuple(call) for call in json.loads(path.read_text())]  # type: ignore[misc]


def main() -> None:
    if len(sys.argv) < 3 or sys.argv[1] in ("-h", "--help"):
        usage = "usage: python scripts/bench_profile.py OUT COMMAND [ARG ...]  (`make bench`)"
        stream = sys.stdout if sys.argv[1:2] in (["-h"], ["--help"]) else sys.stderr
        stream.write(f"{usage}\n\n{__doc__}")
        sys.exit(0 if stream is sys.stdout else 2)
    out = Path(sys.argv[1])
    calls: list[Call] = []
    lock = threading.Lock()

    def write() -> None:
        with lock:
            out.write_text(json.dumps(calls))

    install(calls)  # before the runner builds its parts
    atexit.register(write)
    sys.argv = ["xc-runner", *sys.argv[2:]]
    sys.exit(runner_main())


if __name__ == "__main__":
    main()

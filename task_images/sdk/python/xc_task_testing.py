"""xc_task_testing: call a task function in this process, as the runner would run it in a
container, and see how it ended: for a task image's unit tests, with pytest and no
container engine.

    import tasks
    from xc_task_testing import call

    def test_hello():
        done = call(tasks, "hello", {"who": "you", "times": 2})
        assert done.status == "Completed"
        assert done.outputs == {"greeting": "Hello, you! Hello, you!"}
        assert done.progress == [(0.5, "greeting you 2 times")]

The inputs go through JSON as the envelope carries them (the runner fills in the
catalog's defaults first; `call` does not), the function is called as ``python3 -m
xc_task`` calls it, and its messages are read back from the protocol's JSON lines, so
the outputs are what the runner receives. A task that fails ends in ``Error``:
``done.message`` and ``done.level`` are what the runner reports, ``done.exception`` is
what the function raised (``TaskError``, or any other exception: its type). Standard
library only, Python 3.9+.
"""

from __future__ import annotations

import importlib
import io
import json
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from xc_task import PROTOCOL_VERSION, Channel, Notifier, execute

__all__ = ["Done", "call"]


@dataclass
class Done:
    """How a task called by `call` ended."""

    status: str  # "Completed" or "Error"
    outputs: dict[str, Any] | None = None  # Completed's outputs, as the runner gets them
    message: str | None = None  # Error's message (or Completed's, if it sent one)
    level: str | None = None  # Error's errorLevel: None, Minor, Critical, Fatal, or None
    exception: BaseException | None = None  # what the function raised, if it did
    progress: list[tuple[float | None, str | None]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)  # every protocol message


def call(
    module: ModuleType | str, task: str, inputs: dict[str, Any] | None = None
) -> Done:
    """Run task `task` of the task module (a module or its name) with these inputs."""
    if isinstance(module, str):
        module = importlib.import_module(module)
    try:
        envelope_inputs = json.loads(json.dumps(inputs or {}, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"xc_task_testing.call: the inputs are not JSON: {exc}") from None
    stream = io.BytesIO()
    channel = Channel(stream)
    declared = {d.get("name") for d in module.task_definitions() if isinstance(d, dict)}
    function = getattr(module, task, None)
    exception = None
    if task not in declared or not callable(function):
        Notifier(channel).error(f"unknown task '{task}' in module {module.__name__}")
    else:
        envelope = {
            "protocol": PROTOCOL_VERSION,
            "task": task,
            "inputs": envelope_inputs,
            "taskInstanceId": "test",
            "namespace": "test",
        }
        exception = execute(function, Notifier(channel, envelope))
    return _done(stream.getvalue(), exception)


def _done(stdout: bytes, exception: BaseException | None) -> Done:
    done = Done(status="", exception=exception)
    for line in stdout.decode("utf-8").splitlines():
        message = json.loads(line)
        done.messages.append(message)
        if message.get("type") == "result":
            done.status, done.outputs = "Completed", message.get("outputs")
            done.message = message.get("message")
        elif message.get("status") == "Error":
            done.status, done.message = "Error", message.get("message")
            done.level = message.get("errorLevel")
        else:
            fraction = message.get("progressPercentage")
            fraction = None if fraction is None else float(fraction)
            done.progress.append((fraction, message.get("message")))
    return done

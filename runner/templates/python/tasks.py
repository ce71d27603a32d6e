"""{{name}}: the tasks of this image, one function each, run by the xc_task SDK.

A function gets the task: its inputs (task.string/integer/number/boolean(name)),
task.progress(fraction, message), and task.error(message, level); it returns its
outputs. Raising TaskError(message, level) fails the task with that message; any
other exception fails it with "<Type>: <message>". test_tasks.py calls them without a
container.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def hello(task: Any) -> dict[str, Any]:
    who = task.string("who")
    times = task.integer("times")
    task.progress(0.5, f"greeting {who} {times} times")
    return {"greeting": " ".join([f"Hello, {who}!"] * times)}


def task_definitions() -> list[dict[str, Any]]:
    """The catalog: catalog.json, beside this file."""
    catalog: list[dict[str, Any]] = json.loads(
        Path(__file__).with_name("catalog.json").read_text(encoding="utf-8")
    )
    return catalog

"""The reference worker's five sample tasks (namespace ``sample``), as a task image.

Each task takes the notifier first and its inputs as keyword arguments, and
returns its outputs as a dict, exactly as for the reference worker; the xc_task
SDK runs them: ``python3 -m xc_task sample``. A sixth, ``rectangle``, is written
with the API the SDKs of the other languages share.
"""

from __future__ import annotations

import time
from typing import Any

from xc_task import TaskError

NAMESPACE = "sample"


def simple(notifier: Any, arg: str) -> dict[str, str]:
    return {"msg": f'The argument received was "{arg}".'}


def double(
    notifier: Any, str_in: str = "xyz (default)", nbr_in: str = "123"
) -> dict[str, str] | None:
    try:
        number = int(nbr_in)
    except (TypeError, ValueError):
        notifier.notify("Error", f"Incorrect value '{nbr_in}' for nbr_in, should be integer")
        return None
    return {"str_out": str_in + str_in, "nbr_out": str(2 * number)}


def reporting_task(notifier: Any, n: str, param: str) -> dict[str, str] | None:
    try:
        seconds = int(n)
    except (TypeError, ValueError):
        notifier.notify("Error", f"Incorrect value '{n}' for n, should be integer")
        return None
    notifier.notify(
        "InProgress",
        f'Input "{param}": going to sleep for {seconds} seconds.',
        progressPercentage="0.0",
    )
    for i in range(1, seconds + 1):
        time.sleep(1)
        notifier.notify("InProgress", str(i), progressPercentage=str(i / seconds))
    notifier.notify("InProgress", "Waking up.")
    return {"result": f'Input "{param}", result is ok'}


def error_placeholder(notifier: Any) -> None:
    notifier.notify("Error", 'Task "error_placeholder" reports a fatal error.')


def zero_division(notifier: Any) -> dict[str, Any]:
    return {"never": 1 / 0}


def rectangle(task: Any) -> dict[str, Any]:
    """Typed inputs (Number) and outputs (Number, Boolean), read through the task."""
    width, height = task.number("width"), task.number("height")
    if width < 0 or height < 0:
        raise TaskError(f"width ({width:g}) and height ({height:g}) must not be negative", "Minor")
    return {"area": width * height, "perimeter": 2 * (width + height), "square": width == height}


def _string(name: str, description: str, default: str | None = None) -> dict[str, Any]:
    """A CatalogParameterType of baseType String (no defaultValue key when there is none)."""
    param = {
        "name": name,
        "baseType": "String",
        "description": description,
        "shortDescription": description,
    }
    if default is not None:
        param["defaultValue"] = default
    return param


def _typed(name: str, base_type: str, description: str) -> dict[str, Any]:
    return {**_string(name, description), "baseType": base_type}


def _task(
    name: str,
    display_name: str,
    description: str,
    *,
    inputs: list[dict[str, Any]] | None = None,
    outputs: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    definition: dict[str, Any] = {
        "namespace": NAMESPACE,
        "name": name,
        "displayName": display_name,
        "description": description,
        "shortDescription": description,
        "schemaVersion": 0,
    }
    if inputs:
        definition["inputs"] = inputs
    if outputs:
        definition["outputs"] = outputs
    return definition


def task_definitions() -> list[dict[str, Any]]:
    return [
        _task(
            "simple",
            "Simple task",
            "Returns a message quoting its argument.",
            inputs=[_string("arg", "Any text")],
            outputs=[_string("msg", "A message quoting the argument")],
        ),
        _task(
            "double",
            "Double",
            "Doubles a string and a number.",
            inputs=[
                _string("str_in", "A string to repeat twice", "xyz (default)"),
                _string("nbr_in", "An integer to double", "123"),
            ],
            outputs=[
                _string("str_out", "The string, twice"),
                _string("nbr_out", "The integer, doubled"),
            ],
        ),
        _task(
            "reporting_task",
            "Reporting task",
            "Sleeps n seconds, reporting its progress every second.",
            inputs=[
                _string("n", "How many seconds to sleep (an integer)"),
                _string("param", "Any text, quoted in the messages"),
            ],
            outputs=[_string("result", "A message quoting param")],
        ),
        _task("error_placeholder", "Error placeholder", "Always reports a fatal error."),
        _task(
            "zero_division",
            "Zero division",
            "Divides by zero: the exception becomes an Error status.",
        ),
        _task(
            "rectangle",
            "Rectangle",
            "The area and perimeter of a rectangle, and whether it is a square.",
            inputs=[
                _typed("width", "Number", "Its width"),
                _typed("height", "Number", "Its height"),
            ],
            outputs=[
                _typed("area", "Number", "width * height"),
                _typed("perimeter", "Number", "2 * (width + height)"),
                _typed("square", "Boolean", "Whether width and height are equal"),
            ],
        ),
    ]

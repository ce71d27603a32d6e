"""xc_task's input accessors, secrets and TaskError: the part of the API shared with the
other languages' SDKs that is not about messages. Standard library only.

A catalog type Integer, Number or Boolean lets a value arrive as its JSON type
or as its text ("42", " -7 ", "1e-3", "true"): the accessors accept both, and
raise TaskError naming the input otherwise.
"""

from __future__ import annotations

import json
import math
import os
import re
from typing import Any

ERROR_LEVELS = ("None", "Minor", "Critical", "Fatal")
_INTEGER_TEXT = re.compile(r"\s*[-+]?[0-9]+\s*")
_NUMBER_TEXT = re.compile(r"\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\s*")
# Where the runner puts the secrets an image declares (Docker's and Swarm's convention);
# XC_TASK_SECRETS_DIR moves it, for a task run outside a container.
SECRETS_DIR = "/run/secrets"
_SECRET_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,62}[A-Za-z0-9])?")


def secret(name: str) -> str:
    """The secret `name` the runner gives this task's image, as text, surrounding whitespace
    (a final newline) removed. TaskError when the image is given no such secret."""
    if not isinstance(name, str) or not _SECRET_NAME.fullmatch(name) or ".." in name:
        raise ValueError(f"not a secret name: {name!r}")
    path = os.path.join(os.environ.get("XC_TASK_SECRETS_DIR") or SECRETS_DIR, name)
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read().strip()
    except FileNotFoundError:
        raise TaskError(
            f"secret '{name}' is not given to this task (no {path}): the runner's configuration "
            "declares an image's secrets"
        ) from None


class TaskError(Exception):
    """Raised by a task (or an input accessor): the task ends in Error with this message."""

    def __init__(self, message: str, level: str | None = None) -> None:
        check_level(level)
        super().__init__(message)
        self.level = level


def check_level(level: str | None) -> None:
    if level is not None and level not in ERROR_LEVELS:
        raise ValueError(f"errorLevel must be one of {', '.join(ERROR_LEVELS)}, not {level!r}")


def _wrong(name: str, kind: str, value: Any) -> TaskError:
    shown = json.dumps(value, ensure_ascii=False)
    if len(shown) > 100:
        shown = shown[:100] + "..."
    return TaskError(f"input '{name}' is not {kind}: {shown}")


class Inputs:
    """The checked accessors of a task's inputs (the envelope's `inputs`)."""

    def __init__(self, inputs: dict[str, Any]) -> None:
        self.inputs = inputs

    def _input(self, name: str) -> Any:
        value = self.inputs.get(name)
        if value is None:
            raise TaskError(f"input '{name}' is missing")
        return value

    def string(self, name: str) -> str:
        """The input's value, a string; TaskError otherwise."""
        value = self._input(name)
        if not isinstance(value, str):
            raise _wrong(name, "a string", value)
        return value

    def integer(self, name: str) -> int:
        """The input's value as an int: an integer, or a string holding one (" -7 ")."""
        value = self._input(name)
        if isinstance(value, str) and _INTEGER_TEXT.fullmatch(value):
            return int(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise _wrong(name, "an integer", value)

    def number(self, name: str) -> float:
        """The input's value as a float: a number, or a string holding one ("1e-3")."""
        value = self._input(name)
        text = isinstance(value, str) and _NUMBER_TEXT.fullmatch(value)
        numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
        if text or numeric:
            try:
                number = float(value)
            except OverflowError:  # an int too large for a float
                number = math.inf
            if math.isfinite(number):
                return number
        raise _wrong(name, "a finite number", value)

    def boolean(self, name: str) -> bool:
        """The input's value as a bool: true/false, or their text in any case."""
        value = self._input(name)
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise _wrong(name, "a boolean", value)

    def secret(self, name: str) -> str:
        """The secret `name` (see the module's `secret`)."""
        return secret(name)

    # Structured inputs: a catalog type Object (Json, Map) arrives as a JSON object, and
    # an input with allowMultipleValues as a JSON array of its type's values. An item of
    # a list is read as its type's accessor reads one value (Integer: 42 or "42"), and a
    # TaskError names it as 'name[i]'.

    def object(self, name: str) -> dict[str, Any]:
        """The input's value, a JSON object (a dict)."""
        value = self._input(name)
        if not isinstance(value, dict):
            raise _wrong(name, "a JSON object", value)
        return value

    def strings(self, name: str) -> list[str]:
        """A multi-value String input: a list of strings."""
        return [item.string(key) for key, item in self._items(name)]

    def integers(self, name: str) -> list[int]:
        """A multi-value Integer input: each item an integer, or its text."""
        return [item.integer(key) for key, item in self._items(name)]

    def numbers(self, name: str) -> list[float]:
        """A multi-value Number input: each item a finite number, or its text."""
        return [item.number(key) for key, item in self._items(name)]

    def booleans(self, name: str) -> list[bool]:
        """A multi-value Boolean input: each item true or false, or their text."""
        return [item.boolean(key) for key, item in self._items(name)]

    def objects(self, name: str) -> list[dict[str, Any]]:
        """A multi-value Object input: a list of JSON objects."""
        return [item.object(key) for key, item in self._items(name)]

    def _items(self, name: str) -> list[tuple[str, Inputs]]:
        """Each item of the list input `name`, as the only input of its own, 'name[i]'."""
        value = self._input(name)
        if not isinstance(value, list):
            raise _wrong(name, "a list (a JSON array)", value)
        keyed = [(f"{name}[{index}]", item) for index, item in enumerate(value)]
        return [(key, Inputs({key: item})) for key, item in keyed]

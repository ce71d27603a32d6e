"""JSON from untrusted bytes, read so that whatever is accepted can always be written back.

`json.loads` recurses once per nesting level and raises RecursionError on deep
input; it accepts NaN, Infinity and 1e999 (which it cannot write back as JSON)
and lone UTF-16 surrogates (which cannot be encoded as UTF-8). So the depth is
measured on the text before parsing, and every number and string is checked
after, with the place of the first problem named. Every step is linear in the
length of the body (runner/core/jsoncheck.py finds strings and depths), and the
walk over the value is iterative.
"""

from __future__ import annotations

import json
import logging
import math
import re
from typing import Any

from runner.core.documents import MAX_DEPTH
from runner.core.jsoncheck import deepest, may_hold_surrogates, outside_strings
from runner.localserver.errors import HttpError, quoted

logger = logging.getLogger(__name__)

# A JSON number must fit an IEEE double, as JavaScript and jq read it: no more
# digits than the largest double has (309), and no overflow to infinity.
_MAX_INT_DIGITS = 309

_SURROGATE = re.compile("[\ud800-\udfff]")


class _BadNumber:
    """Stands in for a number that does not fit a double, until the walk names its place."""

    def __init__(self, text: str) -> None:
        self.text = text


def _float(text: str) -> float | _BadNumber:
    value = float(text)
    return value if math.isfinite(value) else _BadNumber(text)


def _int(text: str) -> int | _BadNumber:
    if len(text.lstrip("-")) > _MAX_INT_DIGITS:
        return _BadNumber(text)
    value = int(text)
    try:
        float(value)
    except OverflowError:
        return _BadNumber(text)
    return value


def nesting_depth(text: str, limit: int = MAX_DEPTH) -> int:
    """How deep arrays and objects nest in `text`; stops counting past `limit`."""
    return min(deepest(outside_strings(text)[0], limit), limit + 1)


def parse(body: bytes, noun: str) -> Any:
    """The JSON value of `body`, or HttpError 400 naming the limit or the place that is wrong."""
    if not body.strip():
        raise HttpError(400, f"{noun} is empty; expected JSON")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HttpError(400, f"{noun} is not UTF-8: invalid byte at offset {exc.start}") from None
    outside, open_string = outside_strings(text)  # one pass serves both checks below
    if open_string:
        raise HttpError(400, f"{noun} is not JSON: a string is not terminated")
    if deepest(outside, MAX_DEPTH) > MAX_DEPTH:
        raise HttpError(
            400, f"{noun} is nested deeper than the limit of {MAX_DEPTH} levels of arrays/objects"
        )
    bad_numbers: list[_BadNumber] = []
    try:
        value = _loads(text, bad_numbers)
    except ValueError as exc:
        raise HttpError(400, f"{noun} is not JSON: {exc}") from None
    if not bad_numbers and not may_hold_surrogates(text):
        return value  # nothing for the walk to find: it is skipped
    problem = text_problem(value, noun)
    if problem:
        raise HttpError(400, problem)
    return value


def _loads(text: str, bad_numbers: list[_BadNumber]) -> Any:
    """The value of `text`; each number that does not fit a double is a `_BadNumber`, also
    added to `bad_numbers`. Safe only after the depth check in parse(): the decoder
    recurses once per level."""

    def seen(bad: float | int | _BadNumber) -> float | int | _BadNumber:
        if isinstance(bad, _BadNumber):
            bad_numbers.append(bad)
        return bad

    return json.loads(
        text,
        parse_float=lambda number: seen(_float(number)),
        parse_int=lambda number: seen(_int(number)),
        parse_constant=lambda name: seen(_BadNumber(name)),
    )


def text_problem(value: Any, where: str) -> str | None:
    """The first number that is not a finite double, or string that is not Unicode text.

    Iterative, with a stack as deep as the value (not as long): a path is spelled only
    for the place that is wrong, and nothing is kept per node."""
    if not isinstance(value, list | dict):
        problem = _leaf_problem(value)
        return f"{where}: {problem}" if problem else None
    stack: list[tuple[Any, Any]] = [(value, _items(value))]
    positions: list[str | int] = []
    while stack:
        container, items = stack[-1]
        for position, item in items:
            if isinstance(container, dict) and (problem := _string_problem(position)):
                return f"{_path(where, [*positions, position])} (the key): {problem}"
            if isinstance(item, list | dict):
                stack.append((item, _items(item)))
                positions.append(position)
                break
            if (problem := _leaf_problem(item)) is not None:
                return f"{_path(where, [*positions, position])}: {problem}"
        else:
            stack.pop()
            if positions:
                positions.pop()
    return None


def _items(container: list[Any] | dict[str, Any]) -> Any:
    return iter(container.items()) if isinstance(container, dict) else enumerate(container)


def _leaf_problem(value: Any) -> str | None:
    if isinstance(value, _BadNumber):
        return f"{quoted(value.text)} is not a finite number that fits a double"
    return _string_problem(value) if isinstance(value, str) else None


def _path(where: str, positions: list[str | int]) -> str:
    parts = [f"[{p}]" if isinstance(p, int) else f".{_segment(p)}" for p in positions]
    return where + "".join(parts)


def _segment(key: str) -> str:
    """A key as a printable part of a path: short, with surrogates spelled as escapes."""
    short = key if len(key) <= 40 else key[:37] + "..."
    return _SURROGATE.sub(lambda found: f"\\u{ord(found.group()):04x}", short)


def _string_problem(text: str) -> str | None:
    found = _SURROGATE.search(text)
    if found is None:
        return None
    return (
        "a string holds a lone UTF-16 surrogate "
        f"(\\u{ord(found.group()):04x} at character {found.start()}); only Unicode text is accepted"
    )


def stored(text: str | None) -> Any:
    """A JSON value read back from the database; None (and a warning) if it cannot be served.

    Everything stored now passed `parse`; this guards against rows written by
    older versions that did not check.
    """
    if text is None:
        return None
    try:
        return parse(text.encode("utf-8", "surrogatepass"), "stored value")
    except HttpError as exc:
        logger.warning("local server: a stored value is not served: %s", exc.message)
        return None

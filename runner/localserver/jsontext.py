"""JSON from untrusted bytes, read so that whatever is accepted can always be written back.

`json.loads` recurses once per nesting level and raises RecursionError on deep
input; it accepts NaN, Infinity and 1e999 (which it cannot write back as JSON)
and lone UTF-16 surrogates (which cannot be encoded as UTF-8). So the depth is
measured on the text before parsing, and every number and string is checked
after, with the place of the first problem named.
"""

from __future__ import annotations

import json
import logging
import math
import re
from typing import Any

from runner.localserver.errors import HttpError, quoted

logger = logging.getLogger(__name__)

MAX_DEPTH = 64
# A JSON number must fit an IEEE double, as JavaScript and jq read it: no more
# digits than the largest double has (309), and no overflow to infinity.
_MAX_INT_DIGITS = 309

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
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
    return _depth(_STRING.sub("", text), limit)


def _depth(outside: str, limit: int) -> int:
    """nesting_depth of a text whose strings `_STRING` already took out."""
    brackets = _NOT_BRACKET.sub("", outside)
    depth = deepest = 0
    for char in brackets:
        if char in "[{":
            depth += 1
            if depth > limit:
                return depth
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def parse(body: bytes, noun: str) -> Any:
    """The JSON value of `body`, or HttpError 400 naming the limit or the place that is wrong."""
    if not body.strip():
        raise HttpError(400, f"{noun} is empty; expected JSON")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HttpError(400, f"{noun} is not UTF-8: invalid byte at offset {exc.start}") from None
    outside = _STRING.sub("", text)  # one pass over the text serves both checks below
    if '"' in outside:
        raise HttpError(400, f"{noun} is not JSON: a string is not terminated")
    if _depth(outside, MAX_DEPTH) > MAX_DEPTH:
        raise HttpError(
            400, f"{noun} is nested deeper than the limit of {MAX_DEPTH} levels of arrays/objects"
        )
    try:
        value = _loads(text)
    except ValueError as exc:
        raise HttpError(400, f"{noun} is not JSON: {exc}") from None
    problem = text_problem(value, noun)
    if problem:
        raise HttpError(400, problem)
    return value


def _loads(text: str) -> Any:
    # Safe only after the depth check in parse(): the decoder recurses once per level.
    return json.loads(text, parse_float=_float, parse_int=_int, parse_constant=_BadNumber)


def text_problem(value: Any, where: str) -> str | None:
    """The first number that is not a finite double, or string that is not Unicode text."""
    if isinstance(value, _BadNumber):
        return f"{where}: {quoted(value.text)} is not a finite number that fits a double"
    if isinstance(value, str):
        return _string_problem(value, where)
    if isinstance(value, list):
        for index, item in enumerate(value):
            problem = text_problem(item, f"{where}[{index}]")
            if problem:
                return problem
    elif isinstance(value, dict):
        for key, item in value.items():
            place = f"{where}.{_segment(key)}"
            problem = _string_problem(key, f"{place} (the key)") or text_problem(item, place)
            if problem:
                return problem
    return None


def _segment(key: str) -> str:
    """A key as a printable part of a path: short, with surrogates spelled as escapes."""
    short = key if len(key) <= 40 else key[:37] + "..."
    return _SURROGATE.sub(lambda found: f"\\u{ord(found.group()):04x}", short)


def _string_problem(text: str, where: str) -> str | None:
    found = _SURROGATE.search(text)
    if found is None:
        return None
    return (
        f"{where}: a string holds a lone UTF-16 surrogate "
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

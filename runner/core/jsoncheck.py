"""JSON from a task, read defensively: what a message holds that must not be posted.

The json module reads more than JSON: `NaN` and `Infinity`, numbers that overflow to
infinity (`1e999`), escapes that decode to lone surrogates (`"\\udfff"`), and nesting
as deep as the interpreter's stack allows. Statuses carrying any of these are refused by
the platform (or break its readers), and a refused status is never delivered. So a
task's message is read with `loads` and checked with `first_problem`, which names the
first offending place by its path. A line too deep for `loads` is read again with
`pruned`, which keeps its shape down to just past the depth limit.

The checks cost little on good input: a few string searches over the JSON text (C), and
a walk in Python only when they find something that may be wrong. Every scan here is
linear in the length of the text, whatever it holds: strings are found by replacing
escaped backslashes and quotes, then splitting on quotes (no regex that could scan the
rest of the text again from each quote of an unclosed string), and depths are counted
in chunks, so that no single call runs long while holding the interpreter's lock.
"""

from __future__ import annotations

import json
import math
import operator
import re
from array import array
from dataclasses import dataclass
from itertools import accumulate, compress, islice, repeat
from typing import Any

from runner.core.text import printable, text_problem

_SHOWN_KEY_CHARS = 40
_CHUNK = 1 << 12  # characters counted per call (each call holds the interpreter's lock)
_STEP = bytes(1 if b in b"[{" else 255 if b in b"]}" else 0 for b in range(256))  # 255: -1
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_DIGITS = bytes.maketrans(b"123456789E", b"000000000e")  # every digit 0, every exponent e
_OVERFLOWS = (b"0" * 309, b"0e000", b"0e+000")  # a float this long, or this large, is inf


@dataclass(frozen=True)
class BadNumber:
    """`NaN`, `Infinity` or `-Infinity` as a task wrote it: not JSON, and never posted."""

    literal: str


def loads(text: str) -> Any:
    """`json.loads`, with NaN and ±Infinity kept as `BadNumber`. Raises ValueError (not
    JSON, or an integer too long to read) or RecursionError (nested too deep to read)."""
    return json.loads(text, parse_constant=BadNumber)


def pruned(text: str, limit: int) -> str:
    """`text` with the containers nested at level `limit + 1` emptied, and everything deeper
    gone: if `text` is JSON, so is the result, and `loads` reads it whatever the depth of
    `text`, and `first_problem` finds the first place it was too deep."""
    level = limit + 1
    masked = masked_strings(text).encode("ascii", "replace")  # brackets in strings are text
    kept: list[str] = []
    depth = 0
    for start in range(0, len(masked), _CHUNK):  # in chunks: each call holds the lock
        piece, chunk = text[start : start + _CHUNK], masked[start : start + _CHUNK]
        opens, closes = chunk.count(b"[") + chunk.count(b"{"), chunk.count(b"]") + chunk.count(b"}")
        if depth + opens < level or depth - closes >= level:  # all of it on one side
            kept.append(piece if depth < level else "")
            depth += opens - closes
            continue
        steps = array("b", chunk.translate(_STEP))
        depths = array("i", accumulate(steps, initial=depth))  # before each, and after the last
        depth = depths[-1]
        if max(depths) < level:
            kept.append(piece)
        elif min(depths) < level:
            # A character is kept unless it is inside a container of that level (its
            # brackets stay): the depth before or after it is below the level.
            outside = map(operator.lt, depths, repeat(level))
            outside_after = map(operator.lt, islice(depths, 1, None), repeat(level))
            kept.append("".join(compress(piece, map(operator.or_, outside, outside_after))))
    return "".join(kept)


def masked_strings(text: str) -> str:
    """`text` with every character of its strings but the quotes made `_`: as long as
    `text`, and where `text` is JSON (or the start of JSON), its brackets outside strings
    are those left. Linear: an unclosed string runs to the end."""
    pieces = text.replace("\\\\", "__").replace('\\"', "__").split('"')
    pieces[1::2] = ["_" * len(piece) for piece in pieces[1::2]]
    return '"'.join(pieces)


def outside_strings(text: str) -> tuple[str, bool]:
    """What `text` (JSON) holds outside its strings, and whether its last string is left
    open. Outside strings, JSON has no backslash: drop escaped backslashes and quotes,
    and every other piece between quotes is outside a string."""
    pieces = text.replace("\\\\", "").replace('\\"', "").split('"')
    return "".join(pieces[::2]), len(pieces) % 2 == 0


def deepest(outside: str, limit: int) -> int:
    """How deep arrays and objects nest in `outside` (JSON without its strings), counted
    in chunks; once past `limit`, a depth past it (not necessarily the deepest)."""
    brackets = outside.encode("ascii", "ignore").translate(None, _NOT_BRACKETS)
    depth = most = 0
    for start in range(0, len(brackets), _CHUNK):
        steps = array("b", brackets[start : start + _CHUNK].translate(_STEP))
        depths = array("i", accumulate(steps, initial=depth))
        most = max(most, *depths)
        if most > limit:
            return most
        depth = depths[-1]
    return most


def depth_problem(limit: int) -> str:
    return f"nested deeper than the limit of {limit} levels of objects and arrays"


def first_problem(
    value: Any, root: str, limit: int, *, level: int = 1, text: str | None = None
) -> str | None:
    """The first place in `value` (decoded JSON) that must not be posted, as `<path>: <why>`:
    a container nested more than `limit` levels deep (`value` itself being at `level`), a
    string or an object key that is not Unicode text, a number that is not finite.
    None when there is none. `text` is the JSON text `value` was read from, if at hand."""
    found = first_problem_at(value, root, limit, level=level, text=text)
    return None if found is None else f"{found[0]}: {found[1]}"


def first_problem_at(
    value: Any, root: str, limit: int, *, level: int = 1, text: str | None = None
) -> tuple[str, str] | None:
    """`first_problem` as (path, why)."""
    if text is None:
        try:
            text = json.dumps(value)
        except (TypeError, ValueError, RecursionError):  # TypeError: a BadNumber
            text = None
    if text is not None and _fine(text, limit - level + 1):
        return None
    return _walk(value, root, limit, level)


def _fine(text: str, limit: int) -> bool:
    """True when the JSON `text` holds nothing that can be a problem, found with string
    operations in C; False when it may (then `_walk` decides)."""
    if _suspect(text):
        return False
    if text.count("[") + text.count("{") <= limit:
        return True
    return deepest(outside_strings(text)[0], limit) <= limit


def _suspect(text: str) -> bool:
    """Whether the JSON `text` may hold what becomes a problem once read: a surrogate
    escape (lone, or half of a pair), NaN or Infinity, a float that overflows. Without
    any, it holds none."""
    if "NaN" in text or "Infinity" in text:
        return True
    if may_hold_surrogates(text):
        return True
    try:
        shape = text.encode("utf-8").translate(_DIGITS)
    except UnicodeEncodeError:  # a surrogate written as it is, not escaped
        return True
    return any(overflow in shape for overflow in _OVERFLOWS)


def may_hold_surrogates(text: str) -> bool:
    """Whether JSON `text` (valid Unicode) may decode to a string with a lone surrogate:
    only an escape can spell one."""
    return "\\u" in text and _SURROGATE_ESCAPE.search(text) is not None


def _walk(value: Any, root: str, limit: int, level: int) -> tuple[str, str] | None:
    """`first_problem`, the slow way: in document order, iteratively, whatever the depth."""
    # (node, trail, depth); a trail is (parent's trail, key or index), or None at the root.
    pending: list[tuple[Any, Any, int]] = [(value, None, level)]
    while pending:
        node, trail, depth = pending.pop()
        problem = _problem(node, depth, limit)
        if problem is not None:
            return _path(root, trail), problem
        if isinstance(node, dict):
            for key in node:
                if (problem := text_problem(key)) is not None:
                    return _path(root, (trail, key)), f"the name is {problem}"
            children = [(child, (trail, key), depth + 1) for key, child in node.items()]
            pending.extend(reversed(children))
        elif isinstance(node, list):
            items = [(child, (trail, index), depth + 1) for index, child in enumerate(node)]
            pending.extend(reversed(items))
    return None


def _problem(node: Any, depth: int, limit: int) -> str | None:
    if isinstance(node, str):
        return text_problem(node)
    if isinstance(node, BadNumber):
        return f"{node.literal} is not a finite number"
    if isinstance(node, float) and not math.isfinite(node):  # 1e999 reads as infinity
        return "NaN is not a finite number" if math.isnan(node) else "a number too large"
    if isinstance(node, dict | list) and depth > limit:
        return depth_problem(limit)
    return None


def _path(root: str, trail: Any) -> str:
    positions: list[str | int] = []
    while trail is not None:
        trail, position = trail
        positions.append(position)
    path = root
    for position in reversed(positions):
        path = f"{path}[{position}]" if isinstance(position, int) else member(path, position)
    return path


def member(path: str, key: str) -> str:
    """The path of an object's member, its name clipped and escaped (it is task text)."""
    if len(key) > _SHOWN_KEY_CHARS:
        key = key[:_SHOWN_KEY_CHARS] + "..."
    return f"{path}.{printable(key)}"

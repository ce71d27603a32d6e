"""JSON and TOML from outside the runner, read within a documented depth: catalog and
examples labels, `--input-json` files, the configuration file, the platform's answers.

Python's JSON decoder recurses once per level of nesting, and tomllib too: a label or a
file nested a few thousand levels deep ended the runner with RecursionError (exit 70),
and one a few hundred deep could still pass the decoder and break whatever walks it next.
JSON is measured on its text before it is read (linear, runner/core/jsoncheck.py); a
TOML document is read and then measured, and one too deep for the parser is refused in
the same words.
"""

from __future__ import annotations

import json
from typing import Any

from runner.core.jsoncheck import deepest, depth_problem, outside_strings

# How deep arrays and objects (tables) may nest in a document from outside, the local
# server's request bodies and the catalogs included.
MAX_DEPTH = 64
# How deep a server's answer may nest: it holds documents of MAX_DEPTH (a task's inputs, a
# status's outputs) inside its own envelope.
MAX_ANSWER_DEPTH = 2 * MAX_DEPTH


class TooDeep(ValueError):
    """The document nests deeper than the limit; says so."""

    def __init__(self, limit: int = MAX_DEPTH) -> None:
        super().__init__(depth_problem(limit))


def read_json(text: str | bytes, limit: int = MAX_DEPTH) -> Any:
    """`json.loads(text)`, refusing what nests deeper than `limit` (TooDeep) before it is
    read. Raises ValueError (TooDeep is one) when it is not JSON."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")  # a UnicodeDecodeError is a ValueError
    if deepest(outside_strings(text)[0], limit) > limit:
        raise TooDeep(limit)
    return json.loads(text)


def check_depth(value: Any, limit: int = MAX_DEPTH) -> None:
    """Raise TooDeep when lists and dicts nest in `value` deeper than `limit`, `value`
    itself being level 1. Iterative: any depth is measured."""
    pending = [(value, 1)]
    while pending:
        node, level = pending.pop()
        if isinstance(node, dict | list):
            if level > limit:
                raise TooDeep(limit)
            children = node.values() if isinstance(node, dict) else node
            pending.extend((child, level + 1) for child in children)

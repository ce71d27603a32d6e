"""Catalog regexes run by RE2, in time linear in the text: the only module that imports re2.

Python's `re` backtracks, and a catalog's regex is written by a task image's author: a
regex such as `(a+)+b` would stall whoever checks an input against it. A regex is
translated from Python's syntax (runner/core/regexsyntax.py) and compiled once; one that
RE2 cannot run is refused with the reason.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import re2

from runner.core.regexsyntax import Unsupported, to_re2

# RE2 gives up on a regex whose program would take more memory than this (a repeat of a
# repeat: `(a{1000}){1000}`); such a regex is refused.
_MAX_MEM_BYTES = 8 << 20


class RegexRefused(ValueError):
    """The regex cannot be run in linear time (or is not a regex); says why."""


@lru_cache(maxsize=4096)
def _compiled(pattern: str) -> Any:
    try:
        spelled = to_re2(pattern)
    except Unsupported as exc:
        raise RegexRefused(str(exc)) from None
    options = re2.Options()
    options.log_errors = False
    options.never_capture = True
    options.max_mem = _MAX_MEM_BYTES
    try:
        return re2.compile(spelled, options)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise RegexRefused(f"RE2 cannot run it: {reason}") from None


def refusal(pattern: str) -> str | None:
    """Why `pattern` cannot be run, or None when it can."""
    try:
        _compiled(pattern)
    except RegexRefused as exc:
        return str(exc)
    return None


def search(pattern: str, text: str) -> bool:
    """Whether `pattern` (Python's syntax) matches somewhere in `text`, as `re.search`
    would say, in time linear in `text`. Raises RegexRefused."""
    compiled = _compiled(pattern)
    try:
        return compiled.search(text) is not None
    except UnicodeEncodeError:  # a lone surrogate: not text, matched by no class of RE2
        return False

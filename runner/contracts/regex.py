"""Catalog regexes run by RE2, in time linear in the text: the only module that imports re2.

Python's `re` backtracks, and a catalog's regex is written by a task image's author: a
regex such as `(a+)+b` would stall whoever checks an input against it. A regex is
translated from Python's syntax (runner/core/regexsyntax.py) and compiled once; one that
RE2 cannot run is refused with the reason.

Compiling costs time too, about half a microsecond per instruction of the program RE2
makes (a letter is one, a Unicode `\\w` about 1,350), so what a catalog's regexes compile
to together is capped (`Budget`), and a regex over what is left is refused before RE2
reads it, or stopped by RE2 as soon as it passes it. The compiled programs are kept, the
most recently used first, up to a total size: a hostile catalog cannot fill the memory.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import re2

from runner.core.regexsyntax import MAX_REGEX_CHARS, Unsupported, to_re2

# What the regexes of one catalog may compile to together (one regex too): about 0.25 s
# of compiling on the development machine.
MAX_INSTRUCTIONS = 500_000
# How long the regexes of one catalog may be together (one: MAX_REGEX_CHARS): reading them
# costs about a microsecond a character, more when their groups nest.
MAX_CATALOG_CHARS = 16_384
# RE2 gives a program two thirds of its `max_mem`, at 8 bytes an instruction, and needs a
# few kilobytes of its own.
_BYTES_PER_INSTRUCTION = 12
_OVERHEAD_BYTES = 4096
# The least each Unicode class costs (its spelling by runner/core/regexsyntax.py): reading
# them is most of RE2's work before it compiles, so they are counted first.
_CLASS_INSTRUCTIONS = ((r"\p{L}", 1200), (r"\P{Nd}", 240), (r"\p{Nd}", 80))
_KEPT_INSTRUCTIONS = 2 * MAX_INSTRUCTIONS  # compiled programs kept, together


class RegexRefused(ValueError):
    """The regex cannot be run in linear time (or is not a regex); says why."""


class TooLarge(RegexRefused):
    """The regex compiles to more than its budget."""


class _Programs:
    """Compiled regexes by (pattern, whole, budget), the least recently used dropped once
    they hold more than `limit` instructions together."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._kept: OrderedDict[tuple[str, bool, int], Any] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: tuple[str, bool, int]) -> Any | None:
        with self._lock:
            found = self._kept.get(key)
            if found is not None:
                self._kept.move_to_end(key)
            return found

    def put(self, key: tuple[str, bool, int], compiled: Any) -> None:
        with self._lock:
            if key in self._kept:
                return
            self._kept[key] = compiled
            self._size += compiled.programsize
            while self._size > self._limit and len(self._kept) > 1:
                _, dropped = self._kept.popitem(last=False)
                self._size -= dropped.programsize


_PROGRAMS = _Programs(_KEPT_INSTRUCTIONS)


def _compiled(pattern: str, whole: bool, budget: int = MAX_INSTRUCTIONS) -> Any:
    """`pattern` compiled to at most `budget` instructions; RegexRefused says why not."""
    key = (pattern, whole, budget)
    found = _PROGRAMS.get(key)
    if found is not None:
        return found
    try:
        spelled = to_re2(pattern, whole=whole)
    except Unsupported as exc:
        raise RegexRefused(str(exc)) from None
    if sum(spelled.count(item) * cost for item, cost in _CLASS_INSTRUCTIONS) > budget:
        raise TooLarge(_too_large(budget))
    options = re2.Options()
    options.log_errors = False
    options.never_capture = True
    options.max_mem = budget * _BYTES_PER_INSTRUCTION + _OVERHEAD_BYTES
    try:
        compiled = re2.compile(spelled, options)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        if "too large" in str(reason):
            raise TooLarge(_too_large(budget)) from None
        raise RegexRefused(f"RE2 cannot run it: {reason}") from None
    if compiled.programsize > budget:
        raise TooLarge(_too_large(budget))
    _PROGRAMS.put(key, compiled)
    return compiled


def _too_large(budget: int) -> str:
    if budget >= MAX_INSTRUCTIONS:
        return f"RE2 cannot run it: it compiles to more than {MAX_INSTRUCTIONS:,} instructions"
    return (
        f"RE2 cannot run it: with the catalog's other regexes it compiles to more than "
        f"{MAX_INSTRUCTIONS:,} instructions (this one had {budget:,} left)"
    )


class Budget:
    """What the regexes of one catalog may still be: their characters, and what they
    compile to. A Unicode `\\w` is about 1,350 instructions: `[A-Za-z0-9_]`, or `(?a)`, is
    far cheaper where ASCII will do."""

    def __init__(self) -> None:
        self.chars = MAX_CATALOG_CHARS
        self.instructions = MAX_INSTRUCTIONS
        self.compiling = True  # until a regex is too large: the catalog is refused then

    def refusal(self, pattern: str) -> str | None:
        """Why `pattern`, the catalog's next customRegex (matched against whole values),
        cannot be run within what is left, or None (and what it takes is spent). Once one
        was too large, the others are only read (each failed compile costs time too)."""
        if MAX_REGEX_CHARS >= len(pattern) > self.chars:  # one too long says so itself
            return (
                f"the catalog's regexes are more than {MAX_CATALOG_CHARS:,} characters "
                f"together (this one is {len(pattern):,}, and {max(self.chars, 0):,} were left)"
            )
        self.chars -= len(pattern)
        try:
            if not self.compiling:
                to_re2(pattern, whole=True)
                return None
            compiled = _compiled(pattern, True, self.instructions)
        except Unsupported as exc:
            return str(exc)
        except RegexRefused as exc:
            self.compiling = not isinstance(exc, TooLarge)
            return str(exc)
        self.instructions -= compiled.programsize
        return None


def refusal(pattern: str, *, whole: bool = False) -> str | None:
    """Why `pattern` cannot be run, or None when it can."""
    try:
        _compiled(pattern, whole)
    except RegexRefused as exc:
        return str(exc)
    return None


def search(pattern: str, text: str) -> bool:
    """Whether `pattern` (Python's syntax) matches somewhere in `text`, as `re.search`
    would say, in time linear in `text`. Raises RegexRefused."""
    return _found(_compiled(pattern, False), text)


def matches_whole(pattern: str, text: str) -> bool:
    """Whether `text` as a whole matches `pattern`, as a catalog's customRegex is matched:
    as Python's `re.search` answers for `^(?:pattern)$`, the pattern's own flags (`(?i)` at
    its start) its own. In time linear in `text`; raises RegexRefused."""
    return _found(_compiled(pattern, True), text)


def _found(compiled: Any, text: str) -> bool:
    try:
        return compiled.search(text) is not None
    except UnicodeEncodeError:  # a lone surrogate: not text, matched by no class of RE2
        return False

"""A regex in Python's syntax, spelled again in RE2's with the same meaning, or refused.

Catalog regexes (`customRegex`) are written for Python's `re`, which backtracks: `(a+)+b`
against a few dozen characters runs for minutes. They are run by RE2 instead, in time
linear in the text. RE2's syntax looks like Python's but differs: `\\d`, `\\w` and `\\s`
are ASCII there and Unicode here, `$` there matches only at the very end, `{,n}` is a
literal there. So a regex is read by Python's own parser (`re._parser`, the one
`re.compile` uses, so its syntax and meaning are exactly Python's), and its tree is
written out in RE2's syntax. What RE2 cannot run in linear time is refused with the
reason: back-references, look-ahead and look-behind, conditionals, possessive repeats
and atomic groups.

Only whether a text matches is asked, never where or what a group caught, so greedy and
lazy repeats, and the order of alternatives, need not be kept. Known differences: `\\b`
and `\\B` are ASCII word boundaries in RE2 (Python's see Unicode letters), and `\\w` is
`[\\p{L}\\p{N}_]` (Python's isalnum() differs on a handful of characters).
"""

from __future__ import annotations

import re
import threading
import warnings
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

_FLAG_I = re.IGNORECASE.value
_FLAG_M = re.MULTILINE.value
_FLAG_S = re.DOTALL.value
_FLAG_A = re.ASCII.value

# A regex longer than this is refused: reading and compiling one costs time linear in its
# length, and a catalog holds many (runner/contracts/regex.py caps a catalog's total).
MAX_REGEX_CHARS = 4096
# Groups nested deeper than this are refused, before Python's parser reads them: it takes
# time growing with depth times length (it moves a group's items into its parent's, level
# by level), and it and this module recurse once per level.
MAX_REGEX_DEPTH = 32
_TOO_DEEP = f"it nests groups more than {MAX_REGEX_DEPTH} deep"
# What can open or close a group, or a class, in a regex's text.
_GROUPING = re.compile(r"\\.|[][()]", re.DOTALL)
_PARSING = threading.Lock()
_PARSER_WARNINGS = ("Possible nested set", "Possible set ", "bad character in group name")

# What Python's \s matches in a str pattern: str.isspace().
_SPACE = r"\t\n\x{b}\f\r\x{1c}-\x{1f} \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}" + (
    r"\x{202f}\x{205f}\x{3000}"
)
_WORD = r"\p{L}\p{N}_"
# Each category as RE2 class items: (positive items, or None; negated items, or None).
_UNICODE_ITEMS = {
    sre.CATEGORY_DIGIT: r"\p{Nd}",
    sre.CATEGORY_NOT_DIGIT: r"\P{Nd}",
    sre.CATEGORY_SPACE: _SPACE,
    sre.CATEGORY_WORD: _WORD,
}
_ASCII_ITEMS = {
    sre.CATEGORY_DIGIT: "0-9",
    sre.CATEGORY_SPACE: r"\t\n\x{b}\f\r ",
    sre.CATEGORY_WORD: "0-9A-Za-z_",
}
_COMPLEMENTS = {
    sre.CATEGORY_NOT_DIGIT: sre.CATEGORY_DIGIT,
    sre.CATEGORY_NOT_SPACE: sre.CATEGORY_SPACE,
    sre.CATEGORY_NOT_WORD: sre.CATEGORY_WORD,
}
_REFUSED = {
    sre.GROUPREF: "a back-reference (\\1, (?P=name))",
    sre.GROUPREF_EXISTS: "a conditional group ((?(1)...))",
    sre.ASSERT: "a look-ahead or look-behind ((?=...), (?<=...))",
    sre.ASSERT_NOT: "a negative look-ahead or look-behind ((?!...), (?<!...))",
    sre.ATOMIC_GROUP: "an atomic group ((?>...))",
    sre.POSSESSIVE_REPEAT: "a possessive repeat (*+, ++, ?+)",
}


class Unsupported(ValueError):
    """The regex is not Python's syntax, or cannot be run in linear time; says why."""


def to_re2(pattern: str, *, whole: bool = False) -> str:
    """`pattern` (Python's syntax) in RE2's syntax, matching the same texts; `whole`: as
    `^(?:pattern)$` would, the pattern's own flags (`(?i)` at its start) its own."""
    if len(pattern) > MAX_REGEX_CHARS:
        raise Unsupported(
            f"it is {len(pattern):,} characters long, over the limit of {MAX_REGEX_CHARS:,}"
        )
    if _nesting(pattern) > MAX_REGEX_DEPTH:
        raise Unsupported(_TOO_DEEP)
    parsed = _parse(pattern)
    flags = parsed.state.flags
    _end_last(parsed, flags, followed=False)
    spelled = _sequence(parsed, flags)
    return rf"\A(?:{spelled})(?:\n?\z)" if whole else spelled


def _parse(pattern: str) -> Any:
    """Python's own reading of `pattern`. Its parser warns (FutureWarning) of classes whose
    meaning a later Python may change (`[[`, `--`, `&&` in a class): the regex is read as
    this Python reads it, and the warning, which would name the runner's own source lines,
    is not shown. Warning filters are the process's: the parse is short, and one at a time."""
    with _PARSING, warnings.catch_warnings():
        for message in _PARSER_WARNINGS:
            warnings.filterwarnings("ignore", message=message)
        try:
            return sre_parse.parse(pattern)
        except re.error as exc:
            raise Unsupported(f"not a valid regex: {exc}") from None
        except RecursionError:
            raise Unsupported(_TOO_DEEP) from None


def _nesting(pattern: str) -> int:
    """How deep the groups of `pattern` nest, as its text says (escapes and classes are
    skipped; a parenthesis in a `(?x)` comment counts too): in time linear in its length."""
    depth = deepest = 0
    class_start = -1  # where the open class's items start, or -1 outside a class
    for found in _GROUPING.finditer(pattern):
        char, at = found.group(), found.start()
        if class_start >= 0:
            if char == "]" and at > class_start:
                class_start = -1
        elif char == "[":
            class_start = at + 2 if pattern.startswith("^", at + 1) else at + 1
        elif char == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif char == ")":
            depth -= 1
    return deepest


def _end_last(items: Any, flags: int, *, followed: bool) -> None:
    """Refuse a `$` (not multiline) that more of the regex may follow: Python's `$` stands
    before a final newline and leaves it to what follows (`$\\s` matches "\\n"), which
    RE2's cannot; at the end of the regex, as `$` is meant, both agree."""
    more = False  # whether anything but a `$` follows the item, within `items`
    for op, av in reversed(items):
        after = followed or more
        if op is sre.AT and av is sre.AT_END and not flags & _FLAG_M and after:
            raise Unsupported("it has a $ before more of the regex, which RE2 reads otherwise")
        if op is sre.BRANCH:
            for branch in av[1]:
                _end_last(branch, flags, followed=after)
        elif op is sre.SUBPATTERN:
            _end_last(av[3], (flags | av[1]) & ~av[2], followed=after)
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
            _end_last(av[2], flags, followed=after or av[1] > 1)
        more = more or (op, av) != (sre.AT, sre.AT_END)


def _sequence(items: Any, flags: int) -> str:
    return "".join(_item(op, av, flags) for op, av in items)


def _item(op: Any, av: Any, flags: int) -> str:
    if op in _REFUSED:
        raise Unsupported(f"it uses {_REFUSED[op]}, which RE2 cannot run")
    if op in (sre.LITERAL, sre.NOT_LITERAL):
        return _literal(op is sre.NOT_LITERAL, av, flags)
    if op is sre.ANY:
        return r"(?s:.)" if flags & _FLAG_S else r"[^\n]"
    if op is sre.IN:
        return _cased(_class(av, flags), flags)
    if op is sre.BRANCH:
        return "(?:" + "|".join(_sequence(branch, flags) for branch in av[1]) + ")"
    if op is sre.SUBPATTERN:
        _group, add, remove, items = av
        return "(?:" + _sequence(items, (flags | add) & ~remove) + ")"
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
        return _repeat(av, flags)
    if op is sre.AT:
        return _at(av, flags)
    raise Unsupported(f"it uses {str(op).lower()}, which is not translated to RE2")


def _literal(negated: bool, code: int, flags: int) -> str:
    if negated:
        return _cased(_class([(sre.NEGATE, None), (sre.LITERAL, code)], flags), flags)
    if _ascii_cased(code, flags):
        return _class([(sre.LITERAL, code)], flags)
    return _cased(_char(code), flags)


def _cased(spelled: str, flags: int) -> str:
    """Case-insensitive where the flags say so. With `(?a)` Python folds only ASCII letters,
    which RE2 cannot be told: those classes hold both cases already (`_ascii_cased`)."""
    return f"(?i:{spelled})" if flags & _FLAG_I and not flags & _FLAG_A else spelled


def _ascii_cased(code: int, flags: int) -> str | None:
    """The other case of an ASCII letter under `(?ai)`, else None."""
    if flags & _FLAG_I and flags & _FLAG_A and chr(code).isascii() and chr(code).isalpha():
        return chr(code).swapcase()
    return None


def _swapped_range(low: int, high: int, flags: int) -> list[str]:
    """Under `(?ai)`: the other case of the ASCII letters in `low`-`high`, as ranges."""
    if not (flags & _FLAG_I and flags & _FLAG_A):
        return []
    ranges = []
    for first, last in ((ord("a"), ord("z")), (ord("A"), ord("Z"))):
        start, end = max(low, first), min(high, last)
        if start <= end:
            ranges.append(f"{chr(start).swapcase()}-{chr(end).swapcase()}")
    return ranges


def _char(code: int) -> str:
    char = chr(code)
    return char if char.isascii() and char.isalnum() else f"\\x{{{code:x}}}"


def _repeat(av: Any, flags: int) -> str:
    low, high, items = av
    body = "(?:" + _sequence(items, flags) + ")"
    if high is sre.MAXREPEAT:
        return body + ("*" if low == 0 else "+" if low == 1 else f"{{{low},}}")
    return body + ("?" if (low, high) == (0, 1) else f"{{{low},{high}}}")


def _at(code: Any, flags: int) -> str:
    if code is sre.AT_BEGINNING:
        return "(?m:^)" if flags & _FLAG_M else r"\A"
    if code is sre.AT_END:  # Python's also matches before a final newline
        return "(?m:$)" if flags & _FLAG_M else r"(?:\n?\z)"
    spelled = {
        sre.AT_BEGINNING_STRING: r"\A",
        sre.AT_END_STRING: r"\z",
        sre.AT_BOUNDARY: r"\b",
        sre.AT_NON_BOUNDARY: r"\B",
    }
    return spelled[code]


def _class(items: Any, flags: int) -> str:
    """A character class: `[...]`, or an alternation when it holds \\W or \\S, which RE2
    cannot put in a class beside other items."""
    negated = bool(items) and items[0][0] is sre.NEGATE
    plain: list[str] = []
    complements: list[str] = []  # class items whose complement this class holds
    for op, av in items[1:] if negated else items:
        if op is sre.LITERAL:
            plain.append(_char(av) + (_ascii_cased(av, flags) or ""))
        elif op is sre.RANGE:
            plain.append(f"{_char(av[0])}-{_char(av[1])}")
            plain.extend(_swapped_range(av[0], av[1], flags))
        elif op is sre.CATEGORY:
            _category(av, flags, plain, complements)
        else:
            raise Unsupported(f"it uses {str(op).lower()} in a class, not translated to RE2")
    if not complements:
        return f"[{'^' if negated else ''}{''.join(plain)}]"
    if negated and not plain and len(complements) == 1:  # [^\W] is \w
        return f"[{complements[0]}]"
    if negated:  # the complement of a union with a complement in it: an intersection
        raise Unsupported(
            "a negated class that holds \\W, \\S or \\D with other items cannot be run by RE2"
        )
    # A class matches one character in any of its items: an alternation of them, each
    # complement a class of its own.
    parts = [f"[^{c}]" for c in complements] + ([f"[{''.join(plain)}]"] if plain else [])
    return "(?:" + "|".join(parts) + ")"


def _category(code: Any, flags: int, plain: list[str], complements: list[str]) -> None:
    table = _ASCII_ITEMS if flags & _FLAG_A else _UNICODE_ITEMS
    if code in table:
        plain.append(table[code])
    elif code in _COMPLEMENTS:
        complements.append(table[_COMPLEMENTS[code]])
    else:
        raise Unsupported(f"it uses {str(code).lower()}, which is not translated to RE2")

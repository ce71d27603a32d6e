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
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

_FLAG_I = re.IGNORECASE.value
_FLAG_M = re.MULTILINE.value
_FLAG_S = re.DOTALL.value
_FLAG_A = re.ASCII.value

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


def to_re2(pattern: str) -> str:
    """`pattern` (Python's syntax) in RE2's syntax, matching the same texts."""
    try:
        parsed = sre_parse.parse(pattern)
    except re.error as exc:
        raise Unsupported(f"not a valid regex: {exc}") from None
    except RecursionError:
        raise Unsupported("nested too deep to read") from None
    _end_last(parsed, parsed.state.flags, followed=False)
    return _sequence(parsed, parsed.state.flags)


def _end_last(items: Any, flags: int, *, followed: bool) -> None:
    """Refuse a `$` (not multiline) that more of the regex may follow: Python's `$` stands
    before a final newline and leaves it to what follows (`$\\s` matches "\\n"), which
    RE2's cannot; at the end of the regex, as `$` is meant, both agree."""
    for index, (op, av) in enumerate(items):
        after = followed or any((o, a) != (sre.AT, sre.AT_END) for o, a in items[index + 1 :])
        if op is sre.AT and av is sre.AT_END and not flags & _FLAG_M and after:
            raise Unsupported("it has a $ before more of the regex, which RE2 reads otherwise")
        if op is sre.BRANCH:
            for branch in av[1]:
                _end_last(branch, flags, followed=after)
        elif op is sre.SUBPATTERN:
            _end_last(av[3], (flags | av[1]) & ~av[2], followed=after)
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
            _end_last(av[2], flags, followed=after or av[1] > 1)


def _sequence(items: Any, flags: int) -> str:
    return "".join(_item(op, av, flags) for op, av in items)


def _item(op: Any, av: Any, flags: int) -> str:
    if op in _REFUSED:
        raise Unsupported(f"it uses {_REFUSED[op]}, which RE2 cannot run")
    if op is sre.LITERAL:
        return _cased(_char(av), flags)
    if op is sre.NOT_LITERAL:
        return _cased(f"[^{_char(av)}]", flags)
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


def _cased(spelled: str, flags: int) -> str:
    return f"(?i:{spelled})" if flags & _FLAG_I else spelled


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
            plain.append(_char(av))
        elif op is sre.RANGE:
            plain.append(f"{_char(av[0])}-{_char(av[1])}")
        elif op is sre.CATEGORY:
            _category(av, flags, plain, complements)
        else:
            raise Unsupported(f"it uses {str(op).lower()} in a class, not translated to RE2")
    if not complements:
        return f"[{'^' if negated else ''}{''.join(plain)}]"
    if negated and not plain and len(complements) == 1:  # [^\W] is \w
        return f"[{complements[0]}]"
    if negated:  # the complement of a union with a complement in it: an intersection
        raise Unsupported("a negated class that holds \\W, \\S or \\D with other items "
                          "cannot be run by RE2")
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

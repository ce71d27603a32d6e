"""Namespaces and task names: the one rule, checked wherever a name enters (a task image's
catalog label, the local server's catalog and submit endpoints).

A name is put in URL paths (`/polling/api/namespaces/<namespace>/task-instances/poll`),
in logs, and on screens. So it must survive all three unchanged: an HTTP library
rewrites `.` and `..` segments and would send `…/namespaces/../task-instances/poll`
elsewhere; `/`, `\\`, `%`, `?` and `#` split or re-read a path; control, format and
bidirectional characters (NUL, ESC, newlines, U+202E) drive terminals and reorder text;
white space at an end cannot be seen.
"""

from __future__ import annotations

import unicodedata

from runner.core.text import escape

NAME_RULE = (
    "a namespace or task name has no control, format or bidirectional characters, "
    "no white space at either end, none of / \\ % ? #, and is not . or .."
)
_FORBIDDEN = frozenset("/\\%?#")
# Cc: controls (NUL, ESC, newlines, C1); Cf: format characters, the bidirectional
# overrides and isolates among them; Cs: lone surrogates; Zl, Zp: line and paragraph
# separators.
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def name_problem(name: str) -> str | None:
    """What makes `name` unusable as a namespace or task name (the reason only; the
    rule is NAME_RULE), or None."""
    if not name:
        return "it is empty"
    if name in (".", ".."):
        return f"it is {name!r}, which a URL path would rewrite"
    if name.strip() != name:
        return "it has white space at an end"
    for char in name:
        if char in _FORBIDDEN:
            return f"it holds {char!r}"
        if unicodedata.category(char) in _FORBIDDEN_CATEGORIES:
            return f"it holds {escape(char)}, a control, format or bidirectional character"
    return None

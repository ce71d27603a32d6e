"""Reading a task's JSON defensively: depth, Unicode text, finite numbers, and where."""

from __future__ import annotations

import json
import math
import random
from typing import Any

import pytest

from runner.core.jsoncheck import BadNumber, first_problem, loads, pruned

LIMIT = 4


def deep(levels: int) -> Any:
    """`levels` nested containers, lists and objects in turn."""
    value: Any = 0
    for level in reversed(range(levels)):
        value = [value] if level % 2 == 0 else {"k": value}
    return value


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ({"a": [1, "x", None, True, 2.5, {"b": "\U0001f600"}]}, None),
        (deep(LIMIT), None),
        (deep(LIMIT + 1), "v[0].k[0].k: nested deeper than the limit of 4 levels"),
        ([[], {}, [[[[]]]]], "v[2][0][0][0]: nested deeper than the limit of 4 levels"),
        ({"a": "ok", "b": ["x", "y\udfff"]}, r"v.b[1]: not valid Unicode text: a lone UTF-16"),
        ({"a": {"\ud800": 1}}, r"v.a.\ud800: the name is not valid Unicode text"),
        ({"n": [1.0, float("inf")]}, "v.n[1]: a number too large"),
        ({"n": float("nan")}, "v.n: NaN is not a finite number"),
        ({"n": BadNumber("-Infinity")}, "v.n: -Infinity is not a finite number"),
        ("\udfff", r"v: not valid Unicode text: a lone UTF-16 surrogate \udfff"),
        ({"x" * 100: {"\x1b": "\udfff"}}, r"v." + "x" * 40 + r"....\x1b: not valid Unicode"),
    ],
)
def test_the_first_problem_is_named_by_its_path(value: Any, problem: str | None) -> None:
    found = first_problem(value, "v", LIMIT)
    if problem is None:
        assert found is None
    else:
        assert found is not None and found.startswith(problem), found


def test_problems_are_found_in_document_order() -> None:
    value = {"a": [1, {"b": "\udfff"}], "c": deep(9), "d": float("nan")}
    assert (first_problem(value, "v", LIMIT) or "").startswith("v.a[1].b: not valid")
    del value["a"]
    assert (first_problem(value, "v", LIMIT) or "").startswith("v.c[0].k[0]: nested deeper")


def random_value(rng: random.Random, depth: int = 0) -> Any:
    pick = rng.random()
    if depth < 7 and pick < 0.3:
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    if depth < 7 and pick < 0.6:
        return {rng.choice(["a", "b", "\udfff", "[{"]): random_value(rng, depth + 1)}
    return rng.choice([0, 1.5, "text", "\ud83d", "]]", float("inf"), BadNumber("NaN"), None])


def test_the_quick_check_and_the_walk_always_agree() -> None:
    """first_problem is None exactly when a plain walk finds nothing (fast path included)."""
    rng = random.Random(14)
    for _ in range(2000):
        value = random_value(rng)
        assert (first_problem(value, "v", LIMIT) is None) == (not slow_problems(value, 1))


def slow_problems(value: Any, depth: int) -> bool:
    if isinstance(value, str):
        return any(0xD800 <= ord(c) <= 0xDFFF for c in value)
    if isinstance(value, BadNumber):
        return True
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(slow_problems(key, 0) for key in value) or slow_problems(
            list(value.values()), depth
        )
    if isinstance(value, list):
        return depth > LIMIT or any(slow_problems(child, depth + 1) for child in value)
    return False


def test_nan_and_infinity_are_read_as_bad_numbers() -> None:
    assert loads("[NaN, Infinity, -Infinity, 1e999, 1]") == [
        BadNumber("NaN"),
        BadNumber("Infinity"),
        BadNumber("-Infinity"),
        float("inf"),
        1,
    ]


@pytest.mark.parametrize("levels", [LIMIT + 1, 50, 3000, 100_000])
def test_a_line_of_any_depth_is_pruned_to_one_past_the_limit(levels: int) -> None:
    text = '{"s": "[[{{\\"]]", "v": ' + "[" * levels + "]" * levels + ', "after": [1, {"x": "]"}]}'
    if levels > 2000:  # too deep for the json module
        with pytest.raises(RecursionError):
            json.loads(text)
    cut = loads(pruned(text, LIMIT))
    assert cut == {"s": '[[{{"]]', "v": [[[[]]]], "after": [1, {"x": "]"}]}
    assert first_problem(cut, "m", LIMIT) == (
        "m.v[0][0][0]: nested deeper than the limit of 4 levels of objects and arrays"
    )


def test_pruning_keeps_text_that_is_not_deep_as_it_is() -> None:
    text = '{"a": [1, 2, {"b": "\\u00e9\\udfff"}], "c": "x"}'
    assert pruned(text, LIMIT) == text
    assert pruned("{]]]]", LIMIT) == "{]]]]"  # not JSON, and still not JSON


EXTRAS = ["1e999", "-1E+400", "1.5e300", "1e-999", '"a1e999 NaN"', "1" * 400, "1" * 400 + ".5"]


def test_what_the_text_shows_and_the_walk_always_agree() -> None:
    """With the text a value was read from, the quick check agrees with a plain walk."""
    rng = random.Random(41)
    for _ in range(2000):
        value = {"v": random_value(rng)}
        ascii_only = rng.random() < 0.5
        text = json.dumps(value, ensure_ascii=ascii_only, default=lambda _: math.nan)
        text = text[:-1] + ',"z":' + rng.choice(EXTRAS) + "}"
        read = loads(text)
        found = first_problem(read, "v", LIMIT, text=text)
        assert (found is None) == (not slow_problems(read, 1)), text

"""A catalog's customRegex: its inline flags as Python reads them, matched against whole
values as Python would, in time linear in its length, within caps that bound what a
catalog's regexes cost to check, and without a word from Python's regex parser."""

from __future__ import annotations

import json
import re
import time
import warnings
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from runner.contracts import Contracts, regex
from runner.core import regexsyntax
from runner.core.catalog import MAX_CATALOG_BYTES, TaskRoute
from runner.core.errors import TaskRejected
from runner.core.regexsyntax import MAX_REGEX_CHARS, MAX_REGEX_DEPTH, to_re2
from runner.localserver import bodies
from runner.localserver.errors import HttpError

CONTRACTS = Contracts()

# -- inline flags: the same answers as Python's re (Hypothesis) -------------------------

atoms = st.sampled_from(
    [
        *("a", "A", "k", "K", "é", ".", r"\d", r"\w", r"\s", r"\W", r"\D", r"\S", "[ab]"),
        *("[a-c]", "[^a]", "[Z-a]", r"[\d\s]", r"\.", "^", "$", r"\b", " ", "(?i:a)", "(?-i:k)"),
        *("(?s:.)", "(?m:^)", "(?m:$)", r"(?a:\w)", "(?x: a b )", "(?i-s:.)"),
    ]
)
regex_bodies = st.recursive(
    atoms,
    lambda inner: (
        st.tuples(inner, inner).map("".join)
        | st.tuples(inner, inner).map(lambda pair: f"(?:{pair[0]}|{pair[1]})")
        | inner.map(lambda r: f"(?:{r})*")
        | inner.map(lambda r: f"({r})+?")
        | inner.map(lambda r: f"(?:{r}){{1,3}}")
    ),
    max_leaves=6,
)
global_flags = st.sampled_from(["", "i", "s", "m", "x", "a", "ai", "is", "im", "xi", "ms", "u"])
texts = st.text(alphabet="abcAKkéÉ1٣ \n\t.\u212a_-", max_size=12)


def python_whole(flags: str, body: str, text: str) -> bool:
    """Python's answer for the catalog's rule: `^(?:regex)$`, the regex's flags its own
    (Python refuses global flags there, so they become a scoped group: the same meaning)."""
    scoped = f"(?{flags}:{body}\n)" if "x" in flags else f"(?{flags}:{body})" if flags else body
    return re.search(f"^(?:{scoped})$", text) is not None


@settings(max_examples=800, deadline=None)
@given(global_flags, regex_bodies, texts)
def test_inline_flags_answer_as_python_does(flags: str, body: str, text: str) -> None:
    pattern = f"(?{flags}){body}" if flags else body
    assume(regex.refusal(pattern, whole=True) is None)
    if "\\b" in pattern:  # RE2's word boundary is ASCII only (documented)
        text = text.translate(str.maketrans("éÉ\u212a٣", "eEK3"))
    assert regex.matches_whole(pattern, text) == python_whole(flags, body, text), (pattern, text)
    assert regex.search(pattern, text) == (re.search(pattern, text) is not None), (pattern, text)


@pytest.mark.parametrize(
    ("pattern", "matching", "not_matching"),
    [
        ("(?i)abc", ["ABC", "aBc", "abc\n"], ["abcd", "xabc"]),
        ("(?x) a b  # a comment", ["ab"], ["a b", "a"]),
        ("(?s)a.b", ["a\nb"], ["ab"]),
        ("(?m)a$", ["a"], ["a\nb", "a\nx"]),  # the value as a whole, even under (?m)
        ("(?ai)k", ["k", "K"], ["\u212a"]),  # ASCII-only case folding, as Python's
        ("(?i)k", ["k", "K", "\u212a"], ["x"]),
        ("(?i:a)b", ["Ab"], ["AB"]),
        ("[[a]+", ["[a[", "a"], ["b"]),  # Python's own reading, without its FutureWarning
    ],
)
def test_a_catalog_regex_matches_whole_values_with_its_own_flags(
    pattern: str, matching: list[str], not_matching: list[str]
) -> None:
    route = TaskRoute("img", _definition(pattern))
    for value in matching:
        assert CONTRACTS.task_inputs(route, {"text": value}) == {"text": value}
    for value in not_matching:
        with pytest.raises(TaskRejected, match="does not match the regex"):
            CONTRACTS.task_inputs(route, {"text": value})


def _definition(*patterns: str, name: str = "task") -> dict[str, Any]:
    inputs = [
        {"name": f"text{i}" if i else "text", "baseType": "String", "customRegex": pattern}
        for i, pattern in enumerate(patterns)
    ]
    return {"namespace": "ns", "name": name, "schemaVersion": 0, "inputs": inputs}


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        ("a(?i)b", "global flags not at the start"),
        ("(?L)a", "cannot use 'L' flag"),
        ("(?i:a)(?s)b", "global flags not at the start"),
    ],
)
def test_flags_python_itself_refuses_are_refused_by_the_catalog_check(
    pattern: str, why: str
) -> None:
    problems = CONTRACTS.catalog_problems([_definition(pattern)])
    assert len(problems) == 1 and why in str(problems[0]), problems


def test_the_local_servers_catalog_endpoint_refuses_them_alike() -> None:
    for pattern, why in [("a(?i)b", "global flags not at the start"), ("a" * 5000, "4,096")]:
        with pytest.raises(HttpError) as refused:
            bodies.catalog([_definition(pattern)], "ns", CONTRACTS)
        assert refused.value.status == 400 and why in refused.value.message
    assert bodies.catalog([_definition("(?i)abc")], "ns", CONTRACTS)


# -- caps: length, depth, and what a catalog's regexes compile to together -------------


def test_a_regex_over_the_length_cap_is_refused_in_one_line_naming_task_and_input() -> None:
    problems = CONTRACTS.catalog_problems([_definition("a" * (MAX_REGEX_CHARS + 1))])
    assert len(problems) == 1
    said = str(problems[0])
    assert "(ns/task) input 'text'" in said and "\n" not in said
    assert f"over the limit of {MAX_REGEX_CHARS:,}" in said
    assert CONTRACTS.catalog_problems([_definition("a" * MAX_REGEX_CHARS)]) == []


def test_groups_nested_past_the_cap_are_refused() -> None:
    def nested(depth: int) -> str:
        return "(?:" * depth + "a" + ")" * depth

    assert regex.refusal(nested(MAX_REGEX_DEPTH - 1)) is None
    for depth in (MAX_REGEX_DEPTH + 1, 1000):  # 1000: past what Python's parser can read
        assert f"nests groups more than {MAX_REGEX_DEPTH} deep" in str(regex.refusal(nested(depth)))


def test_a_catalogs_regexes_share_one_compile_budget() -> None:
    one = r"\w{1,150}"  # about 200,000 instructions: accepted alone
    assert regex.refusal(one, whole=True) is None
    catalog = [_definition(*(f"{one}{letter}" for letter in "abc"))]
    problems = CONTRACTS.catalog_problems(catalog)
    assert len(problems) == 1, problems
    said = str(problems[0])
    assert "input 'text2'" in said and "with the catalog's other regexes" in said


def test_an_accepted_catalog_never_fails_its_tasks_on_its_regexes() -> None:
    definition = _definition("(?i)[a-z]+", "(?x) [0-9]+ # digits", r"\w{1,150}")
    assert CONTRACTS.catalog_problems([definition]) == []
    values = {"text": "Abc", "text1": "42", "text2": "word"}
    assert CONTRACTS.task_inputs(TaskRoute("img", definition), values) == values


# -- cost: linear in the length, a catalog in well under a second ----------------------

ADVERSARIAL = {
    "literals": lambda n: "a" * n,
    "nested groups": lambda n: (
        "(?:" * (MAX_REGEX_DEPTH - 1)
        + "a" * (n - 4 * MAX_REGEX_DEPTH)
        + ")" * (MAX_REGEX_DEPTH - 1)
    ),
    "alternatives": lambda n: "|".join(["ab"] * (n // 3)),
    "unicode classes": lambda n: r"\w" * (n // 2),
    "case-folded": lambda n: "(?i)" + "é" * (n - 4),
    "dollars": lambda n: "(?m)" + "a$" * ((n - 4) // 2),
}


def cpu(call: Any) -> float:
    started = time.process_time()
    call()
    return time.process_time() - started


@pytest.mark.parametrize("make", ADVERSARIAL.values(), ids=list(ADVERSARIAL))
def test_translating_a_regex_takes_time_linear_in_its_length(
    make: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Past the cap too: the translation itself is linear (it once took 0.8 s for 12,500
    # characters and 3.9 s for 50,000).
    monkeypatch.setattr(regexsyntax, "MAX_REGEX_CHARS", 10**6)
    half, full = make(25_000), make(50_000)
    to_re2(full)  # warm-up
    ratio = min(cpu(lambda: to_re2(full)) for _ in range(3)) / max(
        min(cpu(lambda: to_re2(half)) for _ in range(3)), 1e-4
    )
    print(f"\ntime(2n)/time(n) = {ratio:.2f}")
    assert ratio < 3.0


def _with_defaults(definition: dict[str, Any], value: str) -> dict[str, Any]:
    for param in definition["inputs"]:
        param["defaultValue"] = value  # checked against its regex too: a second compile
    return definition


def _costliest_catalogs() -> dict[str, list[dict[str, Any]]]:
    """For each thing a regex costs, a catalog with as much of it as the caps let in."""
    quarter = MAX_REGEX_CHARS  # four regexes at the cap fill a catalog's characters
    nested = ADVERSARIAL["nested groups"](quarter)
    wide = r"\w{1,85}"  # about 115,000 instructions: four fit the budget
    return {
        "nested groups": [_definition(*(nested[:-1] + f"{i})" for i in range(4)))],
        "every kind at its cap": [
            _definition(make(quarter // 4) + "x", name=name)
            for name, make in zip("abcdef", ADVERSARIAL.values(), strict=True)
        ],
        "unicode classes, compiled": [
            _with_defaults(_definition(*(f"{wide}{i}" for i in range(4))), "word0")
        ],
        "unicode classes, too many": [
            _definition(r"\w" * (quarter // 2 - 1) + "x", name=name) for name in "abcd"
        ],
        "too large for RE2, many": [_definition(*(rf"\w{{1000}}{i}" for i in range(1500)))],
    }


def test_the_costliest_catalogs_are_checked_in_under_a_second() -> None:
    costs = {}
    for what, catalog in _costliest_catalogs().items():
        regex._PROGRAMS = regex._Programs(regex._KEPT_INSTRUCTIONS)  # nothing compiled yet
        costs[what] = cpu(lambda catalog=catalog: CONTRACTS.catalog_problems(catalog))
    print("\n" + "\n".join(f"{what}: {took:.3f} s of CPU" for what, took in costs.items()))
    assert max(costs.values()) < 1.0


def filled(make_task: Any) -> list[dict[str, Any]]:
    """As many tasks as a catalog of MAX_CATALOG_BYTES holds."""
    catalog: list[dict[str, Any]] = []
    size = 2
    while (
        size + len(json.dumps(make_task(len(catalog)), separators=(",", ":"))) < MAX_CATALOG_BYTES
    ):
        catalog.append(make_task(len(catalog)))
        size += len(json.dumps(catalog[-1], separators=(",", ":"))) + 1
    return catalog


DENSE = {
    "parameters with defaults": lambda i: [
        {"name": f"{j}", "baseType": "Integer", "defaultValue": "1"} for j in range(50)
    ],
    "long allowedValues": lambda i: [
        {"name": "a", "allowedValues": ["x"] * 500, "defaultValue": "x"}
    ],
    "multiple values": lambda i: [
        {
            "name": "a",
            "allowMultipleValues": True,
            "allowedValues": [str(k) for k in range(50)],
            "defaultValue": [str(k) for k in range(50)],
        }
    ],
    "bare tasks": lambda i: [],
}


def test_the_costliest_catalogs_of_the_size_cap_are_checked_in_about_a_second() -> None:
    costs = {}
    for what, inputs in DENSE.items():
        catalog = filled(
            lambda i, inputs=inputs: {
                "namespace": "n",
                "name": f"t{i}",
                "schemaVersion": 0,
                "inputs": inputs(i),
            }
        )
        costs[what] = cpu(lambda catalog=catalog: CONTRACTS.catalog_problems(catalog))
    print(
        "\n" + "\n".join(f"512 KiB of {what}: {took:.2f} s of CPU" for what, took in costs.items())
    )
    assert max(costs.values()) < 2.0  # about 0.9 s on a loaded 2-core machine


def test_the_regex_parser_says_nothing_of_its_own() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for pattern in ("[[a]", "[!--]", "[a&&b]", "[a||b]", "[a~~b]"):
            assert regex.refusal(pattern) is None
            assert CONTRACTS.catalog_problems([_definition(pattern)]) == []


def test_a_catalog_is_json_the_derived_schema_needs_no_pattern_text() -> None:
    definition = _definition("(?i)abc")
    schema = TaskRoute("img", definition).input_schema
    assert json.loads(json.dumps(schema))["properties"]["text"]["customRegex"] == "(?i)abc"

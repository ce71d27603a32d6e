"""Every reader of untrusted JSON and every catalog check takes time linear in its input:
generated and adversarial inputs (Hypothesis), and doubling an adversarial input at most
about doubles its time, up to the size limits (1 MiB task lines, 16 MB request bodies)."""

from __future__ import annotations

import contextlib
import gc
import json
import re
import time
import unicodedata
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runner.contracts import Contracts, regex
from runner.contracts.validation import _compile_derived
from runner.core import jsoncheck
from runner.core.names import name_problem
from runner.core.protocol import NUMERIC_STRING, Invalid, LogLine, parse_line
from runner.localserver import jsontext
from runner.localserver.errors import HttpError

LINE_LIMIT = 1024 * 1024
BODY_LIMIT = 16 * 1024 * 1024
FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=30,
)
json_texts = json_values.map(json.dumps)
json_like = st.text(alphabet='[]{}"\\,:0123456789eE.-+ nultrfaNIy\n', max_size=300)


def no_check(_message: object) -> None:
    return None


@FAST
@given(json_texts)
def test_what_json_reads_the_server_reads_alike(text: str) -> None:
    assert jsontext.parse(text.encode(), "body") == json.loads(text)


@FAST
@given(json_like)
def test_any_text_is_refused_in_one_line_or_read(text: str) -> None:
    try:
        jsontext.parse(text.encode(), "body")
    except HttpError as refused:
        assert refused.status == 400 and "\n" not in refused.message
    assert isinstance(parse_line(text.encode(), no_check), LogLine | Invalid) or True


@FAST
@given(json_texts)
def test_masking_strings_keeps_the_brackets_outside_them(text: str) -> None:
    masked = jsoncheck.masked_strings(text)
    assert len(masked) == len(text)
    outside, open_string = jsoncheck.outside_strings(text)
    assert not open_string
    kept = re.sub(r"[^\[\]{}]", "", masked)
    assert kept == re.sub(r"[^\[\]{}]", "", outside)


@FAST
@given(json_values)
def test_a_message_line_is_read_whatever_it_holds(outputs: object) -> None:
    line = json.dumps({"type": "result", "outputs": {"x": outputs}}).encode()
    assert not isinstance(parse_line(line, no_check), LogLine)


@FAST
@given(st.text(max_size=40))
def test_names_follow_one_rule(name: str) -> None:
    usable = (
        name not in ("", ".", "..")
        and name.strip() == name
        and not any(c in "/\\%?#" for c in name)
        and not any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp") for c in name)
    )
    assert (name_problem(name) is None) == usable, (name, name_problem(name))


# -- regexes: the same answers as Python's re, in linear time ---------------------------

# The same answers as Python's re, on generated regexes and texts (inline flags too):
# tests/unit/test_catalog_regex.py.


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        (r"(a)\1", "back-reference"),
        (r"a(?=b)", "look-ahead"),
        (r"(?<=a)b", "look-ahead or look-behind"),
        (r"a++", "possessive"),
        (r"(?>a)", "atomic"),
        (r"(a)?(?(1)b|c)", "conditional"),
        (r"(?:a{1000}){1000}", "RE2 cannot run it"),
        (r"(", "not a valid regex"),
        (r"a$\s", "a $ before more of the regex"),
    ],
)
def test_what_re2_cannot_run_is_refused_with_the_reason(pattern: str, why: str) -> None:
    assert why in (regex.refusal(pattern) or ""), regex.refusal(pattern)


def test_a_catalog_with_a_regex_re2_cannot_run_is_refused_naming_it() -> None:
    catalog = [
        {
            "namespace": "ns",
            "name": "task",
            "schemaVersion": 0,
            "inputs": [{"name": "text", "baseType": "String", "customRegex": r"(a+)+\1"}],
        }
    ]
    problems = Contracts().catalog_problems(catalog)
    assert len(problems) == 1
    said = str(problems[0])
    assert "(ns/task) input 'text'" in said and r"(a+)+\\1" in said and "back-reference" in said


def test_a_catastrophic_regex_is_checked_in_linear_time() -> None:
    route_schema = {"type": "string", "pattern": "^(?:(a+)+b)$"}
    validator = _compile_derived(json.dumps(route_schema))
    started = time.perf_counter()
    errors = list(validator.iter_errors("a" * 100_000))
    took = time.perf_counter() - started
    print(f"\n(a+)+b against 100,000 a's: {took * 1000:.1f} ms")
    assert errors and took < 2.0


# -- doubling an adversarial input at most about doubles its time ----------------------


def best_of(runs: int, call: Callable[[], object]) -> float:
    """The least CPU time of this process that `call()` took in `runs` runs: CPU time, not
    wall time, so that other processes on a loaded machine do not skew a ratio."""
    times = []
    for _ in range(runs):
        gc.collect()  # each run starts with the same heap
        started = time.process_time()
        with contextlib.suppress(HttpError):
            call()
        times.append(time.process_time() - started)
    return min(times)


def unclosed_quotes(size: int) -> bytes:
    return b'{"m": "' + b'\\"' * (size // 2)


def deep_line(size: int) -> bytes:
    head = b'{"type": "result", "outputs": {"x": ' + b"[" * 5000 + b'"'
    return head + b'\\"' * ((size - len(head)) // 2)


def digit_run(size: int) -> bytes:
    return json.dumps(
        {"type": "notify", "status": "InProgress", "progressPercentage": "1" * size + "x"}
    ).encode()


def zigzag(size: int) -> bytes:
    return b'{"type": "result", "x": ' + (b"[" * 2048 + b"]" * 2048) * (size // 4096)


ADVERSARIES: list[tuple[str, Callable[[int], bytes], Callable[[bytes], object], int]] = [
    ("body of escaped quotes", unclosed_quotes, lambda b: jsontext.parse(b, "body"), BODY_LIMIT),
    ("deep line of escaped quotes", deep_line, lambda b: parse_line(b, no_check), LINE_LIMIT),
    ("digit run in a progress", digit_run, lambda b: parse_line(b, no_check), LINE_LIMIT),
    ("zigzag nesting", zigzag, lambda b: parse_line(b, no_check), LINE_LIMIT),
    ("zigzag body", zigzag, lambda b: jsontext.parse(b, "body"), BODY_LIMIT),
]


@pytest.mark.parametrize(
    ("what", "make", "read", "limit"), ADVERSARIES, ids=[a[0] for a in ADVERSARIES]
)
def test_doubling_an_adversarial_input_at_most_about_doubles_its_time(
    what: str, make: Callable[[int], bytes], read: Callable[[bytes], object], limit: int
) -> None:
    small, large = make(limit // 4), make(limit // 2)
    best_of(1, lambda: read(small))  # warm-up
    ratio = best_of(5, lambda: read(large)) / max(best_of(5, lambda: read(small)), 1e-3)
    full = make(limit)
    took = best_of(1, lambda: read(full))
    print(f"\n{what}: {len(full):,} bytes in {took:.3f} s; time(2n)/time(n) = {ratio:.2f}")
    assert ratio < 3.0
    assert took < 2.0


def test_numeric_string_is_linear() -> None:
    started = time.perf_counter()
    assert NUMERIC_STRING.fullmatch("1" * LINE_LIMIT + "x") is None
    assert time.perf_counter() - started < 1.0

"""Task text: what is not Unicode is named, and anything is made safe to print."""

from __future__ import annotations

import unicodedata

import pytest

from runner.core.text import printable, text_problem

HOSTILE = (
    "\x1b[2J\x1b[H"  # clear the screen, cursor home
    "\x1b]0;pwned\x07"  # set the window title
    "\x9b31m"  # CSI as a single C1 control
    "\x90q\x9c"  # DCS ... ST
    "over\rwrite\bx\x7f"
    "\udfff\ud800"  # lone surrogates
    "\ufffe\uffff\U0010ffff\U000e0001"  # noncharacters, a tag
    "\u202eevil\u2066"  # bidirectional overrides
    "\u2028\u2029\x85\x00"
)


def test_every_control_and_non_character_is_escaped() -> None:
    shown = printable(HOSTILE)
    assert shown == (
        r"\x1b[2J\x1b[H\x1b]0;pwned\x07\x9b31m\x90q\x9cover\x0dwrite\x08x\x7f"
        r"\udfff\ud800\ufffe\uffff\U0010ffff\U000e0001\u202eevil\u2066\u2028\u2029\x85\x00"
    )
    shown.encode("ascii")


def test_printable_text_of_any_script_is_kept() -> None:
    text = 'Grüße, 世界! مرحبا 👩\u200d👩\u200d👧 e\u0301 \u00a0\t"q" \\n \ue000'
    assert printable(text) == text


def test_newlines_are_kept_only_when_asked() -> None:
    assert printable("a\nb\r\n") == r"a\x0ab\x0d\x0a"
    assert printable("a\nb\r\n", multiline=True) == "a\nb\\x0d\n"


def test_every_code_point_comes_out_printable_and_encodable() -> None:
    planes = (*range(0x20000), *range(0xE0000, 0x110000))  # BMP, SMP, tags, private use
    everything = "".join(map(chr, planes))
    shown = printable(everything)
    shown.encode("utf-8")
    kept = {unicodedata.category(ch) for ch in set(shown) - {"\t", "\u200c", "\u200d"}}
    assert kept.isdisjoint({"Cc", "Cf", "Cs", "Cn", "Zl", "Zp"})
    assert printable(shown) == shown


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("fine \U0001f600", None),
        ("", None),
        ("\udfff", r"not valid Unicode text: a lone UTF-16 surrogate \udfff at character 0"),
        ("ab\ud83d", r"not valid Unicode text: a lone UTF-16 surrogate \ud83d at character 2"),
        ("\ude00\ud83d", r"not valid Unicode text: a lone UTF-16 surrogate \ude00 at character 0"),
    ],
)
def test_a_lone_surrogate_is_named_and_where(text: str, problem: str | None) -> None:
    assert text_problem(text) == problem

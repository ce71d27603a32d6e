"""Inputs as JSON, for `exec` and `submit`: `--input-json` and `submit --from-file`.

`--input-json` takes a JSON object of inputs by name: the text itself when it starts with
`{` (`--input-json '{"point": {"lat": 1}}'`), else a file, or `-` for stdin. A file of
many instances is JSON lines, one JSON object per line (blank lines skipped).

JSON is read strictly, as a platform would take it: `NaN`, `Infinity`, a number that
overflows a double (`1e999`), a string with a lone surrogate (`"\\ud800"`) and nesting
deeper than a submit body may hold are refused, naming the place (`inputs.a[2]: ...`).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from runner.core.errors import UsageError
from runner.core.jsoncheck import first_problem, loads

# A submit body is one level, its inputData a second: the local server takes 64 in all.
MAX_INPUTS_DEPTH = 62


def read_input_json(source: str | None, option: str = "--input-json") -> dict[str, Any]:
    """The inputs object of `--input-json`: inline JSON, a file, or `-` (stdin); {} without."""
    if source is None:
        return {}
    if source.lstrip().startswith("{"):
        return inputs_object(source, f"{option}: the text given")
    name = "stdin" if source == "-" else source
    return inputs_object(read_text(source, option), f"{option}: {name}")


def read_text(source: str, option: str) -> str:
    """The whole text of a file, or of stdin for `-`."""
    name = "stdin" if source == "-" else source
    try:
        return sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{option}: cannot read {name}: {exc}") from None


def inputs_object(text: str, where: str) -> dict[str, Any]:
    """A JSON object of inputs by name; UsageError naming `where` and the place otherwise."""
    value = strict_json(text, where, "inputs")
    if not isinstance(value, dict):
        raise UsageError(f"{where} must hold a JSON object of inputs by name")
    return value


def strict_json(text: str, where: str, root: str) -> Any:
    """The JSON value of `text`, every number finite, every string Unicode text, nested at
    most MAX_INPUTS_DEPTH levels below `root`; UsageError naming `where` otherwise."""
    try:
        value = loads(text)
    except ValueError as exc:
        raise UsageError(f"{where} is not valid JSON: {exc}") from None
    except RecursionError:
        raise UsageError(f"{where} is nested too deep") from None
    problem = first_problem(value, root, MAX_INPUTS_DEPTH)
    if problem is not None:
        raise UsageError(f"{where}: {problem}")
    return value


def json_lines(text: str) -> Iterator[tuple[int, str]]:
    """(line number, line) of each line that is not blank."""
    for number, line in enumerate(text.split("\n"), 1):
        if line.strip():
            yield number, line

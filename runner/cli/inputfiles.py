"""Inputs as JSON, for `exec` and `submit`: `--input-json` and `submit --from-file`.

`--input-json` takes a JSON object of inputs by name: the text itself when it starts with
`{` (`--input-json '{"point": {"lat": 1}}'`), else a file (at most 16 MiB, as large as a
request to the local server), or `-` for stdin. A file of many instances is JSON lines,
one JSON object per line (blank lines skipped), at most 256 MiB. Files are read with
their size capped, and only when they are regular files (runner.files).

JSON is read strictly, as a platform would take it: nesting deeper than the documented
depth (runner.core.documents), `NaN`, `Infinity`, a number that overflows a double
(`1e999`) and a string with a lone surrogate (`"\\ud800"`) are refused, naming the place
(`inputs.a[2]: ...`).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

from runner.core.documents import MAX_DEPTH, TooDeep, read_json
from runner.core.errors import UsageError
from runner.core.jsoncheck import first_problem
from runner.files import Unreadable, read_capped, size_text

MAX_INPUT_JSON_BYTES = 16 * 1024 * 1024
MAX_FROM_FILE_BYTES = 256 * 1024 * 1024  # about two million instances of small inputs


def read_input_json(source: str | None, option: str = "--input-json") -> dict[str, Any]:
    """The inputs object of `--input-json`: inline JSON, a file, or `-` (stdin); {} without."""
    if source is None:
        return {}
    if source.lstrip().startswith("{"):
        return inputs_object(source, f"{option}: the text given")
    name = "stdin" if source == "-" else source
    text = read_text(source, option, MAX_INPUT_JSON_BYTES)
    return inputs_object(text, f"{option}: {name}")


def read_text(source: str, option: str, max_bytes: int) -> str:
    """The whole text of a file, or of stdin for `-`, at most `max_bytes`."""
    name = "stdin" if source == "-" else source
    try:
        if source == "-":
            read = getattr(sys.stdin, "buffer", sys.stdin).read(max_bytes + 1)
            raw = read.encode() if isinstance(read, str) else read
            if len(raw) > max_bytes:
                raise Unreadable(f"larger than the limit of {size_text(max_bytes)}")
        else:
            raw = read_capped(source, max_bytes)
        return str(raw.decode("utf-8"))
    except (Unreadable, OSError) as exc:
        raise UsageError(f"{option}: cannot read {name}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise UsageError(f"{option}: cannot read {name}: not UTF-8 text: {exc}") from None


def inputs_object(text: str, where: str) -> dict[str, Any]:
    """A JSON object of inputs by name; UsageError naming `where` and the place otherwise."""
    value = strict_json(text, where, "inputs")
    if not isinstance(value, dict):
        raise UsageError(f"{where} must hold a JSON object of inputs by name")
    return value


def strict_json(text: str, where: str, root: str) -> Any:
    """The JSON value of `text`, nested at most MAX_DEPTH levels, every number finite and
    every string Unicode text; UsageError naming `where` and the place below `root`."""
    try:
        value = read_json(text)
    except TooDeep as exc:
        raise UsageError(f"{where} is {exc}") from None
    except ValueError as exc:
        raise UsageError(f"{where} is not valid JSON: {exc}") from None
    problem = first_problem(value, root, MAX_DEPTH)
    if problem is not None:
        raise UsageError(f"{where}: {problem}")
    return value


def json_lines(text: str) -> Iterator[tuple[int, str]]:
    """(line number, line) of each line that is not blank."""
    for number, line in enumerate(text.split("\n"), 1):
        if line.strip():
            yield number, line

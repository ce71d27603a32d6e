"""What the commands print. Task text is untrusted: it goes through here, and only here.

`say` prints one line for the user through `runner.core.text.printable` (the log's
text lines go through it too: runner.ops.logs.TextFormatter), so no status, message,
output value or log line of a task can drive the terminal (ESC sequences, C1
controls, carriage returns) or crash a command (lone surrogates, an encoding that
lacks a character). A command that prints anything a task wrote uses `say`, and
`status_line` to show a status.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import Any, TextIO

from runner.core.text import printable


class OutputClosed(Exception):
    """Whoever read the output has gone (`xc-runner status ID | head -1`): the command
    stops quietly (runner.cli.main)."""


def say(line: str, stream: TextIO | None = None) -> None:
    """One line of user-facing output, made printable, on stdout (or `stream`); logs go to
    stderr. OutputClosed when the reader has gone."""
    stream = sys.stdout if stream is None else stream
    encoding = getattr(stream, "encoding", None) or "utf-8"
    text = printable(line).encode(encoding, "backslashreplace").decode(encoding)
    try:
        stream.write(text + "\n")
        stream.flush()
    except BrokenPipeError:
        raise OutputClosed from None


def status_line(item: Mapping[str, Any]) -> str:
    """`12:00:01.234 sample/double 5d1c… Completed {"nbr_out": "42"}`, from a status as the
    local server returns it (an Error with its level: `Error (Fatal)`); any field may be
    missing or of any type."""
    when = str(item.get("receivedAt", ""))[11:23]
    task = f"{item.get('namespace', '?')}/{item.get('name', '?')}" if "namespace" in item else ""
    status = str(item.get("status"))
    if status == "Error" and item.get("errorLevel"):
        status = f"Error ({item['errorLevel']})"
    parts = [when, task, str(item.get("taskInstanceId", ""))[:8], f"{status:<10}"]
    if item.get("progressPercentage") not in (None, ""):
        parts.append(f"[{item['progressPercentage']}]")
    if item.get("message"):
        parts.append(_json(item["message"]))
    if item.get("outputValues"):
        parts.append(_json(item["outputValues"]))
    return printable(" ".join(p for p in parts if p))


def _json(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    except RecursionError:
        return "<a value nested too deep to show>"
    except (ValueError, TypeError) as exc:  # not from JSON: a bug, but never a crash
        return f"<a value that cannot be shown: {exc}>"

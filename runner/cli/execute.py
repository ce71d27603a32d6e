"""`xc-runner exec IMAGE NAMESPACE/TASK [NAME=VALUE ...]`: one task, no platform.

Progress goes to stderr as it arrives; a Completed prints its outputs as one line of JSON
on stdout (exit 0); an Error prints its message on stderr (exit 1); a bad command line, an
unknown task, or invalid or missing inputs are named on stderr (exit 2), and no container
starts. Inputs come from `--input-json FILE` (`-`: stdin), then NAME=VALUE pairs, which
win for the names they give.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
from typing import Any

from runner.app.oneshot import OneShot, open_oneshot
from runner.cli.local import parse_assignments
from runner.cli.output import say
from runner.config.oneshot import oneshot_settings
from runner.core.documents import TooDeep, read_json
from runner.core.errors import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    TaskRejected,
    UsageError,
)
from runner.core.model import TaskInstance, TaskStatus
from runner.core.text import printable_json
from runner.files import Unreadable, read_capped, size_text

EXIT_TASK_ERROR = 1  # the task ended in Error


def exec_task(args: argparse.Namespace) -> int:
    namespace, task = task_name(args.task)
    inputs = {**read_input_json(args.input_json), **parse_assignments(args.inputs)}
    check_inputs(inputs)
    settings = oneshot_settings("exec", [args.image], args, os.environ)
    with open_oneshot(settings) as oneshot:
        return _exec(oneshot, args.image, namespace, task, inputs)


def _exec(oneshot: OneShot, image: str, namespace: str, task: str, inputs: dict[str, Any]) -> int:
    catalog = oneshot.catalog(image)
    try:
        oneshot.admit(catalog, namespace, task, inputs)
    except TaskRejected as exc:
        # as given, like main's own errors: the user's command line is not task text
        sys.stderr.write(f"xc-runner exec: {exc}\n")
        sys.stderr.flush()
        return EXIT_USAGE
    instance = TaskInstance(f"exec-{uuid.uuid4().hex[:12]}", namespace, task, inputs)
    status = oneshot.run(catalog, instance, Printer()).status
    if oneshot.stop.is_set():
        return EXIT_INTERRUPTED
    return EXIT_OK if status.status == "Completed" else EXIT_TASK_ERROR


def task_name(text: str) -> tuple[str, str]:
    namespace, slash, task = text.partition("/")
    if not slash or not namespace or not task:
        raise UsageError(f"the task must be given as NAMESPACE/TASK, got {text!r}")
    return namespace, task


def check_inputs(inputs: dict[str, Any]) -> None:
    """Each input can be sent to the task as UTF-8 JSON: no lone surrogate (from a `\\ud800`
    escape in --input-json, or bytes that are not UTF-8 in a NAME=VALUE pair)."""
    for name, value in inputs.items():
        try:
            json.dumps({name: value}, ensure_ascii=False).encode()
        except UnicodeEncodeError:
            raise UsageError(
                f"input {name!r}: not valid Unicode text (a lone surrogate, or bytes that are "
                "not UTF-8)"
            ) from None
        except RecursionError:
            raise UsageError(f"input {name!r}: nested too deep") from None


# An --input-json file is no larger than this: as large as a request to the local server.
MAX_INPUT_JSON_BYTES = 16 * 1024 * 1024


def read_input_json(source: str | None) -> dict[str, Any]:
    """The inputs object of `--input-json` (a file, or `-` for stdin); {} without one."""
    if source is None:
        return {}
    name = "stdin" if source == "-" else source
    try:
        if source == "-":
            read = getattr(sys.stdin, "buffer", sys.stdin).read(MAX_INPUT_JSON_BYTES + 1)
            raw = read.encode() if isinstance(read, str) else read
            if len(raw) > MAX_INPUT_JSON_BYTES:
                raise Unreadable(f"larger than the limit of {size_text(MAX_INPUT_JSON_BYTES)}")
        else:
            raw = read_capped(source, MAX_INPUT_JSON_BYTES)
    except (Unreadable, OSError) as exc:
        raise UsageError(f"--input-json: cannot read {name}: {exc.strerror or exc}") from None
    try:
        value = read_json(raw)
    except TooDeep as exc:
        raise UsageError(f"--input-json: {name} is {exc}") from None
    except ValueError as exc:
        raise UsageError(f"--input-json: {name} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise UsageError(f"--input-json: {name} must hold a JSON object of inputs by name")
    return value


class Printer:
    """The task's statuses as they arrive: the outputs on stdout, the rest on stderr."""

    def submit(self, status: TaskStatus) -> None:
        if status.status == "Completed":
            sys.stdout.write(printable_json(dict(status.output_values or {})) + "\n")
            sys.stdout.flush()
            if status.message:
                say(f"Completed: {status.message}", sys.stderr)
        elif status.status == "Error":
            level = f" ({status.error_level})" if status.error_level else ""
            say(f"Error{level}: {status.message}", sys.stderr)
        else:
            say(f"[{_percent(status.progress)}] {status.message}", sys.stderr)


def _percent(progress: str | None) -> str:
    try:
        return f"{float(progress or ''):4.0%}"
    except ValueError:
        return progress or "    "

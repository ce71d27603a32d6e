"""`xc-runner exec IMAGE NAMESPACE/TASK [NAME=VALUE ...]`: one task, no platform.

Progress goes to stderr as it arrives; a Completed prints its outputs as one line of JSON
on stdout (exit 0); an Error prints its message on stderr (exit 1); a bad command line, an
unknown task, or invalid or missing inputs are named on stderr (exit 2), and no container
starts. Inputs come from `--input-json` (a JSON object, given as it is, in a file, or on
stdin: runner.cli.inputfiles), then NAME=VALUE pairs, which win for the names they give.
"""

from __future__ import annotations

import argparse
import os
import sys
import uuid
from typing import Any

from runner.app.oneshot import OneShot, open_oneshot
from runner.cli.inputfiles import read_input_json
from runner.cli.local import parse_assignments
from runner.cli.output import say
from runner.config.oneshot import oneshot_settings
from runner.core.errors import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    TaskRejected,
    UsageError,
)
from runner.core.model import TaskInstance, TaskStatus
from runner.core.text import printable_json

EXIT_TASK_ERROR = 1  # the task ended in Error


def exec_task(args: argparse.Namespace) -> int:
    namespace, task = task_name(args.task)
    inputs = {**read_input_json(args.input_json), **parse_assignments(args.inputs)}
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

"""`xc-runner submit`: task instances queued on the local server, each checked first.

- One: `submit NAMESPACE TASK [NAME=VALUE ...] [--input-json JSON|FILE|-]`.
- Many: `submit --from-file FILE` (JSON lines: each line one submit body, as the admin API
  takes it: `{"namespace", "name", "inputData", "timeOutInMillis"}`), or
  `submit NAMESPACE TASK --from-file FILE` (each line that task's inputs object).

Before anything is queued, every instance is checked: its body as the server checks one
submit (runner.localserver.bodies), its inputs against the catalog the server has
published, as the cockpit checks them (the runner's own checks, defaults filled in).
Each problem is one line on stderr; then exit 2, and nothing is queued. A task that is
not in the published catalog is queued, with the server's warning (a runner will answer
it with an Error status). Many instances go to the bulk endpoint BATCH at a time, each
batch all or nothing; their ids are printed in the file's order, one per line.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from runner.cli.inputfiles import (
    MAX_FROM_FILE_BYTES,
    json_lines,
    read_input_json,
    read_text,
    strict_json,
)
from runner.cli.local import ended_code, follow, local_client, parse_assignments, timeout_ms
from runner.cli.output import say
from runner.contracts import Contracts
from runner.core.errors import EXIT_OK, EXIT_USAGE, PlatformError, RunnerError, UsageError
from runner.core.text import printable, text_problem
from runner.localserver import bodies
from runner.localserver.client import LocalClient
from runner.localserver.cockpit.form import input_problems
from runner.localserver.errors import HttpError

log = logging.getLogger(__name__)

BATCH = 1_000  # instances per request to the bulk endpoint (it takes up to 10,000)
MAX_SHOWN_PROBLEMS = 50


@dataclass(frozen=True)
class Submission:
    where: str  # how a problem names it: "" for the command line's, "FILE:LINE: " for a file's
    body: Any  # the submit body, as read
    unreadable: str | None = None  # why the line could not be read, if it could not


def submit(args: argparse.Namespace) -> int:
    submissions = _submissions(args)
    client = local_client(args)
    problems = check(client, submissions, Contracts())
    if problems:
        for problem in problems[:MAX_SHOWN_PROBLEMS]:
            say(f"xc-runner submit: {problem}", sys.stderr)
        more = len(problems) - MAX_SHOWN_PROBLEMS
        shown = f", {more} more not shown" if more > 0 else ""
        count = f"{len(problems)} problem{'s' if len(problems) > 1 else ''}"
        say(f"xc-runner submit: nothing was queued ({count}{shown})", sys.stderr)
        return EXIT_USAGE
    if args.from_file is not None:
        queue_many(client, submissions)
        return EXIT_OK
    created = client.submit(**_arguments(submissions[0].body))
    if created.get("warning"):
        log.warning("%s", created["warning"])
    say(str(created["id"]))
    if args.wait:
        return ended_code(follow(client, str(created["id"])))
    return EXIT_OK


def _submissions(args: argparse.Namespace) -> list[Submission]:
    """What the command line asks to queue; UsageError for a command line that is wrong."""
    task = [name for name in (args.namespace, args.task) if name is not None]
    if any(text_problem(name) for name in task):
        raise UsageError("the namespace or the task name is not UTF-8 text")
    timeout = timeout_ms(args)
    if args.from_file is None:
        if len(task) < 2:
            raise UsageError("submit needs NAMESPACE and TASK, or --from-file FILE")
        inputs = {**read_input_json(args.input_json), **parse_assignments(args.inputs)}
        return [Submission("", _body(args.namespace, args.task, inputs, timeout))]
    if args.inputs or args.input_json is not None or args.wait:
        raise UsageError(
            "--from-file takes the inputs from its lines: give no NAME=VALUE, --input-json "
            "or --wait with it (`xc-runner watch ID` follows one instance)"
        )
    if len(task) == 1:
        raise UsageError("--from-file: give both NAMESPACE and TASK, or neither")
    return from_file(args.from_file, (args.namespace, args.task) if task else None, timeout)


def from_file(source: str, task: tuple[str, str] | None, timeout: int | None) -> list[Submission]:
    """Each line of the file: a submit body, or, for `task`, that task's inputs object."""
    text = read_text(source, "--from-file", MAX_FROM_FILE_BYTES)
    name = "stdin" if source == "-" else source
    found: list[Submission] = []
    for number, line in json_lines(text):
        where = f"{name}:{number}: "
        try:
            value = strict_json(line, f"{name}:{number}", "body" if task is None else "inputs")
        except UsageError as exc:
            found.append(Submission(where, None, str(exc)))
            continue
        if task is not None:
            if not isinstance(value, dict):
                found.append(Submission(where, None, f"{where}must be a JSON object of inputs"))
                continue
            value = _body(*task, value, timeout)
        elif isinstance(value, dict) and timeout is not None:
            value = {"timeOutInMillis": timeout, **value}
        found.append(Submission(where, value))
    if not found:
        raise UsageError(f"--from-file: {name} holds no instance (one JSON object per line)")
    return found


def _body(namespace: str, name: str, inputs: dict[str, Any], timeout: int | None) -> dict[str, Any]:
    body: dict[str, Any] = {"namespace": namespace, "name": name, "inputData": inputs}
    if timeout is not None:
        body["timeOutInMillis"] = timeout
    return body


def _arguments(body: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "namespace": body["namespace"],
        "name": body["name"],
        "input_data": body.get("inputData"),
        "timeout_ms": body.get("timeOutInMillis"),
    }


def check(
    client: LocalClient, submissions: Sequence[Submission], contracts: Contracts
) -> list[str]:
    """Every problem of the submissions, one line each: their bodies, as the server checks
    a submit, and the inputs of each task the server has published."""
    problems: list[str] = []
    catalogs: dict[str, dict[str, Mapping[str, Any]]] = {}
    for submission in submissions:
        if submission.unreadable is not None:
            problems.append(submission.unreadable)
            continue
        try:
            namespace, name, inputs, _ = bodies.submission(submission.body, contracts)
        except HttpError as exc:
            problems.append(f"{submission.where}{exc.message}")
            continue
        if namespace not in catalogs:
            catalogs[namespace] = {str(d.get("name")): d for d in client.catalog(namespace)}
        definition = catalogs[namespace].get(name)
        if definition is None:
            continue  # queued, with the server's warning
        for problem in input_problems(definition, inputs, contracts):
            problems.append(
                f"{submission.where}{namespace}/{name}: {problem['path']}: {problem['message']}"
            )
    return problems


def queue_many(client: LocalClient, submissions: Sequence[Submission]) -> None:
    """Queue the submissions BATCH at a time, printing their ids as each batch is queued,
    then the server's warnings, once each, and a count."""
    started = time.monotonic()
    warnings: dict[str, None] = {}
    queued = 0
    for start in range(0, len(submissions), BATCH):
        batch = [s.body for s in submissions[start : start + BATCH]]
        try:
            answer = client.submit_many(batch)
            ids = _ids(answer, len(batch))
        except RunnerError:
            if queued:
                say(
                    f"xc-runner submit: {queued} of {len(submissions)} were queued (their ids "
                    f"are above); the others were not, from {submissions[queued].where}",
                    sys.stderr,
                )
            raise
        sys.stdout.write("".join(f"{printable(i)}\n" for i in ids))
        sys.stdout.flush()
        queued += len(ids)
        warnings.update(dict.fromkeys(str(w) for w in answer.get("warnings") or ()))
    for warning in warnings:
        log.warning("%s", warning)
    took_s = time.monotonic() - started
    say(f"xc-runner submit: queued {queued} task instances in {took_s:.1f} s", sys.stderr)


def _ids(answer: Mapping[str, Any], count: int) -> list[str]:
    ids = answer.get("ids")
    if not isinstance(ids, list) or len(ids) != count:
        raise PlatformError("the bulk submit's answer does not list the ids", transient=False)
    return [str(i) for i in ids]

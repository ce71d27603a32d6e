"""The commands that talk to the local server's admin API: status, watch, and what
`submit` (runner.cli.submitting) shares with them."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
import time
from collections.abc import Sequence
from typing import Any

from runner.cli.exits import EXIT_FAILED
from runner.cli.output import say, status_line
from runner.config.local import CLIENT_OPTIONS, local_settings
from runner.config.values import counts
from runner.core.errors import EXIT_OK, UsageError
from runner.core.model import TERMINAL_STATUSES
from runner.core.text import text_problem
from runner.localserver.bodies import MAX_TIMEOUT_MS
from runner.localserver.client import LocalClient

log = logging.getLogger(__name__)

_WAIT_POLL_S = 0.5
_TIMEOUT_MS = counts(1, MAX_TIMEOUT_MS)  # what the server takes: 24.8 days


def local_client(args: argparse.Namespace) -> LocalClient:
    """A client of --server (XC_SCENARIO_SERVER) if set, else of the local server's port."""
    settings = local_settings(args, os.environ, CLIENT_OPTIONS)
    return LocalClient(settings.url, settings.api_key)


def parse_assignments(pairs: Sequence[str]) -> dict[str, str]:
    """`["a=1", "b=x=y"]` -> `{"a": "1", "b": "x=y"}`. A name or value that is not text
    (bytes that are not UTF-8 in the command line, kept by Python as lone surrogates) is
    refused: it could be sent neither to a task nor to a server."""
    values: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise UsageError(f"input {pair!r} is not NAME=VALUE")
        if text_problem(pair):
            raise UsageError(f"input {name!r}: not UTF-8 text")
        values[name] = value
    return values


def timeout_ms(args: argparse.Namespace) -> int | None:
    """--timeout-ms, within what the server takes (2**31 - 1 ms, as Java's int)."""
    if args.timeout_ms is None:
        return None
    try:
        return int(_TIMEOUT_MS(args.timeout_ms))
    except ValueError as exc:
        raise UsageError(f"--timeout-ms: {exc}") from None


def follow(client: LocalClient, instance_id: str) -> dict[str, Any]:
    """Print an instance's statuses as they arrive, until its terminal one, which it returns.
    `instance_id` may be the start of an id, as `watch` prints it, if only one id has it."""
    shown = 0
    while True:
        record = client.instance(instance_id)
        instance_id = str((record.get("instance") or {}).get("id") or instance_id)
        statuses = record["statuses"]
        for status in statuses[shown:]:
            say(status_line(status))
        shown = len(statuses)
        for status in statuses:
            if str(status.get("status")) in TERMINAL_STATUSES:
                return dict(status)
        time.sleep(_WAIT_POLL_S)


def ended_code(terminal: dict[str, Any]) -> int:
    """`submit --wait` and `watch ID`, as `exec`: 1 when the task ended in Error."""
    return EXIT_FAILED if terminal.get("status") == "Error" else EXIT_OK


def status(args: argparse.Namespace) -> int:
    record = local_client(args).instance(instance_id(args))
    instance = record.get("instance") or {}
    say(
        f"{instance.get('catalogTaskDefinitionNamespace')}/"
        f"{instance.get('catalogTaskDefinitionName')} {instance.get('id')}: "
        f"{record.get('state')}" + (" (cancelled)" if record.get("cancelled") else "")
    )
    for item in record["statuses"]:
        say(status_line(item))
    return EXIT_OK


def instance_id(args: argparse.Namespace) -> str:
    """The ID argument: a task instance's id, or its start (the 8 characters `watch` and
    `submit --wait` print), which the server resolves when only one id starts so."""
    if text_problem(args.instance_id):
        raise UsageError("the instance id is not UTF-8 text")
    if not args.instance_id.strip():
        raise UsageError("the instance id is empty")
    return str(args.instance_id.strip())


def watch(args: argparse.Namespace) -> int:
    client = local_client(args)
    if args.instance_id is not None:
        return ended_code(follow(client, instance_id(args)))
    last = skip_to_end(client)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.is_set():
        last = print_new_statuses(client, last, wait_s=1.0)
    return EXIT_OK


def skip_to_end(client: LocalClient) -> int:
    last = 0
    while True:
        page = client.statuses(after=last, wait_s=0)
        if not page["statuses"]:
            return last
        last = int(page["last"])


def print_new_statuses(client: LocalClient, after: int, wait_s: float) -> int:
    page = client.statuses(after=after, wait_s=wait_s)
    for item in page["statuses"]:
        say(status_line(item))
    return int(page["last"])

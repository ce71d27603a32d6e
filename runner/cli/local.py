"""The commands that talk to the local server's admin API: submit, status, watch."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
import time
from collections.abc import Sequence

from runner.cli.output import say, status_line
from runner.config.local import CLIENT_OPTIONS, local_settings
from runner.core.errors import EXIT_OK, ConfigError
from runner.core.model import TERMINAL_STATUSES
from runner.localserver.client import LocalClient

log = logging.getLogger(__name__)

_WAIT_POLL_S = 0.5


def local_client(args: argparse.Namespace) -> LocalClient:
    """A client of XC_SCENARIO_SERVER if set, else of the local server's port."""
    settings = local_settings(args, os.environ, CLIENT_OPTIONS)
    return LocalClient(os.environ.get("XC_SCENARIO_SERVER") or settings.url, settings.api_key)


def parse_assignments(pairs: Sequence[str]) -> dict[str, str]:
    """`["a=1", "b=x=y"]` -> `{"a": "1", "b": "x=y"}`."""
    values: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise ConfigError(f"input {pair!r} is not NAME=VALUE")
        values[name] = value
    return values


def submit(args: argparse.Namespace) -> int:
    client = local_client(args)
    created = client.submit(
        args.namespace, args.task, parse_assignments(args.inputs), timeout_ms=args.timeout_ms
    )
    if created.get("warning"):
        log.warning("%s", created["warning"])
    say(str(created["id"]))
    if args.wait:
        follow(client, str(created["id"]))
    return EXIT_OK


def follow(client: LocalClient, instance_id: str) -> None:
    """Print an instance's statuses as they arrive, until its terminal one."""
    shown = 0
    while True:
        record = client.instance(instance_id)
        statuses = record["statuses"]
        for status in statuses[shown:]:
            say(status_line(status))
        shown = len(statuses)
        if any(str(s.get("status")) in TERMINAL_STATUSES for s in statuses):
            return
        time.sleep(_WAIT_POLL_S)


def status(args: argparse.Namespace) -> int:
    record = local_client(args).instance(args.instance_id)
    instance = record.get("instance") or {}
    say(
        f"{instance.get('catalogTaskDefinitionNamespace')}/"
        f"{instance.get('catalogTaskDefinitionName')} {instance.get('id')}: "
        f"{record.get('state')}" + (" (cancelled)" if record.get("cancelled") else "")
    )
    for item in record["statuses"]:
        say(status_line(item))
    return EXIT_OK


def watch(args: argparse.Namespace) -> int:
    client = local_client(args)
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

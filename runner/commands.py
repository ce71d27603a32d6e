"""What each command of the CLI does, once its arguments are parsed."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from runner.app import Runner, stop_on_signals
from runner.docker_engine import DockerEngine
from runner.errors import EXIT_OK, ConfigError
from runner.localserver import DEFAULT_API_KEY, DEFAULT_PORT, LocalServer
from runner.localserver.client import LocalClient
from runner.model import TERMINAL_STATUSES
from runner.settings import RunnerSettings, runner_settings

log = logging.getLogger(__name__)

_WAIT_POLL_S = 0.5


def say(line: str) -> None:
    """User-facing output of the commands; logs go to stderr."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def run(args: argparse.Namespace) -> int:
    return run_runner(runner_settings(args, os.environ))


def run_runner(settings: RunnerSettings) -> int:
    with published_runner(settings) as runner:
        if runner is not None:
            runner.run()
    return EXIT_OK


@contextmanager
def published_runner(settings: RunnerSettings) -> Iterator[Runner | None]:
    """A runner whose catalog is published, SIGTERM/SIGINT wired to its worker.

    None when a signal came before the catalog could be published; the
    engine connection is closed on the way out.
    """
    log.info("starting: %s", settings.describe())
    engine = DockerEngine(pool_size=2 * settings.concurrency + 4)
    try:
        runner = Runner(settings, engine)
        try:
            with stop_on_signals(runner.worker):
                yield runner if runner.publish(runner.worker.stopping) else None
        finally:
            runner.close()
    finally:
        engine.close()


def local_api_key(args: argparse.Namespace) -> str:
    return getattr(args, "api_key", None) or os.environ.get("XC_SCENARIO_APIKEY") or DEFAULT_API_KEY


def local_db(args: argparse.Namespace) -> Path:
    return getattr(args, "db", None) or Path(os.environ.get("XC_LOCAL_DB", ".local/scenario.db"))


def local_port(args: argparse.Namespace) -> int:
    port = getattr(args, "port", None)
    return int(port if port is not None else os.environ.get("XC_LOCAL_PORT", DEFAULT_PORT))


def serve(args: argparse.Namespace) -> int:
    stop = threading.Event()
    previous = {
        sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)
    }
    try:
        with LocalServer(
            local_db(args), host=args.host, port=local_port(args), api_key=local_api_key(args)
        ):
            stop.wait()  # the server logs where it listens
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
    return EXIT_OK


def local_client(args: argparse.Namespace) -> LocalClient:
    url = os.environ.get("XC_SCENARIO_SERVER") or f"http://127.0.0.1:{local_port(args)}"
    return LocalClient(url, local_api_key(args))


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
        if any(s["status"] in TERMINAL_STATUSES for s in statuses):
            return
        time.sleep(_WAIT_POLL_S)


def status(args: argparse.Namespace) -> int:
    record = local_client(args).instance(args.instance_id)
    instance = record["instance"]
    say(
        f"{instance['catalogTaskDefinitionNamespace']}/{instance['catalogTaskDefinitionName']} "
        f"{instance['id']}: {record['state']}" + (" (cancelled)" if record.get("cancelled") else "")
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


def status_line(item: Mapping[str, Any]) -> str:
    """`12:00:01.234 sample/double 5d1c… Completed {"nbr_out": "42"}`."""
    when = str(item.get("receivedAt", ""))[11:23]
    task = f"{item.get('namespace', '?')}/{item.get('name', '?')}" if "namespace" in item else ""
    parts = [when, task, str(item.get("taskInstanceId", ""))[:8], f"{item['status']:<10}"]
    if item.get("progressPercentage") not in (None, ""):
        parts.append(f"[{item['progressPercentage']}]")
    if item.get("message"):
        parts.append(json.dumps(item["message"], ensure_ascii=False))
    if item.get("outputValues"):
        parts.append(json.dumps(item["outputValues"], ensure_ascii=False, sort_keys=True))
    return " ".join(p for p in parts if p)

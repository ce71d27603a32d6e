"""`make run` without a platform: the local server, the runner, and one of each sample task.

With --await-images, the images the engine does not have yet are served once it has them
(`make run` starts the demo while its set-up still builds them), and their tasks are
submitted then.
"""

from __future__ import annotations

import argparse
import json
import os
import threading
from collections.abc import Mapping
from shlex import quote

from runner.app.lifecycle import open_runner
from runner.app.runner import Runner
from runner.cli.local import print_new_statuses, skip_to_end
from runner.cli.output import say
from runner.config.local import DEMO_OPTIONS, KEY, local_settings
from runner.config.options import API_KEY_FILE
from runner.config.settings import runner_settings
from runner.core.catalog import Catalog, has_default
from runner.core.errors import EXIT_OK
from runner.localserver import LocalServer
from runner.localserver.client import LocalClient
from runner.localserver.retention import Retention

# What the demo submits, for the tasks the given images declare.
Submission = tuple[str, str, Mapping[str, str]]
SUBMISSIONS: tuple[Submission, ...] = (
    ("sample", "simple", {"arg": "hello"}),
    ("sample", "double", {"str_in": "ab", "nbr_in": "21"}),
    ("sample", "reporting_task", {"n": "3", "param": "demo"}),
    ("sample", "error_placeholder", {}),
    ("sample", "zero_division", {}),
    ("textstats", "word_count", {"text": "one two three\nfour"}),
    ("textstats", "slow_upper", {"text": "shout", "seconds": "2"}),
    ("numbers", "count_primes", {"limit": "5000000"}),
    ("greet", "hello", {"who": "demo", "times": "2"}),
)


class _Background(threading.Thread):
    """Runs the runner off the main thread, which keeps the signals and the printing."""

    def __init__(self, runner: Runner) -> None:
        super().__init__(name="runner", daemon=True)
        self._runner = runner
        self.error: Exception | None = None

    def run(self) -> None:
        try:
            self._runner.run()
        except Exception as exc:  # noqa: BLE001 -- handed to the main thread, which re-raises it
            self.error = exc


def run_demo(args: argparse.Namespace) -> int:
    local = local_settings(args, os.environ, (*DEMO_OPTIONS, KEY, API_KEY_FILE))
    retention = Retention(local.keep_ended, local.keep_ended_days)
    server = LocalServer(local.db, port=local.port, api_key=local.api_key, retention=retention)
    with server:
        say(f"cockpit: {server.cockpit_url} (open it in a browser to watch and submit tasks)")
        say(f"local XC Scenario server listening on {server.url} (API key: {local.api_key})")
        # The runner talks to this server with its key, however the key was given.
        environ = {
            "XC_RUNNER_STATE_DIR": str(local.db.parent / "state"),
            **{k: v for k, v in os.environ.items() if k != "XC_SCENARIO_APIKEY_FILE"},
            "XC_SCENARIO_SERVER": server.url,
            "XC_SCENARIO_APIKEY": local.api_key,
        }
        runner_args = argparse.Namespace(**{**vars(args), "api_key": None, "api_key_file": None})
        client = LocalClient(server.url, local.api_key)
        last = skip_to_end(client)
        settings = runner_settings(runner_args, environ)
        with open_runner(settings, await_images=bool(args.await_images)) as runner:
            if runner is not None:
                last = _show(runner, client, server.url, last)
        # Closing the runner delivered what it owed: print the last statuses.
        print_new_statuses(client, last, wait_s=0)
    return EXIT_OK


def _show(runner: Runner, client: LocalClient, url: str, last: int) -> int:
    background = _Background(runner)
    background.start()
    if runner.images.awaited:
        say(f"not built yet: {', '.join(runner.images.awaited)}; their tasks are submitted then")
    unsent = _submit(runner, client, list(SUBMISSIONS))
    for line in unsubmitted(runner.catalog, url):
        say(line)
    say(
        "statuses as they arrive (Ctrl-C to stop; more tasks: "
        f"XC_SCENARIO_SERVER={url} xc-runner submit NAMESPACE TASK NAME=VALUE...):"
    )
    while background.is_alive() and not runner.worker.stopping.is_set():
        if unsent:
            unsent = _submit(runner, client, unsent)
        last = print_new_statuses(client, last, wait_s=0.5)
    say("stopping: letting running tasks finish (Ctrl-C again to stop them now)")
    while background.is_alive():
        last = print_new_statuses(client, last, wait_s=0.2)
    if background.error is not None:
        raise background.error
    return last


def _submit(runner: Runner, client: LocalClient, submissions: list[Submission]) -> list[Submission]:
    """Submit those the runner's catalog routes now; the others are returned while an image
    is awaited (they may be its tasks)."""
    awaiting = bool(runner.images.awaited)  # first: an image joins the catalog, then stops
    left = []  # being awaited
    for submission in submissions:
        namespace, task, inputs = submission
        if runner.catalog.route(namespace, task) is None:
            left.append(submission)
            continue
        created = client.submit(namespace, task, dict(inputs))
        say(f"submitted {namespace}/{task} {json.dumps(dict(inputs))} as {created['id']}")
    return left if awaiting else []


def unsubmitted(catalog: Catalog, url: str) -> list[str]:
    """What the demo leaves to the user: each task of an image it submits nothing to (an
    image of one's own), with a command line that submits it (its required inputs to fill
    in)."""
    known = {(namespace, task) for namespace, task, _ in SUBMISSIONS}
    served = {r.image for r in catalog if (r.namespace, r.name) in known}
    routes = [r for r in catalog if r.image not in served]
    if not routes:
        return []
    which = "these" if len(routes) > 1 else "this one"
    lines = [
        f"the demo submits to the sample images' tasks only: submit {which} yourself, from "
        "another terminal (or with the cockpit's form):"
    ]
    for route in routes:
        required = [
            f"{quote(p['name'])}=..."
            for p in route.definition.get("inputs") or ()
            if not has_default(p)
        ]
        command = ["xc-runner", "submit", quote(route.namespace), quote(route.name), *required]
        lines.append(f"  XC_SCENARIO_SERVER={url} {' '.join(command)}")
    return lines

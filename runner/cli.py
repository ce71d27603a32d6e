"""Command line: `xc-runner run|serve|submit|status|watch|demo` (also `python -m runner`)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from runner import __version__, commands, demo
from runner.errors import (
    EXIT_AUTH,
    EXIT_CONFIG,
    EXIT_ENGINE,
    EXIT_PLATFORM,
    AuthError,
    ConfigError,
    EngineError,
    PlatformError,
    RunnerError,
)
from runner.policy import POLICY_OPTIONS
from runner.settings import RUNNER_OPTIONS, add_options

log = logging.getLogger("runner")

# Most specific first: AuthError is a PlatformError.
_EXIT_CODES: tuple[tuple[type[RunnerError], int], ...] = (
    (AuthError, EXIT_AUTH),
    (ConfigError, EXIT_CONFIG),
    (EngineError, EXIT_ENGINE),
    (PlatformError, EXIT_PLATFORM),
    (RunnerError, EXIT_CONFIG),
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="xc-runner", description=__doc__)
    parser.add_argument("--version", action="version", version=__version__)
    parser.add_argument(
        "--log-level",
        default=os.environ.get("XC_RUNNER_LOG_LEVEL"),
        help="DEBUG, INFO, WARNING or ERROR [env XC_RUNNER_LOG_LEVEL]",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run tasks of the given images for a platform")
    run.add_argument("images", nargs="*", help="task images [env XC_RUNNER_IMAGES]")
    add_options(run, RUNNER_OPTIONS + POLICY_OPTIONS)

    demo = commands.add_parser("demo", help="local server + runner + one of each sample task")
    demo.add_argument("images", nargs="*", help="task images [env XC_RUNNER_IMAGES]")
    demo.add_argument("--db", type=Path, default=None, help="the local server's SQLite file")
    demo.add_argument("--port", type=int, default=None, help="the local server's port")
    add_options(demo, RUNNER_OPTIONS + POLICY_OPTIONS)

    serve = commands.add_parser("serve", help="run the local Scenario-compatible server")
    serve.add_argument("--host", default=os.environ.get("XC_LOCAL_HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=None, help="[env XC_LOCAL_PORT]")
    serve.add_argument("--db", type=Path, default=None, help="[env XC_LOCAL_DB]")
    serve.add_argument("--api-key", default=None, help="[env XC_SCENARIO_APIKEY]")

    submit = commands.add_parser("submit", help="queue a task instance on the local server")
    submit.add_argument("namespace")
    submit.add_argument("task")
    submit.add_argument("inputs", nargs="*", metavar="NAME=VALUE")
    submit.add_argument("--timeout-ms", type=int, default=None)
    submit.add_argument("--wait", action="store_true", help="print its statuses until it ends")

    status = commands.add_parser("status", help="a task instance's state and statuses")
    status.add_argument("instance_id")

    commands.add_parser("watch", help="print statuses as the local server receives them")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    level = (args.log_level or ("WARNING" if args.command == "demo" else "INFO")).upper()
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        return _dispatch(args)
    except RunnerError as exc:
        hint = ": check XC_SCENARIO_APIKEY" if isinstance(exc, AuthError) else ""
        log.error("%s%s", exc, hint)
        return next(code for kind, code in _EXIT_CODES if isinstance(exc, kind))


def _dispatch(args: argparse.Namespace) -> int:
    handlers = {
        "run": commands.run,
        "demo": demo.run_demo,
        "serve": commands.serve,
        "submit": commands.submit,
        "status": commands.status,
        "watch": commands.watch,
    }
    return handlers[args.command](args)

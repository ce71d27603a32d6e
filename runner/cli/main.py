"""Command line: `xc-runner run|demo|serve|submit|status|watch` (also `python -m runner`)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from runner import __version__
from runner.cli import commands, demo, local
from runner.cli.output import LogFormatter
from runner.config.local import CLIENT_OPTIONS, DEMO_OPTIONS, SERVE_OPTIONS
from runner.config.options import Option, add_options, resolve
from runner.config.policy import POLICY_OPTIONS
from runner.config.settings import RUNNER_OPTIONS
from runner.core.errors import (
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

log = logging.getLogger("runner")

# Most specific first: AuthError is a PlatformError.
_EXIT_CODES: tuple[tuple[type[RunnerError], int], ...] = (
    (AuthError, EXIT_AUTH),
    (ConfigError, EXIT_CONFIG),
    (EngineError, EXIT_ENGINE),
    (PlatformError, EXIT_PLATFORM),
    (RunnerError, EXIT_CONFIG),
)
_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def parse_log_level(text: str) -> str:
    level = text.strip().upper()
    if level not in _LEVELS:
        raise ValueError(f"not a log level: {text!r} (use {', '.join(_LEVELS)})")
    return level


LOG_LEVEL = Option("log_level", "--log-level", "XC_RUNNER_LOG_LEVEL", parse_log_level, "log level")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="xc-runner", description=__doc__)
    parser.add_argument("--version", action="version", version=__version__)
    add_options(parser, (LOG_LEVEL,))
    commands_ = parser.add_subparsers(dest="command", required=True)

    run = commands_.add_parser("run", help="run tasks of the given images for a platform")
    run.add_argument("images", nargs="*", help="task images [env XC_RUNNER_IMAGES]")
    add_options(run, RUNNER_OPTIONS + POLICY_OPTIONS)

    demo_ = commands_.add_parser("demo", help="local server + runner + one of each sample task")
    demo_.add_argument("images", nargs="*", help="task images [env XC_RUNNER_IMAGES]")
    add_options(demo_, DEMO_OPTIONS + RUNNER_OPTIONS + POLICY_OPTIONS)

    serve = commands_.add_parser("serve", help="run the local Scenario-compatible server")
    add_options(serve, SERVE_OPTIONS)

    submit = commands_.add_parser("submit", help="queue a task instance on the local server")
    submit.add_argument("namespace")
    submit.add_argument("task")
    submit.add_argument("inputs", nargs="*", metavar="NAME=VALUE")
    submit.add_argument("--timeout-ms", type=int, default=None)
    submit.add_argument("--wait", action="store_true", help="print its statuses until it ends")
    add_options(submit, CLIENT_OPTIONS)

    status = commands_.add_parser("status", help="a task instance's state and statuses")
    status.add_argument("instance_id")
    add_options(status, CLIENT_OPTIONS)

    watch = commands_.add_parser("watch", help="print statuses as the local server receives them")
    add_options(watch, CLIENT_OPTIONS)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        level = resolve((LOG_LEVEL,), args, os.environ).get("log_level")
    except ConfigError as exc:
        sys.stderr.write(f"xc-runner: {exc}\n")
        return EXIT_CONFIG
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(LogFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(
        level=level or ("WARNING" if args.command == "demo" else "INFO"), handlers=[handler]
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
        "submit": local.submit,
        "status": local.status,
        "watch": local.watch,
    }
    return handlers[args.command](args)

"""Command line: `xc-runner run|demo|serve|submit|status|watch|exec|check` (also
`python -m runner`)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from runner import __version__
from runner.cli import check, commands, demo, execute, local, scaffold
from runner.cli.scaffold import LANGUAGES
from runner.config.imageconfig import IMAGE_OPTIONS
from runner.config.local import CLIENT_OPTIONS, DEMO_OPTIONS, SERVE_OPTIONS
from runner.config.oneshot import ONESHOT_OPTIONS
from runner.config.options import Option, add_options, resolve
from runner.config.policy import POLICY_OPTIONS
from runner.config.settings import RUNNER_OPTIONS
from runner.core.errors import (
    EXIT_AUTH,
    EXIT_CONFIG,
    EXIT_ENGINE,
    EXIT_PLATFORM,
    EXIT_USAGE,
    AuthError,
    ConfigError,
    EngineError,
    PlatformError,
    RunnerError,
    UsageError,
)
from runner.ops.logs import LOG_FORMATS, configure

log = logging.getLogger("runner")

# Most specific first: AuthError is a PlatformError.
_EXIT_CODES: tuple[tuple[type[RunnerError], int], ...] = (
    (AuthError, EXIT_AUTH),
    (UsageError, EXIT_USAGE),
    (ConfigError, EXIT_CONFIG),
    (EngineError, EXIT_ENGINE),
    (PlatformError, EXIT_PLATFORM),
    (RunnerError, EXIT_CONFIG),
)
_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
# Commands whose output is for a person or a CI log: the runner's INFO lines would drown
# it, and the task author's commands log in lines that read like their own output.
_QUIET_COMMANDS = ("demo", "exec", "check")
_LOG_FORMATS = {command: f"xc-runner {command}: %(message)s" for command in ("exec", "check")}


def parse_log_level(text: str) -> str:
    level = text.strip().upper()
    if level not in _LEVELS:
        raise ValueError(f"not a log level: {text!r} (use {', '.join(_LEVELS)})")
    return level


def parse_log_format(text: str) -> str:
    log_format = text.strip().lower()
    if log_format not in LOG_FORMATS:
        raise ValueError(f"not a log format: {text!r} (use {' or '.join(LOG_FORMATS)})")
    return log_format


LOG_LEVEL = Option("log_level", "--log-level", "XC_RUNNER_LOG_LEVEL", parse_log_level, "log level")
LOG_FORMAT = Option(
    "log_format",
    "--log-format",
    "XC_RUNNER_LOG_FORMAT",
    parse_log_format,
    "log line format: text, or json (one object per line)",
)
LOG_OPTIONS = (LOG_LEVEL, LOG_FORMAT)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="xc-runner", description=__doc__)
    parser.add_argument("--version", action="version", version=__version__)
    add_options(parser, LOG_OPTIONS)
    commands_ = parser.add_subparsers(dest="command", required=True)

    run = commands_.add_parser("run", help="run tasks of the given images for a platform")
    run.add_argument("images", nargs="*", help="task images [env XC_RUNNER_IMAGES]")
    add_options(run, RUNNER_OPTIONS + POLICY_OPTIONS + IMAGE_OPTIONS)

    demo_ = commands_.add_parser("demo", help="local server + runner + one of each sample task")
    demo_.add_argument("images", nargs="*", help="task images [env XC_RUNNER_IMAGES]")
    add_options(demo_, DEMO_OPTIONS + RUNNER_OPTIONS + POLICY_OPTIONS + IMAGE_OPTIONS)

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
    _author_commands(commands_)
    return parser


def _author_commands(commands_: Any) -> None:
    """The task author's loop: `exec` runs one task, `check` checks whole images."""
    exec_ = commands_.add_parser(
        "exec",
        help="run one task of an image with no platform (exit 0 Completed, 1 Error, 2 bad usage)",
    )
    exec_.add_argument("image")
    exec_.add_argument("task", metavar="NAMESPACE/TASK")
    exec_.add_argument("inputs", nargs="*", metavar="NAME=VALUE")
    exec_.add_argument(
        "--input-json",
        metavar="FILE",
        help="a JSON object of inputs by name, from FILE or - (stdin); NAME=VALUE pairs win",
    )
    add_options(exec_, ONESHOT_OPTIONS + POLICY_OPTIONS)
    check_ = commands_.add_parser(
        "check", help="check task images: catalog, examples, protocol (exit 0 all passed)"
    )
    check_.add_argument("images", nargs="+", metavar="IMAGE")
    add_options(check_, ONESHOT_OPTIONS + POLICY_OPTIONS)
    new = commands_.add_parser(
        "new", help="create task_images/NAME/ for a new task image: Dockerfile, code, catalog"
    )
    new.add_argument("language", help=f"one of {', '.join(LANGUAGES)}")
    new.add_argument("name", help="the folder, the image (xc-tasks/NAME) and the namespace")
    new.add_argument(
        "--dir", type=Path, default=Path("task_images"), help="where (default: task_images)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        logs: dict[str, Any] = resolve(LOG_OPTIONS, args, os.environ)
    except ConfigError as exc:
        sys.stderr.write(f"xc-runner: {exc}\n")
        return EXIT_CONFIG
    configure(
        logs.get("log_level") or ("WARNING" if args.command in _QUIET_COMMANDS else "INFO"),
        logs.get("log_format", "text"),
        _LOG_FORMATS.get(args.command),
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
        "exec": execute.exec_task,
        "check": check.check,
        "new": scaffold.new,
    }
    return handlers[args.command](args)

"""`xc-runner COMMAND` (also `python -m runner`): the command line's entry point.

Each error the runner expects becomes one line on stderr and its exit code
(runner.cli.exits); whatever slips through is caught at the top (one line, exit 70,
never a key), as a net under the fixes where errors arise.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from runner.cli import (
    build,
    check,
    commands,
    completion,
    demo,
    execute,
    local,
    parser,
    scaffold,
    submitting,
)
from runner.cli.logopts import LOG_OPTIONS
from runner.cli.output import OutputClosed
from runner.config.local import KEY
from runner.config.options import API_KEY_FILE, resolve
from runner.config.settings import RUNNER_OPTIONS
from runner.core.errors import (
    EXIT_AUTH,
    EXIT_CONFIG,
    EXIT_ENGINE,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OUTPUT_CLOSED,
    EXIT_PLATFORM,
    EXIT_USAGE,
    AuthError,
    ConfigError,
    EngineError,
    PlatformError,
    RunnerError,
    SettingError,
    UsageError,
)
from runner.ops.logs import configure, redact

log = logging.getLogger("runner")

# Most specific first: AuthError is a PlatformError, SettingError a ConfigError.
_EXIT_CODES: tuple[tuple[type[RunnerError], int], ...] = (
    (AuthError, EXIT_AUTH),
    (UsageError, EXIT_USAGE),
    (SettingError, EXIT_USAGE),
    (ConfigError, EXIT_CONFIG),
    (EngineError, EXIT_ENGINE),
    (PlatformError, EXIT_PLATFORM),
    (RunnerError, EXIT_CONFIG),
)
# Commands whose output is for a person or a CI log: the runner's INFO lines would drown
# it, and the task author's commands log in lines that read like their own output.
_QUIET_COMMANDS = ("demo", "exec", "check", "build", "completion")
_LOG_FORMATS = {
    command: f"xc-runner {command}: %(message)s" for command in ("exec", "check", "build")
}
_SWITCHES = tuple(option.flag for option in RUNNER_OPTIONS if option.switch)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(sys.argv[1:] if argv is None else argv)
    except (OutputClosed, BrokenPipeError):
        # Whoever read stdout has gone (`| head -1`): stop quietly, as `yes | head` does.
        _drop_stdout()
        return EXIT_OUTPUT_CLOSED
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except Exception as exc:  # the net: a bug, told in one line, with no key in it
        where = traceback.extract_tb(exc.__traceback__)[-1]
        sys.stderr.write(
            f"xc-runner: internal error: {type(exc).__name__} at {Path(where.filename).name}:"
            f"{where.lineno} (a bug: please report it; --log-level DEBUG shows where)\n"
        )
        log.debug("the internal error", exc_info=True)  # keys are redacted from log lines
        return EXIT_INTERNAL


def _main(argv: Sequence[str]) -> int:
    args = parser.parser().parse_args(parser.old_switch_values(argv, _SWITCHES))
    _redact_keys(args)
    try:
        logs: dict[str, Any] = resolve(LOG_OPTIONS, args, os.environ)
    except SettingError as exc:
        sys.stderr.write(f"xc-runner: {exc}\n")
        return EXIT_USAGE
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


def _redact_keys(args: argparse.Namespace) -> None:
    """No log line, traceback included, may show an API key however it was given."""
    for option in (KEY, API_KEY_FILE):
        try:
            key = resolve((option,), args, os.environ).get(option.dest)
        except SettingError:  # the command says so, naming the setting
            continue
        if key:
            redact(key)


def _drop_stdout() -> None:
    """stdout to /dev/null, so that the interpreter's last flush has nowhere to fail."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no stdout at all
        pass


def _dispatch(args: argparse.Namespace) -> int:
    handlers = {
        "run": commands.run,
        "demo": demo.run_demo,
        "serve": commands.serve,
        "submit": submitting.submit,
        "status": local.status,
        "watch": local.watch,
        "exec": execute.exec_task,
        "check": check.check,
        "new": scaffold.new,
        "build": build.build_images,
        "completion": completion.print_script,
    }
    return handlers[args.command](args)

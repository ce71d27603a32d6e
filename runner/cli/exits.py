"""The exit codes, one rule for every command, and how each command's help lists them.

2 is a bad command line: an unknown command or option, a missing or extra argument, or a
bad value of any setting, however it was given (a flag, an environment variable, the
configuration file); nothing was started. 3 is a start-up that the world refuses:
well-formed settings naming an image that does not exist, a catalog that is not valid, a
secret that cannot be read, an address in use.
"""

from __future__ import annotations

import textwrap

from runner.core.errors import (
    EXIT_AUTH,
    EXIT_CONFIG,
    EXIT_ENGINE,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_OUTPUT_CLOSED,
    EXIT_PLATFORM,
    EXIT_USAGE,
)

EXIT_FAILED = 1  # exec, submit --wait, watch ID: the task ended in Error; check: an image failed

MEANINGS = {
    EXIT_OK: "done (run, demo, serve: stopped normally)",
    EXIT_FAILED: "exec, submit --wait, watch ID: the task ended in Error; check: an image did "
    "not pass",
    EXIT_USAGE: "bad command line: an unknown option, a missing argument, or a bad value "
    "of a flag, an environment variable or the configuration file; nothing was started",
    EXIT_CONFIG: "refused at start-up: an image missing or not pullable, its catalog not "
    "valid, a secret unreadable, an address in use",
    EXIT_AUTH: "the server refused the API key (401/403)",
    EXIT_ENGINE: "the Docker engine cannot be reached",
    EXIT_PLATFORM: "the server cannot be reached, or refused the request (run: the catalog)",
    EXIT_INTERNAL: "internal error (a bug: please report it)",
    EXIT_INTERRUPTED: "stopped by SIGINT or SIGTERM (exec, check, submit --wait, watch ID)",
    EXIT_OUTPUT_CLOSED: "the reader of the output went away (`xc-runner ... | head -1`)",
}
_ALWAYS = (EXIT_OK, EXIT_USAGE, EXIT_INTERNAL)
_CODES = {
    "xc-runner": tuple(MEANINGS),
    "run": (EXIT_CONFIG, EXIT_AUTH, EXIT_ENGINE, EXIT_PLATFORM),
    "demo": (EXIT_CONFIG, EXIT_ENGINE),
    "serve": (EXIT_CONFIG,),
    "submit": (EXIT_FAILED, EXIT_AUTH, EXIT_PLATFORM, EXIT_INTERRUPTED, EXIT_OUTPUT_CLOSED),
    "status": (EXIT_AUTH, EXIT_PLATFORM, EXIT_OUTPUT_CLOSED),
    "watch": (EXIT_FAILED, EXIT_AUTH, EXIT_PLATFORM, EXIT_INTERRUPTED, EXIT_OUTPUT_CLOSED),
    "exec": (EXIT_FAILED, EXIT_CONFIG, EXIT_ENGINE, EXIT_INTERRUPTED, EXIT_OUTPUT_CLOSED),
    "check": (EXIT_FAILED, EXIT_CONFIG, EXIT_ENGINE, EXIT_INTERRUPTED, EXIT_OUTPUT_CLOSED),
}


def epilog(command: str) -> str:
    """The exit codes a command can end with, one a line, for its --help."""
    codes = sorted(set(_ALWAYS) | set(_CODES.get(command, ())))
    lines = ["exit codes:"]
    for code in codes:
        lines += textwrap.wrap(
            MEANINGS[code], width=88, initial_indent=f"  {code:>3}  ", subsequent_indent=" " * 7
        )
    return "\n".join(lines)

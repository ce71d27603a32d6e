"""The command line's grammar: commands, their arguments and options, and their help
(defaults, bounds and exit codes).

Options may come anywhere after the command, before or after its arguments, and the
global options (`--log-level`, `--log-format`) before or after the command, as kubectl
and docker allow. A mistake in the command line is one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from runner import __version__, sdk
from runner.cli.build import MAX_JOBS, jobs
from runner.cli.exits import epilog
from runner.cli.logopts import LOG_OPTIONS
from runner.cli.scaffold import LANGUAGES
from runner.config.defaults import local_defaults, policy_defaults, runner_defaults
from runner.config.imageconfig import IMAGE_OPTIONS
from runner.config.local import CLIENT_OPTIONS, DEMO_OPTIONS, SERVE_OPTIONS
from runner.config.oneshot import ONESHOT_OPTIONS
from runner.config.options import add_options
from runner.config.policy import POLICY_OPTIONS
from runner.config.settings import RUNNER_OPTIONS
from runner.core.building import BASES
from runner.core.errors import EXIT_USAGE

SHELLS = ("bash", "zsh")
DESCRIPTION = """\
The XC Scenario container runner: runs each task of the XC Scenario platform as a
short-lived, isolated container.

  run       the runner, for a platform          demo    the local server, the runner
  serve     the local Scenario-compatible server          and one of each sample task
  submit, status, watch: the local server's admin API
  exec      one task of an image, no platform    check   whether task images are right
  new       a new task image from a template     build   task images from their folders
  completion  a shell completion script

Every option has an environment variable (shown in `xc-runner COMMAND --help`); a flag
beats its variable, which beats the default."""


INPUT_JSON_HELP = (
    "a JSON object of inputs by name: the text itself if it starts with {, else from FILE "
    "or - (stdin); NAME=VALUE pairs win"
)
ID_HELP = "a task instance's id, or its start (as watch prints it) if only one id has it"


class Parser(argparse.ArgumentParser):
    """argparse, with options and arguments in any order, and errors in one line."""

    _intermixing = False

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: Any = None
    ) -> tuple[argparse.Namespace, list[str]]:
        # A command's own parser reads its arguments intermixed with its options
        # (`exec IMG ns/task --input-json f a=1`); the top-level one cannot: it has commands.
        if self._intermixing or self._subparsers is not None:
            return super().parse_known_args(args, namespace)
        self._intermixing = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._intermixing = False

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")


class _Version(argparse.Action):
    """--version, with the SDKs' version read only when asked (a runner without its SDKs,
    such as an image built without them, still starts and says so here)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> None:
        try:
            sdks = f"task SDKs {sdk.version()}"
        except OSError:
            sdks = "task SDKs not installed"
        sys.stdout.write(f"{__version__} ({sdks}, protocol {sdk.PROTOCOL})\n")
        parser.exit()


def parser() -> Parser:
    top = Parser(
        prog="xc-runner",
        description=DESCRIPTION,
        epilog=epilog("xc-runner"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    top.add_argument("--version", action=_Version, help="print the version and exit")
    _add_global(top)
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _serving_commands(commands)
    _local_commands(commands)
    _author_commands(commands)
    completion = _command(commands, "completion", "print a shell completion script")
    completion.add_argument("shell", choices=SHELLS, help="bash or zsh")
    return top


def _command(commands: Any, name: str, summary: str, details: str = "") -> Parser:
    command: Parser = commands.add_parser(
        name,
        help=summary,
        description=f"{summary[0].upper()}{summary[1:]}.{details}",
        epilog=epilog(name),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_global(command)
    return command


def _add_global(parser: argparse.ArgumentParser) -> None:
    """--log-level and --log-format, on the top-level parser and on every command's."""
    for option in LOG_OPTIONS:
        parser.add_argument(
            option.flag,
            dest=option.dest,
            default=argparse.SUPPRESS,
            help=f"{option.help} [env {option.env}]",
        )


def _serving_commands(commands: Any) -> None:
    images_help = "task images [env XC_RUNNER_IMAGES, space or comma separated]"
    runner_options = RUNNER_OPTIONS + POLICY_OPTIONS + IMAGE_OPTIONS
    run = _command(commands, "run", "run tasks of the given images for a platform")
    run.add_argument("images", nargs="*", metavar="IMAGE", help=images_help)
    add_options(run, runner_options, runner_defaults())
    demo = _command(
        commands,
        "demo",
        "local server + runner + one of each sample task",
        " What `make run` runs without a platform.",
    )
    demo.add_argument("images", nargs="*", metavar="IMAGE", help=images_help)
    demo.add_argument(
        "--await-images",
        action="store_true",
        help="serve the images the engine has, and each other one once it has it, instead of "
        "refusing to start (what `make run` does while it builds them)",
    )
    add_options(demo, DEMO_OPTIONS + runner_options, {**runner_defaults(), **local_defaults()})
    serve = _command(commands, "serve", "run the local Scenario-compatible server")
    add_options(serve, SERVE_OPTIONS, local_defaults())


def _local_commands(commands: Any) -> None:
    where = (
        " It talks to --server (XC_SCENARIO_SERVER) if set, else to the local server on "
        "127.0.0.1:--port (XC_LOCAL_PORT)."
    )
    _submit_command(commands, where)
    status = _command(commands, "status", "a task instance's state and statuses", where)
    status.add_argument("instance_id", metavar="ID", help=ID_HELP)
    add_options(status, CLIENT_OPTIONS, local_defaults(client=True))
    watch = _command(
        commands,
        "watch",
        "print statuses as the server receives them",
        where + " With ID, that instance's statuses until it ends (exit 1 if in Error).",
    )
    watch.add_argument("instance_id", nargs="?", metavar="ID", help=ID_HELP)
    add_options(watch, CLIENT_OPTIONS, local_defaults(client=True))


def _submit_command(commands: Any, where: str) -> None:
    submit = _command(
        commands,
        "submit",
        "queue task instances on the local server",
        where + " Inputs are checked against the published catalog first: a problem is one "
        "line on stderr, exit 2, and nothing is queued.",
    )
    submit.add_argument("namespace", nargs="?", metavar="NAMESPACE", help="the task's namespace")
    submit.add_argument("task", nargs="?", metavar="TASK", help="the task's name")
    submit.add_argument(
        "inputs", nargs="*", metavar="NAME=VALUE", help="an input of the task (a string)"
    )
    submit.add_argument("--input-json", metavar="JSON|FILE", help=INPUT_JSON_HELP)
    submit.add_argument(
        "--from-file",
        metavar="FILE",
        help="many instances, from FILE or - (stdin): JSON lines, each a submit body "
        '({"namespace", "name", "inputData", "timeOutInMillis"}), or with NAMESPACE TASK, '
        "each that task's inputs object; all checked before any is queued",
    )
    submit.add_argument(
        "--timeout-ms",
        metavar="MS",
        help="the instance's time limit, in milliseconds (1 to 2147483647; default: the "
        "catalog's, else the runner's --task-timeout-s)",
    )
    submit.add_argument(
        "--wait",
        action="store_true",
        help="print its statuses until it ends (exit 1 if it ends in Error)",
    )
    add_options(submit, CLIENT_OPTIONS, local_defaults(client=True))


def _author_commands(commands: Any) -> None:
    """The task author's loop: `exec` runs one task, `check` checks whole images, `new`
    starts an image."""
    oneshot = ONESHOT_OPTIONS + POLICY_OPTIONS
    defaults = {**runner_defaults(), **policy_defaults()}
    exec_ = _command(commands, "exec", "run one task of an image, with no platform")
    exec_.add_argument("image", metavar="IMAGE", help="a task image the engine has")
    exec_.add_argument("task", metavar="NAMESPACE/TASK", help="the task to run")
    exec_.add_argument("inputs", nargs="*", metavar="NAME=VALUE", help="an input (a string)")
    exec_.add_argument("--input-json", metavar="JSON|FILE", help=INPUT_JSON_HELP)
    add_options(exec_, oneshot, defaults)
    check = _command(commands, "check", "check task images: catalog, examples, protocol")
    check.add_argument("images", nargs="+", metavar="IMAGE", help="task images the engine has")
    add_options(check, oneshot, defaults)
    _build_command(commands, oneshot, defaults)
    new = _command(
        commands,
        "new",
        "create NAME/, a task image's folder: Dockerfile, code, unit test, catalog, SDK",
    )
    new.add_argument("language", help=f"one of {', '.join(LANGUAGES)}")
    new.add_argument("name", help="the folder, the image (xc-tasks/NAME) and the namespace")
    new.add_argument(
        "--dir", type=Path, default=Path(), help="where (default: the current folder)"
    )


def _build_command(commands: Any, oneshot: Any, defaults: dict[str, Any]) -> None:
    build = _command(
        commands,
        "build",
        "build a task image from each folder, labelled with its catalog and examples",
        " Each folder is checked first (Dockerfile, catalog.json, examples.json); the image"
        " is xc-tasks/FOLDER:latest, built from the engine's local base images.",
    )
    build.add_argument(
        "folders", nargs="*", type=Path, metavar="DIR", help="task image folders (default: .)"
    )
    build.add_argument(
        "--tag", help="the image's name (one folder only; default: xc-tasks/DIR:latest)"
    )
    bases = "local: the engine's xc-base/ images (`make base-images`); registry: the Dockerfile's"
    build.add_argument(
        "--base", choices=BASES, default="local", help=f"{bases} (default: local)"
    )
    build.add_argument(
        "--build-arg",
        action="append",
        metavar="NAME=VALUE",
        help="a build argument the Dockerfile declares (PYTHON_BASE=python:3.12-slim); "
        "wins over --base",
    )
    build.add_argument(
        "--context",
        type=Path,
        help="the build context, a folder holding the DIRs (default: each DIR itself)",
    )
    build.add_argument(
        "--jobs", type=jobs, default=1, help=f"images built at once (1 to {MAX_JOBS}; default: 1)"
    )
    build.add_argument("--no-cache", action="store_true", help="build every step again")
    build.add_argument(
        "--check", action="store_true", help="then check the images as `xc-runner check` does"
    )
    add_options(build, oneshot, defaults)


_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})


def old_switch_values(argv: Sequence[str], switches: Sequence[str]) -> list[str]:
    """Switches that once took a value (`--remove-previous-tasks true`, or `=false`) are
    read as the switch or its `--no-` form, with a warning; other values are left for the
    parser to refuse."""
    out: list[str] = []
    rest = list(argv)
    while rest:
        arg = rest.pop(0)
        flag, equals, value = arg.partition("=")
        if flag in switches and not equals and rest and rest[0].lower() in _TRUE | _FALSE:
            equals, value = "=", rest.pop(0)
        if flag in switches and equals and value.lower() in _TRUE | _FALSE:
            arg = flag if value.lower() in _TRUE else f"--no-{flag.removeprefix('--')}"
            sys.stderr.write(f"xc-runner: {flag} takes no value now: read as {arg}\n")
        out.append(arg)
    return out

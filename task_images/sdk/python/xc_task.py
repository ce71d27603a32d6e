"""xc_task: run a module of Python task functions as an XC Scenario task image.

A task module defines functions ``fn(task, **inputs) -> dict`` and
``task_definitions()``, returning its catalog (a list of CatalogTaskDefinition
dicts), exactly like the reference worker's sample module: ``task`` is the
reference worker's notifier (``task.notify(status, msg, outputs,
progressPercentage)``), with the API the Go, Node.js and shell SDKs share:
``task.progress(fraction, message)``, ``task.result(outputs)``,
``task.error(message, level)``, ``task.inputs`` and the checked accessors
``task.string/integer/number/boolean(name)``, and ``task.secret(name)``: the
secret the runner gives the image, from ``/run/secrets/NAME``. A function that
takes only one parameter, ``fn(task)``, reads its inputs that way. Raising
``TaskError(message, level)`` fails the task with that message as is; any
other exception fails it with ``<Type>: <message>``. Then:

    python3 -m xc_task MODULE --catalog   # print the catalog as JSON (image build time)
    python3 -m xc_task MODULE < envelope  # run the task the stdin envelope names

The envelope is one JSON object, ``{"protocol": 1, "task": NAME, "inputs": {...}}``.
Protocol messages go to stdout, one compact JSON object per line; anything the
task prints goes to stderr, as log output. Exit status: 0 once the task ran (its
outcome is in the messages), 2 when it could not start (bad envelope, module or
task name; an Error message says why). Standard library only, Python 3.9+.
"""

from __future__ import annotations

import importlib
import inspect
import json
import math
import os
import signal
import sys
import traceback
from collections.abc import Callable
from typing import IO, Any, NoReturn

from xc_task_inputs import Inputs, TaskError, check_level

PROTOCOL_VERSION = 1
SDK_VERSION = "1.1.0"  # task_images/sdk/VERSION of the runner
MAX_ENVELOPE_BYTES = 64 * 1024 * 1024

EXIT_OK = 0  # the task ran and a terminal message was written (even an Error)
EXIT_FAILED = 1  # --catalog failed
EXIT_SETUP = 2  # the task could not start (bad envelope, module or task name): Error written
EXIT_USAGE = 2  # bad command line

USAGE = "usage: python3 -m xc_task MODULE [--catalog]  (task envelope on stdin)"


def _warn(text: str) -> None:
    sys.stderr.write(f"xc_task: {text}\n")
    sys.stderr.flush()


class Channel:
    """The protocol's stdout: one compact JSON message per line, flushed at once."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream

    @classmethod
    def take_stdout(cls) -> Channel:
        """Keep a private copy of fd 1 for messages, then point fd 1 and sys.stdout at stderr.

        So print(), logging to stdout, and even child processes writing to fd 1
        become log output and can never corrupt the protocol.
        """
        sys.stdout.flush()
        private = os.fdopen(os.dup(1), "wb")
        os.dup2(2, 1)
        sys.stdout = sys.stderr
        return cls(private)

    def send(self, message: Any) -> None:
        line = json.dumps(message, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        self._stream.write(line.encode("utf-8") + b"\n")
        self._stream.flush()


def _check_progress(value: Any) -> None:
    """A fraction as a number or a numeric string; anything else fails at the call site."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(
            f"progressPercentage must be a number or a numeric string, not {type(value).__name__}"
        )
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"progressPercentage {value!r} is not a number") from None
    if not math.isfinite(number):
        raise ValueError(f"progressPercentage {value!r} is not finite")


class Notifier(Inputs):
    """What a task function gets first: the reference worker's notifier, over stdout,
    plus the envelope's inputs and the API the other languages' SDKs share."""

    def __init__(self, channel: Channel, envelope: dict[str, Any] | None = None) -> None:
        envelope = envelope or {}
        super().__init__(envelope.get("inputs") or {})
        self._channel = channel
        self.finished = False
        self.namespace: str | None = envelope.get("namespace")
        self.name: str | None = envelope.get("task")
        self.instance_id: str | int | None = envelope.get("taskInstanceId")

    def notify(
        self,
        status: str,
        msg: Any = None,
        outputs: dict[str, Any] | None = None,
        progressPercentage: Any = None,
        *,
        errorLevel: str | None = None,
    ) -> None:
        """Report InProgress (with an optional progress), Error, or Completed (with outputs)."""
        message = None if msg is None else str(msg)
        if status == "InProgress":
            if progressPercentage is not None:
                _check_progress(progressPercentage)
            self._send(
                {
                    "type": "notify",
                    "status": "InProgress",
                    "message": message,
                    "progressPercentage": progressPercentage,
                },
                terminal=False,
            )
        elif status == "Error":
            self.error(message or "", errorLevel)
        elif status == "Completed":
            self.result(outputs, message)
        else:
            raise ValueError(f"unknown status {status!r}: expected InProgress, Error or Completed")

    def progress(self, fraction: float, message: str | None = None) -> None:
        """Report InProgress: fraction is the part done, a finite number from 0 to 1."""
        if (
            isinstance(fraction, bool)
            or not isinstance(fraction, (int, float))
            or not 0 <= fraction <= 1
        ):
            raise ValueError(f"progress fraction {fraction!r} is not a finite number in [0, 1]")
        _check_text("progress message", message)
        self._send(
            {
                "type": "notify",
                "status": "InProgress",
                "message": message,
                "progressPercentage": fraction,
            },
            terminal=False,
        )

    def error(self, message: str, level: str | None = None) -> None:
        """End the task in Error; level is None, Minor, Critical, Fatal, or None for none."""
        _check_text("error message", message)
        check_level(level)
        self._send(
            {"type": "notify", "status": "Error", "message": message, "errorLevel": level},
            terminal=True,
        )

    def result(self, outputs: dict[str, Any] | None, message: str | None = None) -> None:
        if outputs is not None and not isinstance(outputs, dict):
            self.error(f"task outputs are a {type(outputs).__name__}, expected a dict")
            return
        message_out = {"type": "result", "outputs": outputs or {}, "message": message}
        try:
            json.dumps(message_out, allow_nan=False)
        except (TypeError, ValueError) as exc:
            self.error(f"task outputs are not JSON: {exc}")
            return
        self._send(message_out, terminal=True)

    def _send(self, message: dict[str, Any], *, terminal: bool) -> None:
        if self.finished:
            _warn(
                f"dropped a {message.get('status') or message['type']} message sent "
                "after the task's terminal message"
            )
            return
        self.finished = terminal
        self._channel.send({key: value for key, value in message.items() if value is not None})


def _check_text(what: str, text: Any) -> None:
    if text is not None and not isinstance(text, str):
        raise TypeError(f"{what} must be a str, not {type(text).__name__}")


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def read_envelope(stream: IO[bytes]) -> dict[str, Any]:
    """The task envelope from stdin; ValueError naming the problem.

    The runner writes it on one line: the task starts once that line is in, without waiting
    for the end of stdin (a millisecond or two through the engine). A line that is not a
    whole JSON value (an envelope typed over several lines) is read on to the end.
    """
    data = stream.readline(MAX_ENVELOPE_BYTES + 1)
    try:
        envelope = _envelope_json(data)
    except ValueError:
        if not data.endswith(b"\n"):
            raise
        envelope = _envelope_json(data + stream.read(MAX_ENVELOPE_BYTES + 1 - len(data)))
    if not isinstance(envelope, dict):
        raise ValueError(f"the envelope is a JSON {type(envelope).__name__}, not an object")
    protocol = envelope.get("protocol")
    if type(protocol) is not int or protocol != PROTOCOL_VERSION:
        raise ValueError(
            f"unsupported protocol {protocol!r}: this SDK speaks protocol {PROTOCOL_VERSION}"
        )
    task = envelope.get("task")
    if not isinstance(task, str) or not task:
        raise ValueError("the envelope has no task name")
    if not isinstance(envelope.get("inputs", {}), dict):
        raise ValueError("the envelope's inputs are not a JSON object")
    return envelope


def _envelope_json(data: bytes) -> Any:
    if len(data) > MAX_ENVELOPE_BYTES:
        raise ValueError(f"the envelope is larger than {MAX_ENVELOPE_BYTES} bytes")
    if not data.strip():
        raise ValueError("no envelope on stdin")
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, RecursionError, ValueError) as exc:
        raise ValueError(f"the envelope is not JSON: {exc}") from None


class SetupError(Exception):
    """The task cannot start; the message says why."""


def _load(module_name: str) -> tuple[Any, set[Any]] | SetupError:
    """The task module and the task names it declares, or the SetupError saying why not."""
    try:
        module = importlib.import_module(module_name)
        declared = {d.get("name") for d in module.task_definitions() if isinstance(d, dict)}
    except Exception as exc:  # noqa: BLE001 (whatever the import raises is reported)
        traceback.print_exc()
        return SetupError(f"cannot load task module {module_name}: {_describe(exc)}")
    return module, declared


def prepare(module_name: str, stdin: IO[bytes]) -> tuple[Callable[..., Any], dict[str, Any]]:
    """The function the envelope names and the envelope; SetupError naming the problem.

    The module is imported before the envelope is read, so a warm container has its
    imports done while it waits for a task; a module that cannot be loaded is reported
    to the task that arrives, not before."""
    loaded = _load(module_name)
    try:
        envelope = read_envelope(stdin)
    except ValueError as exc:
        raise SetupError(f"invalid envelope: {exc}") from None
    if isinstance(loaded, SetupError):
        raise loaded
    module, declared = loaded
    task = envelope["task"]
    function = getattr(module, task, None)
    if task not in declared or not callable(function):
        raise SetupError(f"unknown task '{task}' in module {module_name}")
    return function, envelope


def _call(function: Callable[..., Any], task: Notifier) -> Any:
    """fn(task) when fn takes one parameter, else fn(task, **inputs) as the reference worker."""
    try:
        parameters = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):  # no signature to read: call it the reference way
        parameters = []
    if len(parameters) == 1 and parameters[0].kind in (
        inspect.Parameter.POSITIONAL_ONLY,
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
    ):
        return function(task)
    return function(task, **task.inputs)


def run_task(module_name: str, channel: Channel) -> int:
    try:
        function, envelope = prepare(module_name, sys.stdin.buffer)
    except SetupError as exc:
        Notifier(channel).error(str(exc))
        return EXIT_SETUP
    execute(function, Notifier(channel, envelope))
    return EXIT_OK


def execute(function: Callable[..., Any], notifier: Notifier) -> BaseException | None:
    """Run the task function to its terminal message; the exception it raised, if any."""
    try:
        returned = _call(function, notifier)
    except TaskError as exc:
        notifier.error(str(exc), exc.level)
        return exc
    except Exception as exc:  # noqa: BLE001 (the task's failure is its Error message)
        traceback.print_exc()
        notifier.error(_describe(exc))
        return exc
    if notifier.finished:
        if returned:
            _warn("the task returned outputs after its terminal message; they are ignored")
    elif returned is None or isinstance(returned, dict):
        notifier.result(returned)
    else:
        notifier.error(f"task returned {type(returned).__name__}, expected a dict")
    return None


def print_catalog(module_name: str, channel: Channel) -> int:
    try:
        catalog = importlib.import_module(module_name).task_definitions()
    except Exception:  # noqa: BLE001 (any failure fails the build step, with its traceback)
        traceback.print_exc()
        _warn(f"cannot produce the catalog of module {module_name}")
        return EXIT_FAILED
    if not isinstance(catalog, list):
        _warn(
            f"{module_name}.task_definitions() returned {type(catalog).__name__}, expected a list"
        )
        return EXIT_FAILED
    channel.send(catalog)
    return EXIT_OK


def _terminated(signum: int, _frame: Any) -> NoReturn:
    # As a container's PID 1, a process that installs no handler ignores SIGTERM,
    # so `docker stop` would wait out its grace period: stop at once instead.
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0].startswith("-") or args[1:] not in ([], ["--catalog"]):
        _warn(USAGE)
        return EXIT_USAGE
    signal.signal(signal.SIGTERM, _terminated)
    channel = Channel.take_stdout()
    if args[1:] == ["--catalog"]:
        return print_catalog(args[0], channel)
    return run_task(args[0], channel)


if __name__ == "__main__":
    sys.exit(main())

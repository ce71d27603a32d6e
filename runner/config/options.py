"""Settings as text: how each is read (sizes, counts, durations, ports, booleans), and
where it comes from (one flag and one environment variable; the flag wins)."""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from runner.config.values import (
    Bounded,
    counts,
    parse_api_key,
    read_integer,
    read_size,
    seconds,
)
from runner.core.errors import SettingError
from runner.files import Unreadable, read_capped

_RUNNER_ID = re.compile(r"[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?")
# Bounds for settings that do not name their own.
_MAX_COUNT = 1_000_000_000
# A file holding one secret (an API key: at most 4,096 characters) is no larger than this.
MAX_KEY_FILE_BYTES = 64 * 1024
_MAX_SECONDS = 30 * 86400.0  # a month

parse_bytes = read_size  # unbounded: the settings use runner.config.values.sizes(...)
parse_positive_int = counts(1, _MAX_COUNT)
parse_count = counts(0, _MAX_COUNT)
parse_positive_float = seconds(0.001, _MAX_SECONDS)


def parse_port(text: str) -> int:
    """A TCP port, 0 (any free port) to 65535."""
    try:
        value = read_integer(text)
    except ValueError:
        raise ValueError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise ValueError(f"a port is 0 to 65535, got {value}")
    return value


def parse_host_port(text: str) -> tuple[str, int]:
    """`"127.0.0.1:9180"` -> `("127.0.0.1", 9180)`; an IPv6 host in brackets: `[::1]:9180`."""
    host, sep, port = text.strip().rpartition(":")
    bracketed = host.startswith("[") and host.endswith("]")
    if bracketed:
        host = host[1:-1]
    if not sep or not host or (":" in host and not bracketed):
        raise ValueError(
            f"not HOST:PORT: {text!r} (e.g. 127.0.0.1:9180 for this machine only, "
            "0.0.0.0:9180 for every interface)"
        )
    return host, parse_port(port)


def parse_secret_file(text: str) -> str:
    """The secret a file holds (a Docker or Kubernetes secret), stripped: a regular file of
    at most MAX_KEY_FILE_BYTES. The error names the file, never what is in it."""
    try:
        secret = read_capped(text, MAX_KEY_FILE_BYTES).decode("utf-8").strip()
    except Unreadable as exc:
        raise ValueError(f"cannot read {text}: {exc}") from None
    except UnicodeDecodeError:
        raise ValueError(f"cannot read {text}: it is not UTF-8 text") from None
    if not secret:
        raise ValueError(f"{text} is empty")
    return secret


def parse_api_key_file(text: str) -> str:
    """The API key a file holds; the message names the file, never the key."""
    try:
        return parse_api_key(parse_secret_file(text))
    except ValueError as exc:
        raise ValueError(str(exc).replace("the API key", f"the API key in {text}", 1)) from None


def take_key(values: dict[str, Any], key: str, key_file: str) -> str | None:
    """Pop the secret given directly (`key`) or through a file (`key_file`) from resolved
    `values`; SettingError when both are given, so neither wins silently."""
    direct, from_file = values.pop(key, None), values.pop(key_file, None)
    if direct is not None and from_file is not None:
        raise SettingError("the API key is given twice: set XC_SCENARIO_APIKEY or its _FILE")
    return str(direct) if direct is not None else from_file


def parse_runner_id(text: str) -> str:
    """A runner id: a label value on its containers and part of its state's file names."""
    if not _RUNNER_ID.fullmatch(text):
        raise ValueError(
            f"not a runner id: {text!r} (1 to 63 letters, digits, '-', '_' or '.', "
            "beginning and ending with a letter or digit)"
        )
    return text


def parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"not a boolean: {text!r} (use true or false)")


@dataclass(frozen=True)
class Option:
    """One setting: where it comes from and how its text is read.

    Its key in the configuration file is the flag without its dashes
    (`--open-files` -> `open_files`). A `switch` is a flag without a value (`--x`, and
    `--no-x` to turn it off); its variable takes true or false. An empty variable counts
    as unset, except for a `secret`, where it is refused (never a fall-back to a default).
    """

    dest: str
    flag: str
    env: str
    parse: Callable[[str], Any]
    help: str
    switch: bool = False
    secret: bool = False

    @property
    def key(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")


# The API key through a file, for `run` and for the local server and its commands alike.
API_KEY_FILE = Option(
    "api_key_file",
    "--api-key-file",
    "XC_SCENARIO_APIKEY_FILE",
    parse_api_key_file,
    "file holding the API key instead (a Docker or Kubernetes secret)",
)


def add_options(
    parser: argparse.ArgumentParser,
    options: Sequence[Option],
    defaults: Mapping[str, Any] | None = None,
) -> None:
    """One flag per option; its value is parsed later by `resolve`, so that a bad flag and
    a bad environment variable get the same message and exit code. `defaults` (by dest)
    are shown in the help, with each option's bounds."""
    for option in options:
        text = f"{option.help}{_help_tail(option, (defaults or {}).get(option.dest))}"
        text = text.replace("%", "%%") + f" [env {option.env}]"
        if option.switch:
            parser.add_argument(
                option.flag, dest=option.dest, action="store_const", const="true", help=text
            )
            parser.add_argument(
                f"--no-{option.flag.removeprefix('--')}",
                dest=option.dest,
                action="store_const",
                const="false",
                help=argparse.SUPPRESS,
            )
        else:
            metavar = option.flag.removeprefix("--").upper().replace("-", "_")
            parser.add_argument(
                option.flag, dest=option.dest, default=None, metavar=metavar, help=text
            )


def _help_tail(option: Option, value: Any) -> str:
    """` (1 to 256; default: 4)`: the option's bounds and default, as far as known."""
    bounds = option.parse.bounds() if isinstance(option.parse, Bounded) else None
    shown = show_default(option, value)
    if shown and not shown.startswith("required"):
        shown = f"default: {shown}"
    parts = [p for p in (bounds, shown) if p]
    return f" ({'; '.join(parts)})" if parts else ""


def show_default(option: Option, value: Any) -> str | None:
    """A setting's default as a user would write it."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(option.parse, Bounded):
        return option.parse.show(value)
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def resolve(
    options: Sequence[Option], args: argparse.Namespace, environ: Mapping[str, str]
) -> dict[str, Any]:
    """Values given by a flag or the environment, parsed; absent ones are left out.

    SettingError names the flag or the variable whose value is wrong.
    """
    values: dict[str, Any] = {}
    for option in options:
        flag_value = getattr(args, option.dest, None)
        source, text = (
            (option.flag, flag_value)
            if flag_value is not None
            else (option.env, environ.get(option.env))
        )
        if text is None or (text == "" and source == option.env and not option.secret):
            continue
        try:
            values[option.dest] = option.parse(text)
        except ValueError as exc:
            raise SettingError(f"{source}: {exc}") from None
    return values


def resolve_file(
    options: Sequence[Option], table: Mapping[str, Any], where: str
) -> dict[str, Any]:
    """Values of a configuration file's table whose keys are these options' (`Option.key`),
    parsed; ConfigError names the key of an unknown or a wrong one."""
    known = {option.key: option for option in options}
    values: dict[str, Any] = {}
    for key, value in table.items():
        option = known.get(key)
        if option is None:
            raise SettingError(f"{where}: unknown key {key!r} (known: {', '.join(sorted(known))})")
        values[option.dest] = file_value(option, value, where)
    return values


def file_value(option: Option, value: Any, where: str) -> Any:
    """A configuration file's value of `option` (TOML: a string or a number), parsed;
    SettingError names the key."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise SettingError(f"{where}: {option.key} must be a string or a number, got {value!r}")
    try:
        return option.parse(str(value))
    except ValueError as exc:
        raise SettingError(f"{where}: {option.key}: {exc}") from None

"""Settings of the local server and of the commands that talk to it (serve, demo, submit,
status, watch): the same option parsing as the runner's, so a bad value is named and
ends the command with exit code 2 (runner.core.errors.EXIT_USAGE)."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from runner.config.options import (
    API_KEY_FILE,
    Option,
    parse_count,
    parse_port,
    resolve,
    take_key,
)
from runner.config.values import host_problem, parse_api_key, parse_server_url, seconds

DEFAULT_LOCAL_HOST = "127.0.0.1"
DEFAULT_LOCAL_PORT = 8077
DEFAULT_LOCAL_KEY = "local-dev-key"  # refused on any address but loopback
DEFAULT_LOCAL_DB = Path(".local/scenario.db")
DEFAULT_KEEP_ENDED = 10_000  # ended task instances the local server keeps
parse_days = seconds(0.01, 36_500.0)  # a number of days, decimals allowed


def parse_host(text: str) -> str:
    host = text.strip()
    if not host or any(c.isspace() or c in "/?#@" for c in host) or host_problem(host):
        raise ValueError(f"not a host name or address: {text!r}")
    return host


HOST = Option("host", "--host", "XC_LOCAL_HOST", parse_host, "address to listen on")
PORT = Option("port", "--port", "XC_LOCAL_PORT", parse_port, "the local server's port")
DB = Option("db", "--db", "XC_LOCAL_DB", Path, "the local server's SQLite file")
KEY = Option(
    "api_key", "--api-key", "XC_SCENARIO_APIKEY", parse_api_key, "the API key", secret=True
)
SERVER = Option(
    "server_url",
    "--server",
    "XC_SCENARIO_SERVER",
    parse_server_url,
    "base URL of the server to talk to, instead of the local server on --port",
)
KEEP_ENDED = Option(
    "keep_ended",
    "--keep-ended",
    "XC_LOCAL_KEEP_ENDED",
    parse_count,
    "ended task instances the local server keeps, newest first, with their statuses",
)
KEEP_ENDED_DAYS = Option(
    "keep_ended_days",
    "--keep-ended-days",
    "XC_LOCAL_KEEP_ENDED_DAYS",
    parse_days,
    "and none created longer ago than this many days",
)

SERVE_OPTIONS = (HOST, PORT, DB, KEY, API_KEY_FILE, KEEP_ENDED, KEEP_ENDED_DAYS)  # serve: all
# The demo's server listens on loopback only; its key is the runner's --api-key.
DEMO_OPTIONS = (PORT, DB, KEEP_ENDED, KEEP_ENDED_DAYS)
CLIENT_OPTIONS = (SERVER, PORT, KEY, API_KEY_FILE)  # submit, status, watch


def local_url(host: str, port: int) -> str:
    """The base URL of a local server listening on host:port (a wildcard host is reached on
    127.0.0.1)."""
    wildcard = host in ("", "0.0.0.0", "::")  # noqa: S104 -- compared, not bound
    reached = "127.0.0.1" if wildcard else host
    return f"http://[{reached}]:{port}" if ":" in reached else f"http://{reached}:{port}"


@dataclass(frozen=True)
class LocalSettings:
    host: str = DEFAULT_LOCAL_HOST
    port: int = DEFAULT_LOCAL_PORT
    db: Path = DEFAULT_LOCAL_DB
    api_key: str = field(default=DEFAULT_LOCAL_KEY, repr=False)
    keep_ended: int = DEFAULT_KEEP_ENDED
    keep_ended_days: float | None = None
    server_url: str | None = None  # submit, status, watch: another server than the local one

    @property
    def url(self) -> str:
        """Where the commands reach the server: --server, else the local server."""
        return self.server_url or local_url(self.host, self.port)


def local_settings(
    args: argparse.Namespace, environ: Mapping[str, str], options: Sequence[Option]
) -> LocalSettings:
    """The local server's settings from a command's `options`, by flag or environment."""
    values = resolve(options, args, environ)
    key = take_key(values, "api_key", "api_key_file")
    return LocalSettings(**values) if key is None else LocalSettings(api_key=key, **values)

"""The local server as its own process (`python -m runner serve`), and raw HTTP over sockets."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from tests.conftest import REPO, free_port
from tests.integration.processes import terminate


class ServerProcess:
    def __init__(self, proc: subprocess.Popen[bytes], port: int, key: str, log: Path) -> None:
        self.proc = proc
        self.port = port
        self.key = key
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def memory_kib(self, field: str = "VmRSS") -> int:
        """VmRSS (now) or VmHWM (the peak so far) of the server process, in KiB."""
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        found = re.search(rf"^{field}:\s+(\d+) kB", status, re.MULTILINE)
        assert found, status
        return int(found.group(1))

    def session(self) -> requests.Session:
        session = requests.Session()
        session.headers["Authorization"] = f"bearer {self.key}"
        return session


def _ready(server: ServerProcess, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not server.alive():
            raise AssertionError(f"the server exited ({server.proc.returncode}):\n{server.log()}")
        try:
            answer = requests.get(
                server.url + "/local/api/statuses",
                headers={"Authorization": f"bearer {server.key}"},
                timeout=2,
            )
        except requests.ConnectionError:
            time.sleep(0.05)
            continue
        assert answer.status_code == 200, answer.text
        return
    raise AssertionError(f"the server did not answer within {timeout_s} s:\n{server.log()}")


@contextmanager
def server_process(db_path: Path, key: str, *args: str) -> Iterator[ServerProcess]:
    """`python -m runner serve` on a free port of 127.0.0.1; stopped with SIGTERM at the end."""
    port = free_port()
    env = {**os.environ, "XC_SCENARIO_APIKEY": key}
    with tempfile.NamedTemporaryFile(prefix="local-server-", suffix=".log", delete=False) as log:
        log_path = Path(log.name)
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "runner",
                "serve",
                "--port",
                str(port),
                "--db",
                str(db_path),
                *args,
            ],
            env=env,
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = ServerProcess(proc, port, key, log_path)
    try:
        _ready(server, 30)
        yield server
    finally:
        terminate(proc, 15)
        log_path.unlink(missing_ok=True)


def exchange(port: int, data: bytes, *, half_close: bool = False, timeout_s: float = 10) -> bytes:
    """Send raw bytes on a new connection; everything the server sends until it closes.

    A server that refuses a request before reading all of it closes with bytes
    unread, so the client sees a reset after the answer: that ends the answer.
    """
    with socket.create_connection(("127.0.0.1", port), timeout=timeout_s) as conn:
        try:
            conn.sendall(data)
            if half_close:
                conn.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused before it was all sent: the answer is still there to read
        chunks: list[bytes] = []
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                chunk = conn.recv(65536)
            except (TimeoutError, ConnectionResetError):
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)


def answers(raw: bytes) -> list[tuple[int, dict[str, str], Any]]:
    """Each HTTP answer in `raw`: its status, headers (lower-cased names) and JSON body or None."""
    found: list[tuple[int, dict[str, str], Any]] = []
    rest = raw
    while rest:
        head, sep, rest = rest.partition(b"\r\n\r\n")
        assert sep, f"an answer's header is cut short: {head[:200]!r}"
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {
            k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])
        }
        length = int(headers.get("content-length", "0"))
        body, rest = rest[:length], rest[length:]
        found.append((status, headers, json.loads(body) if body else None))
    return found

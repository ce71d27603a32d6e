"""`make bench-submit`: how fast many task instances are queued on the local server.

A local server of its own (`xc-runner serve`, its own process, a fresh database on a
free loopback port) with one task published, then, in one run:

- the baseline: `--singles` instances queued one request each
  (`POST /local/api/task-instances`), as a script looping on `submit` would;
- `--file` instances queued by `xc-runner submit NAMESPACE TASK --from-file FILE`, the
  command as a user runs it (its start, reading and checking the file, then batches of
  1,000 to the bulk endpoint);
- `--bulk` instances through the bulk endpoint itself
  (`POST /local/api/task-instances/bulk`), in batches of 1,000 and of 10,000 (its
  limit), as the cockpit or a script would send them.

Each is printed as instances a second, as a ratio to the baseline's rate, and with the
CPU time the server and the client spent on it (user and system time, which a busy
machine inflates less than the time on the clock: on a quiet one, the time taken is
about the larger of the two). The machine's load average is printed
first and last: figures from a busy machine are not comparable.

    python -m scripts.bench_submit [--singles N] [--file N] [--bulk N]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from scripts.bench_cpu import process_cpu_s

ROOT = Path(__file__).resolve().parent.parent
KEY = "bench-submit-key"
CATALOG = [
    {
        "namespace": "bench",
        "name": "trip",
        "inputs": [
            {"name": "start", "baseType": "Object"},
            {"name": "speeds", "baseType": "Integer", "allowMultipleValues": True},
            {"name": "note", "defaultValue": ""},
        ],
    }
]


def inputs(index: int) -> dict[str, object]:
    return {"start": {"lat": 48.85, "lon": 2.35, "i": index}, "speeds": [90, str(index)]}


def body(index: int) -> dict[str, object]:
    return {"namespace": "bench", "name": "trip", "inputData": inputs(index)}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    def __init__(self, url: str, pid: int) -> None:
        self.url = url
        self.pid = pid

    def cpu_s(self) -> float:
        """The CPU time the server's process has spent so far (user + system)."""
        return process_cpu_s(self.pid)


@contextmanager
def local_server(folder: Path) -> Iterator[Server]:
    """`xc-runner serve` on a free port with a database in `folder`."""
    port = free_port()
    log = (folder / "server.log").open("wb")
    command = [sys.executable, "-m", "runner", "serve", "--port", str(port)]
    command += ["--db", str(folder / "scenario.db"), "--api-key", KEY]
    server = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"{url}/local/api/statuses", headers=headers(), timeout=2)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit(f"the local server did not start: see {log.name}") from None
                time.sleep(0.2)
        yield Server(url, server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def headers() -> dict[str, str]:
    return {"Authorization": f"bearer {KEY}"}


def singles(url: str, count: int) -> float:
    with requests.Session() as http:
        http.headers.update(headers())
        started = time.perf_counter()
        for index in range(count):
            answer = http.post(f"{url}/local/api/task-instances", json=body(index), timeout=30)
            answer.raise_for_status()
        return time.perf_counter() - started


def bulk(url: str, count: int, batch: int) -> float:
    lines = [json.dumps(body(index)).encode() for index in range(count)]
    with requests.Session() as http:
        http.headers.update(headers())
        started = time.perf_counter()
        for start in range(0, count, batch):
            data = b"\n".join(lines[start : start + batch])
            answer = http.post(f"{url}/local/api/task-instances/bulk", data=data, timeout=300)
            answer.raise_for_status()
        return time.perf_counter() - started


def from_file(url: str, count: int, folder: Path) -> float:
    path = folder / "instances.jsonl"
    path.write_text("".join(json.dumps(inputs(index)) + "\n" for index in range(count)))
    env = {**os.environ, "XC_SCENARIO_SERVER": url, "XC_SCENARIO_APIKEY": KEY}
    command = [sys.executable, "-m", "runner", "submit", "bench", "trip", "--from-file", str(path)]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, timeout=600, check=False)
    took = time.perf_counter() - started
    if done.returncode != 0 or len(done.stdout.split()) != count:
        raise SystemExit(f"submit --from-file failed: {done.stderr.decode()[-2000:]}")
    return took


def measure(
    server: Server, args: argparse.Namespace, scratch: Path
) -> list[tuple[str, int, float, float, float]]:
    """(what, instances, seconds, the server's and the client's CPU seconds) of each way
    to queue them."""
    url = server.url
    path = "/taskcatalog/api/catalog-task-definitions/bench"
    requests.post(url + path, json=CATALOG, headers=headers(), timeout=30).raise_for_status()
    runs: list[tuple[str, int, Callable[[], float]]] = [
        ("one request each", args.singles, lambda: singles(url, args.singles)),
        ("submit --from-file", args.file, lambda: from_file(url, args.file, scratch)),
    ]
    for batch in (1_000, 10_000):
        what = f"bulk endpoint, batches of {batch:,}"
        runs.append((what, args.bulk, lambda batch=batch: bulk(url, args.bulk, batch)))
    rows = []
    for what, count, run in runs:
        server_before, client_before = server.cpu_s(), client_cpu_s()
        took = run()
        cpu_s = (server.cpu_s() - server_before, client_cpu_s() - client_before)
        rows.append((what, count, took, *cpu_s))
    return rows


def client_cpu_s() -> float:
    """The CPU time of this process and of its children that ended (submit's)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.bench_submit",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--singles", type=int, default=1_000, help="the baseline's instances")
    parser.add_argument("--file", type=int, default=10_000, help="instances of submit --from-file")
    parser.add_argument("--bulk", type=int, default=100_000, help="instances of each bulk run")
    args = parser.parse_args()
    say(f"load average: {os.getloadavg()}")
    with (
        tempfile.TemporaryDirectory(prefix="bench-submit-") as scratch,
        local_server(Path(scratch)) as server,
    ):
        rows = measure(server, args, Path(scratch))
    base = rows[0][1] / rows[0][2]
    say(f"{'':<32} {'instances':>9} {'seconds':>7} {'rate':>9} {'ratio':>6} CPU: server client")
    for what, count, took, server_s, client_s in rows:
        rate = count / took
        say(
            f"{what:<32} {count:>9,} {took:7.1f} {rate:>7,.0f}/s {rate / base:>6.1f} "
            f"{server_s:11.1f} {client_s:6.1f}"
        )
    say(f"load average: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

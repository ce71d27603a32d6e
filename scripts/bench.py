"""`make bench`: the runner's per-task overhead and memory, as ratios to baselines of the same run.

Baselines: a bare `docker run -i` of the same task image (and one with the
runner's hardening flags), run from the CLI; a Python process that imports the
runner's libraries. Measured: the runner as its own process against the local
server, from the moment the task is handed out by a poll to its Completed
status, one at a time and then many at once.

When the engine has gVisor's `runsc` runtime (`make gvisor`), the same run also
measures the hardened `docker run` with `--runtime=runsc` and the runner with
XC_RUNNER_RUNTIME=runsc, against the same bare baseline.

    python scripts/bench.py [--tasks N] [--burst N] [--concurrency N] [--no-gvisor]
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from runner.core.model import TERMINAL_STATUSES  # noqa: E402
from runner.localserver import LocalServer  # noqa: E402 -- after the path is set
from runner.localserver.client import LocalClient  # noqa: E402

IMAGE = "xc-tasks/sample:latest"
ENVELOPE = (
    b'{"protocol":1,"namespace":"sample","task":"simple","taskInstanceId":"b",'
    b'"inputs":{"arg":"x"}}\n'
)
# What runner/docker_engine.py sets on every task container, as docker run flags.
HARDENING = shlex.split(
    "--network none --read-only --cap-drop ALL --security-opt no-new-privileges "
    "--user 65534:65534 --init --memory 512m --memory-swap 512m --cpus 1 --pids-limit 256 "
    "--ulimit nofile=1024:1024 --log-driver none --tmpfs /tmp:rw,nosuid,nodev,size=64m"
)
KEY = "bench-key"
GVISOR = "runsc"


def engine_runtimes() -> set[str]:
    out = subprocess.run(
        ["docker", "info", "--format", "{{json .Runtimes}}"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return set(json.loads(out.stdout) or {})


def docker_run(flags: Sequence[str]) -> float:
    started = time.perf_counter()
    subprocess.run(
        ["docker", "run", "--rm", "-i", *flags, IMAGE],
        input=ENVELOPE,
        capture_output=True,
        check=True,
        timeout=120,
    )
    return time.perf_counter() - started


def timed(count: int, one: Callable[[], float]) -> list[float]:
    one()  # warm-up: caches, first connection
    return [one() for _ in range(count)]


def throughput(count: int, parallel: int, one: Callable[[], float]) -> float:
    started = time.perf_counter()
    with ThreadPoolExecutor(parallel) as pool:
        list(pool.map(lambda _: one(), range(count)))
    return count / (time.perf_counter() - started)


def stamp(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def completed_after_handout(client: LocalClient, instance_id: str) -> tuple[float, float]:
    """(taken, completed) server timestamps of a finished instance."""
    view = client.instance(instance_id)
    done = [s for s in view["statuses"] if s["status"] == "Completed"]
    if not done:
        raise RuntimeError(f"task {instance_id} did not complete: {view}")
    return stamp(view["takenAt"]), stamp(done[-1]["receivedAt"])


def wait_done(client: LocalClient, ids: Sequence[str], timeout_s: float = 300) -> None:
    deadline = time.monotonic() + timeout_s
    pending = set(ids)
    while pending:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{len(pending)} task(s) did not end")
        pending = {i for i in pending if client.instance(i)["state"] not in TERMINAL_STATUSES}
        time.sleep(0.01)


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


def baseline_rss_mib() -> float:
    code = (
        "import docker, requests, jsonschema, pathlib; "
        "print(next(l for l in pathlib.Path('/proc/self/status').read_text().splitlines() "
        "if l.startswith('VmHWM:')).split()[1])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(out.stdout) / 1024


def measure_runner(args: argparse.Namespace, runtime: str = "") -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory() as tmp,
        LocalServer(Path(tmp) / "bench.db", port=0, api_key=KEY) as server,
    ):
        client = LocalClient(server.url, KEY)
        env = {
            **os.environ,
            "XC_SCENARIO_SERVER": server.url,
            "XC_SCENARIO_APIKEY": KEY,
            "XC_RUNNER_ID": f"bench-{os.getpid()}",
            "XC_RUNNER_STATE_DIR": str(Path(tmp) / "state"),
            "XC_RUNNER_POLL_MAX_INTERVAL_S": "0.05",
            "XC_RUNNER_CONCURRENCY": str(args.concurrency),
            "XC_RUNNER_RUNTIME": runtime,
            "XC_RUNNER_LOG_LEVEL": "WARNING",
        }
        runner = subprocess.Popen([sys.executable, "-m", "runner", "run", IMAGE], env=env, cwd=ROOT)
        try:
            sequential = []
            for _ in range(args.tasks + 1):
                instance_id = client.submit("sample", "simple", {"arg": "x"})["id"]
                wait_done(client, [instance_id])
                taken, done = completed_after_handout(client, instance_id)
                sequential.append(done - taken)
            ids = [client.submit("sample", "simple", {"arg": "x"})["id"] for _ in range(args.burst)]
            wait_done(client, ids)
            spans = [completed_after_handout(client, i) for i in ids]
            rate = len(ids) / (max(d for _, d in spans) - min(t for t, _ in spans))
            rss = peak_rss_mib(runner.pid)
        finally:
            runner.terminate()
            runner.wait(60)
    return {"sequential": sequential[1:], "rate": rate, "rss": rss}


def row(
    label: str,
    values: list[float] | None = None,
    rate: float | None = None,
    ratio: float | None = None,
    unit: str = "s",
) -> None:
    text = f"  {label:<44}"
    if values is not None:
        text += (
            f"median {statistics.median(values):6.3f} {unit}   p90 {quantile(values):6.3f} {unit}"
        )
    if rate is not None:
        text += f"{rate:7.2f} tasks/s"
    if ratio is not None:
        text += f"   x{ratio:.2f} of baseline"
    sys.stdout.write(text + "\n")


def quantile(values: list[float], q: float = 0.9) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def milliseconds(later: list[float], earlier: list[float]) -> str:
    """The difference of two medians, in ms, signed."""
    return f"{(statistics.median(later) - statistics.median(earlier)) * 1000:+.0f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=15, help="sequential tasks")
    parser.add_argument("--burst", type=int, default=40, help="tasks submitted at once")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument(
        "--no-gvisor", action="store_true", help="skip the gVisor (runsc) measurements"
    )
    args = parser.parse_args()
    gvisor = not args.no_gvisor and GVISOR in engine_runtimes()

    bare = timed(args.tasks, lambda: docker_run(["--network", "none"]))
    hardened = timed(args.tasks, lambda: docker_run(HARDENING))
    sandboxed = (
        timed(args.tasks, lambda: docker_run([*HARDENING, f"--runtime={GVISOR}"]))
        if gvisor
        else []
    )
    bare_rate = throughput(args.burst, args.concurrency, lambda: docker_run(["--network", "none"]))
    measured = measure_runner(args)
    base_rss = baseline_rss_mib()
    measured_gvisor = measure_runner(args, runtime=GVISOR) if gvisor else None

    bare_median = statistics.median(bare)
    sys.stdout.write(f"trivial task ({IMAGE} simple), {args.tasks} one at a time:\n")
    row("docker run -i --rm (bare, baseline)", bare)
    row(
        "docker run -i --rm with the runner's limits",
        hardened,
        ratio=statistics.median(hardened) / bare_median,
    )
    if gvisor:
        row(
            f"  same, under gVisor (--runtime={GVISOR})",
            sandboxed,
            ratio=statistics.median(sandboxed) / bare_median,
        )
    row(
        "runner: poll hand-out -> Completed posted",
        measured["sequential"],
        ratio=statistics.median(measured["sequential"]) / bare_median,
    )
    if measured_gvisor is not None:
        row(
            f"  same, XC_RUNNER_RUNTIME={GVISOR}",
            measured_gvisor["sequential"],
            ratio=statistics.median(measured_gvisor["sequential"]) / bare_median,
        )
    sys.stdout.write(f"throughput, {args.burst} tasks at once, {args.concurrency} at a time:\n")
    row(f"docker run x{args.concurrency} in parallel (baseline)", rate=bare_rate)
    row(
        f"runner --concurrency {args.concurrency}",
        rate=measured["rate"],
        ratio=measured["rate"] / bare_rate,
    )
    if measured_gvisor is not None:
        row(
            f"  same, XC_RUNNER_RUNTIME={GVISOR}",
            rate=measured_gvisor["rate"],
            ratio=measured_gvisor["rate"] / bare_rate,
        )
    sys.stdout.write("memory (peak RSS):\n")
    sys.stdout.write(
        f"  {'python importing docker, requests, jsonschema':<44}{base_rss:7.1f} MiB\n"
    )
    sys.stdout.write(
        f"  {'runner after all the tasks above':<44}{measured['rss']:7.1f} MiB"
        f"   x{measured['rss'] / base_rss:.2f} of baseline\n"
    )
    sys.stdout.write("cost per task (difference of medians):\n")
    sys.stdout.write(
        f"  hardening cost: {milliseconds(hardened, bare)} per task (hardened vs bare docker run)\n"
    )
    if measured_gvisor is not None:
        sys.stdout.write(
            f"  gVisor cost: {milliseconds(sandboxed, hardened)} per task "
            f"(hardened docker run, {GVISOR} vs the default runtime); "
            f"through the runner: "
            f"{milliseconds(measured_gvisor['sequential'], measured['sequential'])}\n"
        )
    else:
        sys.stdout.write(
            f"  gVisor cost: not measured (the engine has no {GVISOR} runtime, or --no-gvisor;"
            " `make gvisor` sets it up)\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

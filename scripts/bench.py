"""`make bench`: the runner's latency, throughput and memory, as ratios to same-run baselines.

On one image and one trivial task (xc-tasks/sample simple), side by side:

- latency, a task's hand-out by a poll to its Completed status (p50, p99): the
  runner with its warm pool, the runner without (XC_RUNNER_POOL_SIZE=0), each task
  right after one of a bare docker-py loop doing the same container work
  (scripts/bench_bare.py), so that both meet the same machine; where a warm task's
  time goes, from a profile of the runner at work (scripts/bench_profile.py);
- throughput of `--burst` tasks at concurrency 1, 4 and 8: the runner with its
  pool, and the bare loop at the same concurrency just before it, `--rounds` times
  (at 4, also a loop through the runner's engine layer, with its hardening); the
  CPU each spends per task; the engine's own best (the bare loop at concurrency 1,
  2, 4 and 8), and the runner's throughput as a fraction of it;
- the runner's peak RSS, and what one idle warm container of each sample image
  costs (memory as `docker stats` counts it, processes);
- the same latencies under gVisor (`runsc`) when the engine has it (`make gvisor`),
  beside runc's;
- `docker run` from the CLI (bare, with the runner's hardening, under gVisor):
  the cost of the hardening and of gVisor per task.

The machine's load average is printed first and last: figures from a busy
machine are not comparable.

    python scripts/bench.py [--tasks N] [--burst N] [--rounds N] [--levels 1,4,8] [--no-gvisor]
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.bench_bare import BareLoop, HardenedLoop, idle_cost
from scripts.bench_cpu import CpuMeter
from scripts.bench_profile import breakdown
from scripts.bench_profile import read as read_profile
from scripts.bench_report import report
from scripts.bench_runner import runner

IMAGE = "xc-tasks/sample:latest"
IDLE_IMAGES = ("xc-tasks/sample:latest", "xc-tasks/textstats-node:latest")
ENVELOPE = (
    b'{"protocol":1,"namespace":"sample","task":"simple","taskInstanceId":"b",'
    b'"inputs":{"arg":"x"}}\n'
)
# What runner/engine/docker_engine.py sets on every task container, as docker run flags.
HARDENING = shlex.split(
    "--network none --read-only --cap-drop ALL --security-opt no-new-privileges "
    "--user 65534:65534 --init --memory 512m --memory-swap 512m --cpus 1 --pids-limit 256 "
    "--ulimit nofile=1024:1024 --log-driver none --tmpfs /tmp:rw,nosuid,nodev,size=64m"
)
GVISOR = "runsc"
DEFAULT_CONCURRENCY = 4  # the runner's default; its pool's size, for the latency runs
ENGINE_LEVELS = (1, 2, 4, 8)  # the bare loop's, for the engine's own best
HARDENED_LEVEL = 4  # where the loop with the runner's hardening is measured too


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


def baseline_rss_mib() -> float:
    code = (
        "import docker, requests, jsonschema, pathlib; "
        "print(next(l for l in pathlib.Path('/proc/self/status').read_text().splitlines() "
        "if l.startswith('VmHWM:')).split()[1])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(out.stdout) / 1024


def latencies(args: argparse.Namespace, runtime: str = "") -> dict[str, Any]:
    """The latency rows on one runtime: the runner with its pool (profiled: the breakdown),
    then without, each task right after one of the bare loop, so that both meet the same
    machine; the bare loop's rows are its tasks of each half."""
    bare = BareLoop(IMAGE, ENVELOPE, runtime)
    found: dict[str, Any] = {}
    try:
        bare.one()  # warm-up: caches, the first connection
        for name, size in (("warm", DEFAULT_CONCURRENCY), ("cold", 0)):
            with tempfile.TemporaryDirectory() as tmp:
                profile = Path(tmp) / "profile.json"
                with runner(
                    IMAGE,
                    concurrency=DEFAULT_CONCURRENCY,
                    pool_size=size,
                    runtime=runtime,
                    profile=profile,
                ) as under_test:
                    under_test.one()  # warm-up
                    spans, found[f"{name}_bare"] = [], []
                    for _ in range(args.tasks):
                        found[f"{name}_bare"].append(bare.one())
                        spans.append(under_test.one())
                    found[name] = [done - taken for taken, done in spans]
                    found[f"{name}_starts"] = under_test.starts()
                    found[f"{name}_rss"] = under_test.peak_rss_mib()
                found[f"{name}_breakdown"] = breakdown(read_profile(profile), spans)
    finally:
        bare.close()
    found["bare"] = found["warm_bare"] + found["cold_bare"]
    return found


def bare_throughput(args: argparse.Namespace, level: int, found: dict[str, Any]) -> None:
    bare = BareLoop(IMAGE, ENVELOPE)
    try:
        meter = CpuMeter()
        found.setdefault("bare", []).append(bare.throughput(args.burst, level))
        found["bare_cpu"] = meter.per_task_ms(args.burst)
    finally:
        bare.close()


def throughputs(args: argparse.Namespace) -> dict[int, dict[str, Any]]:
    """Per level, `--rounds` rounds of the bare loop then the runner with its pool (its
    default size: the concurrency), one right after the other, so that both meet the same
    machine; at the levels the runner is not measured at, the bare loop alone (the engine's
    own best is the best bare loop of all)."""
    found: dict[int, dict[str, Any]] = {}
    for level in sorted(set(args.levels) | set(ENGINE_LEVELS)):
        found[level] = {}
        if level not in args.levels:
            for _ in range(args.rounds):
                bare_throughput(args, level, found[level])
            continue
        with runner(IMAGE, concurrency=level, pool_size=level) as under_test:
            for _ in range(args.rounds):
                bare_throughput(args, level, found[level])
                under_test.wait_pool_full()
                meter = CpuMeter(under_test.proc.pid)
                found[level].setdefault("runner", []).append(under_test.throughput(args.burst))
                found[level]["runner_cpu"] = meter.per_task_ms(args.burst)
            found[level]["starts"] = under_test.starts()
            found[level]["rss"] = under_test.peak_rss_mib()
        if level == HARDENED_LEVEL:
            hardened = HardenedLoop(IMAGE, ENVELOPE)
            try:
                meter = CpuMeter()
                found[level]["hardened"] = hardened.throughput(args.burst, level)
                found[level]["hardened_cpu"] = meter.per_task_ms(args.burst)
            finally:
                hardened.close()
    return found


def cli_runs(args: argparse.Namespace, gvisor: bool) -> dict[str, list[float]]:
    def timed(flags: list[str]) -> list[float]:
        docker_run(flags)  # warm-up
        return [docker_run(flags) for _ in range(args.cli_tasks)]

    found = {"bare": timed(["--network", "none"]), "hardened": timed(HARDENING)}
    if gvisor:
        found["gvisor"] = timed([*HARDENING, f"--runtime={GVISOR}"])
    return found


def measure(args: argparse.Namespace, gvisor: bool) -> dict[str, Any]:
    began = time.monotonic()
    results: dict[str, Any] = {"cores": os.cpu_count(), "load_before": os.getloadavg()}
    results["runc"] = latencies(args)
    results["throughput"] = throughputs(args)
    results["gvisor"] = latencies(args, GVISOR) if gvisor else None
    runtimes = ["", GVISOR] if gvisor else [""]
    results["idle"] = {
        (image, runtime or "runc"): idle_cost(image, runtime)
        for image in IDLE_IMAGES
        for runtime in runtimes
    }
    results["base_rss"] = baseline_rss_mib()
    results["cli"] = cli_runs(args, gvisor)
    results["load_after"] = os.getloadavg()
    results["took_s"] = time.monotonic() - began
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=40, help="tasks one at a time, per row")
    parser.add_argument("--burst", type=int, default=100, help="tasks for each throughput")
    parser.add_argument(
        "--rounds", type=int, default=2, help="throughput rounds per level (bare, then runner)"
    )
    parser.add_argument(
        "--levels",
        type=lambda text: [int(n) for n in text.split(",")],
        default=[1, 4, 8],
        help="concurrency levels of the throughput runs",
    )
    parser.add_argument("--cli-tasks", type=int, default=15, help="docker run CLI samples")
    parser.add_argument(
        "--no-gvisor", action="store_true", help="skip the gVisor (runsc) measurements"
    )
    args = parser.parse_args()
    gvisor = not args.no_gvisor and GVISOR in engine_runtimes()
    report(measure(args, gvisor), args)
    return 0


if __name__ == "__main__":
    sys.exit(main())

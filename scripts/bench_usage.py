"""`make bench`, second part: what measuring each task's usage costs, and the metrics' size.

- **cost of measuring**, on real warm containers of xc-tasks/sample: the meter's work on a
  task's thread (finding the container's cgroup and reading it at the hand-out, at the
  terminal message and once more), per task; and the runner's warm latency p50 with
  XC_RUNNER_USAGE=off and with its default, in alternating rounds of the same run. The
  target: under 2 ms of a warm task's latency.
- **metrics' size**: a scrape of the runner's metrics with a 10,000-task catalog after 3
  tasks ran (bytes, time), against a 36-task catalog, and what it would be had every task
  of the catalog run (what the runner exported up front before); the memory the metrics
  keep for the catalog (tracemalloc).
- **the runner's RSS** with a 10,000-task catalog against a 36-task one (two images labelled
  with half of it each, a label being at most 512 KiB: xc-test/cost-catalog10k:part0 and
  part1, built for the bench and removed after).

    python scripts/bench_usage.py [--tasks N] [--rounds N]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import docker

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from prometheus_client import generate_latest

from runner.core.catalog import CATALOG_LABEL
from runner.core.model import TaskInstance
from runner.core.policy import ContainerLimits
from runner.core.usage import Limits, Usage
from runner.engine.cgroups import DEFAULT_ROOT
from runner.engine.docker_engine import DockerEngine
from runner.engine.interface import LABEL_RUNNER_ID, ContainerSpec
from runner.engine.usage import UsageSource
from runner.ops.metrics import Metrics
from runner.worker.metering import Metering
from scripts.bench_report import quantile, say
from scripts.bench_runner import runner

IMAGE = "xc-tasks/sample:latest"
CATALOG_REPOSITORY = "xc-test/cost-catalog10k"
CATALOG_TASKS = 10_000
CATALOG_PARTS = 2  # images: a label holds at most 512 KiB, and 10,000 tasks are 830 kB
SMALL_TASKS = 36
COST_TARGET_MS = 2.0
SCRAPE_BYTES_TARGET = 100_000
SCRAPE_S_TARGET = 0.05


def meter_cost(tasks: int) -> list[float]:
    """The meter's work for one task on a real warm container, in seconds, `tasks` times."""
    engine = DockerEngine()
    metering = Metering(UsageSource("auto", DEFAULT_ROOT))
    spec = ContainerSpec(IMAGE, {LABEL_RUNNER_ID: "bench-usage"}, ContainerLimits())
    found = []
    try:
        for _ in range(tasks):
            container = engine.launch(spec)
            try:
                began = time.perf_counter()
                meter = metering.meter(ContainerLimits(), 3600.0)
                meter.handed_out(container.id, "warm")
                meter.tick(terminal=True)
                meter.tick(terminal=False)
                meter.usage(0.1, oom_killed=False)
                found.append(time.perf_counter() - began)
            finally:
                container.remove()
    finally:
        engine.close()
    return found


def warm_latencies(tasks: int, rounds: int) -> dict[str, list[float]]:
    """The runner's warm latencies, measuring off and on, in alternating rounds."""
    found: dict[str, list[float]] = {"off": [], "auto": []}
    for _ in range(rounds):
        for usage in ("off", "auto"):
            os.environ["XC_RUNNER_USAGE"] = usage
            try:
                with runner(IMAGE, concurrency=4, pool_size=4) as under_test:
                    found[usage] += under_test.latencies(tasks)
            finally:
                del os.environ["XC_RUNNER_USAGE"]
    return found


def catalog(count: int) -> list[tuple[str, str]]:
    return [(f"ns{i % 10}", f"task{i:05}") for i in range(count)]


def scrape_figures(tasks: list[tuple[str, str]], every: bool = False) -> dict[str, float]:
    """A scrape of metrics with this catalog after 3 of its tasks ran (or every one)."""
    metrics = Metrics(tasks, images=[IMAGE], slots=4)
    ran = tasks if every else tasks[:3]
    for namespace, name in ran:
        instance = TaskInstance("1", namespace, name)
        metrics.task_started(instance)
        metrics.task_ended(instance, "Completed", 0.2, "warm", None)
        metrics.task_used(instance, Usage("warm", 0.2, 0.05, 40 * 1024**2, False, Limits()))
    times = []
    for _ in range(1 if every else 20):
        began = time.perf_counter()
        body = generate_latest(metrics.registry)
        times.append(time.perf_counter() - began)
    return {"bytes": len(body), "s": statistics.median(times)}


def metrics_memory(count: int) -> tuple[int, int]:
    """(bytes the metrics keep for a catalog of `count` tasks, bytes of the catalog's list)."""
    tasks = catalog(count)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    metrics = Metrics(tasks, images=[IMAGE], slots=4)
    kept = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    del metrics
    copy = sys.getsizeof(frozenset(tasks)) + sum(sys.getsizeof(t) for t in tasks)
    return kept, copy


@contextmanager
def catalog_images() -> Iterator[list[str]]:
    """Images of the sample's content whose labels hold a 10,000-task catalog between them,
    each under the runner's cap on a label (512 KiB): committed from containers created with
    the label (the engine refuses a label that large at a build)."""
    client = docker.from_env()
    tasks = catalog(CATALOG_TASKS)
    made: list[str] = []
    try:
        for part in range(CATALOG_PARTS):
            definitions = [
                {"namespace": ns, "name": name, "schemaVersion": 0, "inputs": [{"name": "arg"}]}
                for ns, name in tasks[part::CATALOG_PARTS]
            ]
            labels = {CATALOG_LABEL: json.dumps(definitions, separators=(",", ":"))}
            container = client.containers.create(IMAGE, labels=labels)
            try:
                container.commit(CATALOG_REPOSITORY, f"part{part}")
                made.append(f"{CATALOG_REPOSITORY}:part{part}")
            finally:
                container.remove(force=True)
        yield made
    finally:
        for image in made:
            with contextlib.suppress(docker.errors.ImageNotFound):
                client.images.remove(image, force=True)
        client.close()


def runner_rss(image: str | list[str]) -> float:
    """The runner's peak RSS (MiB) serving `image` (or images), once its catalog is published
    and it polls (and 3 tasks of the sample ran)."""
    with runner(image, concurrency=1, pool_size=0) as under_test:
        deadline = time.monotonic() + 600
        while " polling " not in under_test.log_path.read_text():
            if under_test.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the runner did not publish: {under_test.log_path.read_text()}")
            time.sleep(0.2)
        if image == IMAGE:
            under_test.latencies(3)
        return under_test.peak_rss_mib()


def report(args: argparse.Namespace) -> None:
    say(f"\nmeasuring each task's usage (load {os.getloadavg()[0]:.1f} before)")
    cost = meter_cost(args.tasks)
    p50 = quantile(cost, 0.5) * 1000
    say(
        f"  the meter's work on a task's thread      p50 {p50:.3f} ms   p99 "
        f"{quantile(cost, 0.99) * 1000:.3f} ms   (target: under {COST_TARGET_MS} ms)"
    )
    latencies = warm_latencies(args.tasks, args.rounds)
    off, on = (quantile(latencies[k], 0.5) * 1000 for k in ("off", "auto"))
    say(f"  warm latency p50, usage off              {off:7.1f} ms")
    say(
        f"  warm latency p50, usage read (default)   {on:7.1f} ms   ({on - off:+.1f} ms, "
        "within the noise of a loaded machine; the meter's own work is the line above)"
    )
    say(
        f"  {'OK' if p50 < COST_TARGET_MS else 'MISSED'}: the meter's work per warm task "
        f"{p50:.3f} ms < {COST_TARGET_MS} ms"
    )
    small, large = scrape_figures(catalog(SMALL_TASKS)), scrape_figures(catalog(CATALOG_TASKS))
    every = scrape_figures(catalog(CATALOG_TASKS), every=True)
    say("\nthe metrics with 3 tasks run")
    for label, found in (
        (f"{SMALL_TASKS}-task catalog", small),
        ("10,000-task catalog", large),
        ("10,000 tasks, every one run", every),
    ):
        say(f"  {label:<30} scrape {found['bytes'] / 1000:9.1f} kB   {found['s'] * 1000:7.2f} ms")
    ok = large["bytes"] < SCRAPE_BYTES_TARGET and large["s"] < SCRAPE_S_TARGET
    say(f"  {'OK' if ok else 'MISSED'}: 10,000-task catalog, 3 run: under 100 kB and 50 ms")
    kept_small, _ = metrics_memory(SMALL_TASKS)
    kept, copy = metrics_memory(CATALOG_TASKS)
    say(
        f"  memory the metrics keep: {kept_small / 1024:.0f} KiB ({SMALL_TASKS} tasks), "
        f"{kept / 1024:.0f} KiB (10,000; their copy of the catalog: {copy / 1024:.0f} KiB)"
    )
    with catalog_images() as big:
        rss_small, rss_big = runner_rss(IMAGE), runner_rss(big)
    say(
        f"  the runner's peak RSS: {rss_small:.1f} MiB serving {IMAGE}, {rss_big:.1f} MiB "
        f"serving a 10,000-task catalog ({rss_big - rss_small:+.1f} MiB)"
    )
    say(f"load after: {os.getloadavg()[0]:.1f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=20, help="tasks per sample")
    parser.add_argument("--rounds", type=int, default=3, help="alternating latency rounds")
    report(parser.parse_args())
    return 0


if __name__ == "__main__":
    sys.exit(main())

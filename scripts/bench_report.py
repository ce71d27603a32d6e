"""`make bench`'s report: the figures, their ratios to the same run's baselines, the targets."""

from __future__ import annotations

import argparse
import statistics
import sys
from collections import Counter
from typing import Any

# Targets on the 2-core development machine, as ratios from one run.
WARM_P50_TARGET = 0.15  # warm latency p50, of the bare loop's
THROUGHPUT_TARGET = 1.0  # at concurrency 4, of the bare loop's
RSS_TARGET_MIB = 100.0


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def say(text: str) -> None:
    sys.stdout.write(text + "\n")


def row(label: str, values: list[float], baseline: float, note: str = "") -> None:
    p50, p99 = quantile(values, 0.5), quantile(values, 0.99)
    say(
        f"  {label:<40} p50 {p50 * 1000:7.1f} ms   p99 {p99 * 1000:7.1f} ms"
        f"   x{p50 / baseline:.3f} of the bare loop{note}"
    )


def started(starts: Counter[str]) -> str:
    return f"  ({starts['warm']} warm, {starts['cold']} cold)"


def latency_rows(found: dict[str, Any], runtime: str, baseline: float) -> None:
    suffix = f", {runtime}" if runtime != "runc" else ""
    row(f"bare docker-py loop{suffix}", found["bare"], baseline)
    row(f"runner, warm pool{suffix}", found["warm"], baseline, started(found["warm_starts"]))
    row(f"runner, no pool{suffix}", found["cold"], baseline)


def throughput_rows(found: dict[int, dict[str, Any]], burst: int) -> None:
    say(f"throughput, {burst} tasks submitted at once (first hand-out to last Completed):")
    for level, figures in found.items():
        ratio = figures["runner"] / figures["bare"]
        say(
            f"  concurrency {level}: bare loop {figures['bare']:6.2f} tasks/s   runner with "
            f"pool {figures['runner']:6.2f} tasks/s   x{ratio:.2f}{started(figures['starts'])}"
        )
        if "hardened" in figures:
            ratio = figures["hardened"] / figures["bare"]
            say(
                f"  concurrency {level}: the loop with the runner's hardening "
                f"{figures['hardened']:6.2f} tasks/s   x{ratio:.2f}"
            )
    say("  CPU per task, ms: engine processes + the loop itself, or + runner + local server:")
    for level, figures in found.items():
        bare, run = figures["bare_cpu"], figures["runner_cpu"]
        text = (
            f"    concurrency {level}: bare loop {bare['engine']:4.0f} + {bare['here']:3.0f}"
            f"   runner {run['engine']:4.0f} + {run['other']:3.0f} + {run['here']:3.0f}"
        )
        if "hardened_cpu" in figures:
            hard = figures["hardened_cpu"]
            text += f"   hardened loop {hard['engine']:4.0f} + {hard['here']:3.0f}"
        say(text)


def memory_rows(results: dict[str, Any]) -> float:
    rss = max(
        [f["rss"] for f in results["throughput"].values()]
        + [results["runc"]["warm_rss"], results["runc"]["cold_rss"]]
    )
    say("memory:")
    say(f"  {'python importing docker, requests, jsonschema':<48}{results['base_rss']:7.1f} MiB")
    say(f"  {'runner, peak RSS (highest of its runs above)':<48}{rss:7.1f} MiB")
    for (image, runtime), cost in results["idle"].items():
        say(
            f"  idle warm container, {image} ({runtime}): "
            f"{cost['memory_mib']:.1f} MiB, {cost['pids']:.0f} processes"
        )
    return rss


def cli_rows(cli: dict[str, list[float]]) -> None:
    bare = statistics.median(cli["bare"])
    say(f"docker run -i --rm from the CLI, {len(cli['bare'])} one at a time (median):")
    for name, values in cli.items():
        middle = statistics.median(values)
        say(f"  {name:<12}{middle * 1000:7.0f} ms   x{middle / bare:.2f}")
    hardening = (statistics.median(cli["hardened"]) - bare) * 1000
    say(f"  hardening cost {hardening:+.0f} ms per task")
    if "gvisor" in cli:
        gvisor = (statistics.median(cli["gvisor"]) - statistics.median(cli["hardened"])) * 1000
        say(f"  gVisor cost {gvisor:+.0f} ms per task")


def target(name: str, value: float, limit: float, at_most: bool = True) -> None:
    met = value <= limit if at_most else value >= limit
    sign = "<=" if at_most else ">="
    say(f"  {name:<52} {value:8.3f} {sign} {limit:g}   {'met' if met else 'NOT MET'}")


def report(results: dict[str, Any], args: argparse.Namespace) -> None:
    before, after = results["load_before"], results["load_after"]
    say(
        f"{results['cores']} cores; load average (1, 5, 15 min) {before[0]:.1f} {before[1]:.1f} "
        f"{before[2]:.1f} before, {after[0]:.1f} {after[1]:.1f} {after[2]:.1f} after"
    )
    runc = results["runc"]
    baseline = quantile(runc["bare"], 0.5)
    say(f"latency, hand-out -> Completed of sample/simple, {args.tasks} one at a time:")
    latency_rows(runc, "runc", baseline)
    gvisor = results["gvisor"]
    if gvisor is not None:
        latency_rows(gvisor, "runsc", baseline)
    throughput_rows(results["throughput"], args.burst)
    rss = memory_rows(results)
    cli_rows(results["cli"])
    say("targets:")
    target("warm p50, of the bare loop's", quantile(runc["warm"], 0.5) / baseline, WARM_P50_TARGET)
    level4 = results["throughput"].get(4)
    if level4:
        ratio = level4["runner"] / level4["bare"]
        target("throughput at concurrency 4, of the bare loop's", ratio, THROUGHPUT_TARGET, False)
    target("runner peak RSS, MiB", rss, RSS_TARGET_MIB)
    if gvisor is not None:
        ratio = quantile(gvisor["warm"], 0.5) / baseline
        target("stretch: gVisor warm p50, of the bare runc loop's", ratio, 1.0)


if __name__ == "__main__":
    from scripts.scripthelp import part_of

    sys.exit(part_of(__doc__, "make bench"))

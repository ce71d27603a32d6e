"""`make bench`'s report: the figures, their ratios to the same run's baselines, the targets."""

from __future__ import annotations

import argparse
import statistics
import sys
from collections import Counter
from typing import Any

from scripts.bench_profile import PHASES

# Targets on the 2-core development machine, as ratios from one run.
WARM_P50_TARGET = 0.025  # warm latency p50, of the bare loop's
WARM_P99_TARGET = 2.0  # warm latency p99, of its own p50
THROUGHPUT_TARGET = 1.2  # at concurrency 4, of the bare loop's
RSS_TARGET_MIB = 100.0
# The throughput ratios of the release before (2026-12-05, quiet machine): no worse.
EARLIER_RATIOS = {1: 1.36, 4: 0.94, 8: 1.06}


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def say(text: str) -> None:
    sys.stdout.write(text + "\n")


def cell(values: list[float], baseline: float) -> str:
    p50, p99 = quantile(values, 0.5), quantile(values, 0.99)
    return f"p50 {p50 * 1000:6.1f} ms  p99 {p99 * 1000:6.1f} ms  x{p50 / baseline:.3f}"


def started(starts: Counter[str]) -> str:
    return f"({starts['warm']} warm, {starts['cold']} cold)"


def latency_rows(runc: dict[str, Any], gvisor: dict[str, Any] | None) -> None:
    """runc and runsc side by side; each runner row against the bare loop run beside it."""
    header = f"  {'':<22}{'runc':<44}"
    say(header + ("runsc (x: of the bare runsc loop)" if gvisor else ""))
    rows = (
        ("bare docker-py loop", "bare", "bare"),
        ("runner, warm pool", "warm", "warm_bare"),
        ("runner, no pool", "cold", "cold_bare"),
    )
    for label, key, beside in rows:
        text = f"  {label:<22}" + cell(runc[key], quantile(runc[beside], 0.5))
        if gvisor is not None:
            text += "   " + cell(gvisor[key], quantile(gvisor[beside], 0.5))
        say(text)
    starts = f"runc {started(runc['warm_starts'])}"
    if gvisor is not None:
        starts += f", runsc {started(gvisor['warm_starts'])}"
        ratio = quantile(gvisor["warm"], 0.5) / quantile(runc["warm_bare"], 0.5)
        starts += f"; runsc warm p50 x{ratio:.3f} of the bare runc loop"
    say(f"  warm starts: {starts}")


def breakdown_rows(runc: dict[str, Any], gvisor: dict[str, Any] | None) -> None:
    say("where a warm task's time goes (median ms of the profiled warm tasks above):")
    say(f"  {'':<14}{'runc':>7}{'runsc' if gvisor else '':>8}")
    for name, meaning in PHASES:
        text = f"  {name:<14}{runc['warm_breakdown'].get(name, 0.0):7.2f}"
        text += f"{gvisor['warm_breakdown'].get(name, 0.0):8.2f}" if gvisor else f"{'':8}"
        say(f"{text}   {meaning}")


def spread(values: list[float]) -> str:
    middle = statistics.median(values)
    return f"{middle:6.2f}" + (f" ({min(values):.2f}-{max(values):.2f})" if len(values) > 1 else "")


def throughput_rows(found: dict[int, dict[str, Any]], args: argparse.Namespace) -> float | None:
    """The rows; the engine's best (tasks/s) printed; the ratio at concurrency 4 returned."""
    say(
        f"throughput, {args.burst} tasks submitted at once (first hand-out to last Completed), "
        f"{args.rounds} round(s), the bare loop then the runner with its pool (size = level; "
        "its warm and cold starts counted over the rounds):"
    )
    for level, figures in found.items():
        if "runner" not in figures:
            continue
        rounds = [r / b for b, r in zip(figures["bare"], figures["runner"], strict=True)]
        say(
            f"  concurrency {level}: bare loop {spread(figures['bare'])} tasks/s   runner "
            f"{spread(figures['runner'])} tasks/s   x{spread(rounds)} by round "
            f"(before: {EARLIER_RATIOS.get(level, float('nan')):.2f})  {started(figures['starts'])}"
        )
        if "hardened" in figures:
            ratio = figures["hardened"] / statistics.median(figures["bare"])
            say(
                f"  concurrency {level}: the loop with the runner's hardening "
                f"{figures['hardened']:6.2f} tasks/s   x{ratio:.2f}"
            )
    best = {level: statistics.median(f["bare"]) for level, f in found.items()}
    top = max(best, key=lambda level: best[level])
    say(
        "  the engine's own best, the bare loop at concurrency "
        + ", ".join(f"{level}: {value:.2f}" for level, value in best.items())
        + f" tasks/s: {best[top]:.2f} (at {top})"
    )
    for level, figures in found.items():
        if "runner" in figures:
            fraction = statistics.median(figures["runner"]) / best[top]
            say(f"  runner at concurrency {level}: x{fraction:.2f} of the engine's best")
    cpu_rows(found)
    level4 = found.get(4, {})
    if "runner" not in level4:
        return None
    return min(r / b for b, r in zip(level4["bare"], level4["runner"], strict=True))


def cpu_rows(found: dict[int, dict[str, Any]]) -> None:
    say("  CPU per task (last round), ms: engine processes + the loop, or + runner + server:")
    for level, figures in found.items():
        if "runner_cpu" not in figures:
            continue
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
        [f["rss"] for f in results["throughput"].values() if "rss" in f]
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
    say(f"  {name:<56} {value:8.3f} {sign} {limit:g}   {'met' if met else 'NOT MET'}")


def report(results: dict[str, Any], args: argparse.Namespace) -> None:
    before, after = results["load_before"], results["load_after"]
    say(
        f"{results['cores']} cores; load average (1, 5, 15 min) {before[0]:.1f} {before[1]:.1f} "
        f"{before[2]:.1f} before, {after[0]:.1f} {after[1]:.1f} {after[2]:.1f} after; "
        f"the bench took {results['took_s'] / 60:.1f} min"
    )
    runc, gvisor = results["runc"], results["gvisor"]
    say(
        f"latency, hand-out -> Completed of sample/simple, {args.tasks} one at a time, each "
        "right after a task of the bare loop (x: p50 of the bare loop's p50 beside it):"
    )
    latency_rows(runc, gvisor)
    breakdown_rows(runc, gvisor)
    level4 = throughput_rows(results["throughput"], args)
    rss = memory_rows(results)
    cli_rows(results["cli"])
    say("targets:")
    warm_p50 = quantile(runc["warm"], 0.5)
    beside = quantile(runc["warm_bare"], 0.5)
    target("warm p50, of the bare loop's beside it", warm_p50 / beside, WARM_P50_TARGET)
    target("warm p99, of the warm p50", quantile(runc["warm"], 0.99) / warm_p50, WARM_P99_TARGET)
    if level4 is not None:
        name = "throughput at concurrency 4, of the bare loop's (worst round)"
        target(name, level4, THROUGHPUT_TARGET, at_most=False)
    target("runner peak RSS, MiB", rss, RSS_TARGET_MIB)
    if gvisor is not None:
        ratio = quantile(gvisor["warm"], 0.5) / quantile(runc["warm_bare"], 0.5)
        target("stretch: gVisor warm p50, of the bare runc loop's", ratio, 1.0)


if __name__ == "__main__":
    from scripts.scripthelp import part_of

    sys.exit(part_of(__doc__, "make bench"))

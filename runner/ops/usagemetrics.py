"""What tasks used, as Prometheus metrics: CPU and peak memory histograms and OOM kills, by
namespace and task (runner.core.usage says how each is measured)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

from runner.core.usage import Usage

# From a task that barely ran to the default task timeout of an hour on one CPU.
CPU_BUCKETS_S = (
    *(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    *(30.0, 60.0, 300.0, 900.0, 3600.0),
)
# Powers of two from 8 MiB (the smallest limit allowed is 6 MiB) to 64 GiB: a peak's bucket
# is the limit it would fit in.
MEMORY_BUCKETS_BYTES = tuple(float(2**power) for power in range(23, 37))


class UsageMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self._cpu = Histogram(
            "xc_runner_task_cpu_seconds",
            "CPU time (user + system) a task instance's container used, read from its cgroup "
            "(from the hand-out for a warm container, from its creation for a cold one)",
            ("namespace", "task"),
            buckets=CPU_BUCKETS_S,
            registry=registry,
        )
        self._memory = Histogram(
            "xc_runner_task_memory_peak_bytes",
            "Peak memory of a task instance's container, read from its cgroup (an OOM-killed "
            "one counts at its limit)",
            ("namespace", "task"),
            buckets=MEMORY_BUCKETS_BYTES,
            registry=registry,
        )
        self._oom_kills = Counter(
            "xc_runner_task_oom_kills",
            "Task instances whose container had a process killed by the kernel for memory",
            ("namespace", "task"),
            registry=registry,
        )

    def zero(self, namespace: str, task: str) -> None:
        """The task's series, at 0, once it first ran."""
        self._cpu.labels(namespace, task)
        self._memory.labels(namespace, task)
        self._oom_kills.labels(namespace, task)

    def observe(self, namespace: str, task: str, usage: Usage) -> None:
        if usage.cpu_s is not None:
            self._cpu.labels(namespace, task).observe(usage.cpu_s)
        if usage.memory_peak_bytes is not None:
            self._memory.labels(namespace, task).observe(usage.memory_peak_bytes)
        if usage.oom_killed:
            self._oom_kills.labels(namespace, task).inc()

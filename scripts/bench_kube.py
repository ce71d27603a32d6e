"""`make bench-k8s`: the Kubernetes engine beside the Docker engine, in one run, on one machine.

The runner as its own process, against the local server, on the sample image's trivial
task (sample/simple), once with `--engine docker` and once with `--engine kubernetes` on
the cluster of `make k8s-up`:

- cold latency: each task's hand-out by a poll (the server's takenAt) to its Completed
  status, one task at a time, without a warm pool (XC_RUNNER_POOL_SIZE=0);
- warm hand-out latency: the same with the warm pool (4 per image), the tasks paced so
  that the pool is full again before each one;
- throughput: a burst of tasks at concurrency 4, with the warm pool, from the first
  hand-out to the last Completed.

The machine's load average is printed first and last: figures from a busy machine are not
comparable; compare the engines within one run.

    python scripts/bench_kube.py [--tasks N] [--burst N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from runner.localserver import LocalServer  # noqa: E402 -- after the path is set
from runner.localserver.client import LocalClient  # noqa: E402
from scripts.bench_report import quantile  # noqa: E402
from scripts.bench_runner import stamp  # noqa: E402

KEY = "bench-key"
IMAGE = "xc-tasks/sample:latest"
KUBECONFIG = ROOT / "build" / "k8s" / "kubeconfig"
CONCURRENCY = 4
REFILL_S = {"docker": 1.5, "kubernetes": 4.0}  # pacing of the warm runs: the pool refills


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


@contextmanager
def runner(
    server: LocalServer, engine: str, pool: int, namespace: str
) -> Iterator[subprocess.Popen[bytes]]:
    state = Path(tempfile.mkdtemp(prefix="bench-kube-state-"))
    log = state / "runner.log"
    env = {
        **os.environ,
        "XC_SCENARIO_SERVER": server.url,
        "XC_SCENARIO_APIKEY": KEY,
        "XC_RUNNER_ID": f"bench-{uuid.uuid4().hex[:8]}",
        "XC_RUNNER_STATE_DIR": str(state),
        "XC_RUNNER_POLL_MAX_INTERVAL_S": "0.05",
        "XC_RUNNER_CONCURRENCY": str(CONCURRENCY),
        "XC_RUNNER_POOL_SIZE": str(pool),
        "XC_RUNNER_ENGINE": engine,
        "XC_RUNNER_KUBE_NAMESPACE": namespace,
        "XC_RUNNER_PULL": "never",
        "KUBECONFIG": str(KUBECONFIG),
    }
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "runner", "run", IMAGE], env=env, cwd=ROOT, stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        time.sleep(5 if pool == 0 else 5 + pool * REFILL_S[engine])  # up, catalog, pool
        if proc.poll() is not None:
            raise SystemExit(f"bench-k8s: the runner exited:\n{log.read_text()[-2000:]}")
        yield proc
    finally:
        proc.terminate()
        proc.wait(120)


def wait_done(
    client: LocalClient, ids: list[str], proc: subprocess.Popen[bytes], timeout_s: float = 600
) -> list[float]:
    """Each task's hand-out to Completed, in seconds, once all have ended."""
    deadline = time.monotonic() + timeout_s
    spans = []
    for instance_id in ids:
        while (view := client.instance(instance_id))["state"] not in ("Completed", "Error"):
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit(f"bench-k8s: task {instance_id} did not end")
            time.sleep(0.05)
        done = [s for s in view["statuses"] if s["status"] == "Completed"]
        if not done:
            raise SystemExit(f"bench-k8s: task {instance_id} failed: {view['statuses']}")
        spans.append((stamp(view["takenAt"]), stamp(done[-1]["receivedAt"])))
    return [end - start for start, end in spans]


def sequential(
    client: LocalClient, proc: subprocess.Popen[bytes], tasks: int, pace_s: float
) -> list[float]:
    latencies = []
    for _ in range(tasks):
        instance_id = client.submit("sample", "simple", {"arg": "x"})["id"]
        latencies += wait_done(client, [instance_id], proc)
        time.sleep(pace_s)
    return latencies


def burst(client: LocalClient, proc: subprocess.Popen[bytes], tasks: int) -> float:
    ids = [client.submit("sample", "simple", {"arg": "x"})["id"] for _ in range(tasks)]
    wait_done(client, ids, proc)
    views = [client.instance(i) for i in ids]
    first = min(stamp(v["takenAt"]) for v in views)
    last = max(stamp(v["statuses"][-1]["receivedAt"]) for v in views)
    return tasks / (last - first)


def measure(engine: str, tasks: int, size: int, namespace: str) -> dict[str, float]:
    figures: dict[str, float] = {}
    with (
        tempfile.TemporaryDirectory() as folder,
        LocalServer(Path(folder) / "scenario.db", port=0, api_key=KEY) as server,
    ):
        client = LocalClient(server.url, KEY)
        with runner(server, engine, 0, namespace) as proc:
            cold = sequential(client, proc, tasks, 0.2)
        with runner(server, engine, CONCURRENCY, namespace) as proc:
            warm = sequential(client, proc, tasks, REFILL_S[engine])
            throughput = burst(client, proc, size)
    figures["cold p50"], figures["cold p99"] = statistics.median(cold), quantile(cold, 0.99)
    figures["warm p50"], figures["warm p99"] = statistics.median(warm), quantile(warm, 0.99)
    figures["tasks/s at 4"] = throughput
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench_kube")
    parser.add_argument("--tasks", type=int, default=20)
    parser.add_argument("--burst", type=int, default=40)
    args = parser.parse_args()
    if not KUBECONFIG.exists():
        raise SystemExit("bench-k8s: no cluster: run `make k8s-up` first")
    namespace = f"xc-bench-{uuid.uuid4().hex[:6]}"
    kubectl = ["kubectl", f"--kubeconfig={KUBECONFIG}"]
    subprocess.run([*kubectl, "create", "namespace", namespace], check=True, timeout=30)
    time.sleep(2)  # its default service account
    sys.stdout.write(f"load average at start: {load()}\n")
    try:
        results = {
            e: measure(e, args.tasks, args.burst, namespace) for e in ("docker", "kubernetes")
        }
    finally:
        delete = [*kubectl, "delete", "namespace", namespace, "--wait=false"]
        subprocess.run(delete, timeout=30, check=False)
    sys.stdout.write(f"{'':16}{'docker':>10}{'kubernetes':>12}{'ratio':>8}\n")
    for name in results["docker"]:
        docker, kube = results["docker"][name], results["kubernetes"][name]
        unit = "" if "tasks" in name else " s"
        sys.stdout.write(f"{name + unit:16}{docker:10.3f}{kube:12.3f}{kube / docker:8.1f}\n")
    sys.stdout.write(f"load average at end: {load()}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

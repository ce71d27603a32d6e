"""`make bench`: the runner as its own process, against the local server.

Latency is a task's hand-out by a poll (the server's `takenAt`) to its
`Completed` status received by the server. With the warm pool on, the
sequential tasks are paced so that the pool is full again before each one (the
latency of a warm start); the log says how each task started.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import docker

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from runner.core.model import TERMINAL_STATUSES  # noqa: E402 -- after the path is set
from runner.engine.interface import LABEL_POOL, LABEL_RUNNER_ID  # noqa: E402
from runner.localserver import LocalServer  # noqa: E402
from runner.localserver.client import LocalClient  # noqa: E402

KEY = "bench-key"
_START = re.compile(r": started (warm|cold) in container")


def stamp(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


@dataclass
class RunnerUnderTest:
    client: LocalClient
    proc: subprocess.Popen[bytes]
    log_path: Path
    runner_id: str
    pool_size: int
    api: docker.APIClient  # one engine client for the whole run, closed by `runner()`
    _seen: int = 0  # the last status read from the server's feed

    def submit(self) -> str:
        return str(self.client.submit("sample", "simple", {"arg": "x"})["id"])

    def span(self, instance_id: str) -> tuple[float, float]:
        """(taken, completed) server timestamps of a finished instance."""
        view = self.client.instance(instance_id)
        done = [s for s in view["statuses"] if s["status"] == "Completed"]
        if not done:
            raise RuntimeError(f"task {instance_id} did not complete: {view}")
        return stamp(view["takenAt"]), stamp(done[-1]["receivedAt"])

    def wait_done(self, ids: Sequence[str], timeout_s: float = 600) -> None:
        """Until each of `ids` has its terminal status. The server's status feed is read
        (one long poll at a time), so that watching costs the machine next to nothing."""
        deadline = time.monotonic() + timeout_s
        pending = set(ids)
        while pending:
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError(f"{len(pending)} task(s) did not end; see {self.log_path}")
            page = self.client.statuses(self._seen, 1.0)
            for status in page["statuses"]:
                if status["status"] in TERMINAL_STATUSES:
                    pending.discard(status["taskInstanceId"])
            self._seen = page.get("last", self._seen)

    def wait_pool_full(self, timeout_s: float = 120) -> None:
        """Until exactly `pool_size` warm containers exist, all idle (used ones removed)."""
        if not self.pool_size:
            return
        deadline = time.monotonic() + timeout_s
        labels = [f"{LABEL_RUNNER_ID}={self.runner_id}", LABEL_POOL]
        while time.monotonic() < deadline:
            found = self.api.containers(all=True, filters={"label": labels})
            if len(found) == self.pool_size and all(c["State"] == "running" for c in found):
                return
            time.sleep(0.05)
        raise RuntimeError(f"the warm pool did not fill in {timeout_s} s")

    def one(self) -> tuple[float, float]:
        """One task, its (taken, completed) server timestamps; with the pool on, once the pool
        is full again (a warm start)."""
        self.wait_pool_full()
        instance_id = self.submit()
        self.wait_done([instance_id])
        return self.span(instance_id)

    def latencies(self, count: int) -> list[float]:
        """Hand-out -> Completed of `count` tasks one at a time, after one warm-up."""
        spans = [self.one() for _ in range(count + 1)][1:]
        return [done - taken for taken, done in spans]

    def throughput(self, count: int) -> float:
        """Tasks per second, `count` submitted at once: first hand-out to last Completed.
        The caller waits for a full pool first, before it starts metering CPU."""
        ids = [self.submit() for _ in range(count)]
        self.wait_done(ids)
        spans = [self.span(i) for i in ids]
        return len(ids) / (max(d for _, d in spans) - min(t for t, _ in spans))

    def starts(self) -> Counter[str]:
        return Counter(m.group(1) for m in _START.finditer(self.log_path.read_text()))

    def peak_rss_mib(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmHWM")


@contextmanager
def runner(
    image: str | Sequence[str],
    *,
    concurrency: int,
    pool_size: int,
    runtime: str = "",
    profile: Path | None = None,
) -> Iterator[RunnerUnderTest]:
    """The runner of `image` (or images; its log at INFO in a file) and a local server of its
    own; with `profile`, started through scripts/bench_profile.py, which writes its timers'
    calls there at exit."""
    images = [image] if isinstance(image, str) else list(image)
    with (
        tempfile.TemporaryDirectory() as tmp,
        LocalServer(Path(tmp) / "bench.db", port=0, api_key=KEY) as server,
        closing(docker.from_env().api) as api,
    ):
        runner_id = f"bench-{os.getpid()}-{time.monotonic_ns()}"
        env = {
            **os.environ,
            "XC_SCENARIO_SERVER": server.url,
            "XC_SCENARIO_APIKEY": KEY,
            "XC_RUNNER_ID": runner_id,
            "XC_RUNNER_STATE_DIR": str(Path(tmp) / "state"),
            "XC_RUNNER_POLL_MAX_INTERVAL_S": "0.05",
            "XC_RUNNER_CONCURRENCY": str(concurrency),
            "XC_RUNNER_POOL_SIZE": str(pool_size),
            "XC_RUNNER_RUNTIME": runtime,
            "XC_RUNNER_LOG_LEVEL": "INFO",
        }
        log_path = Path(tmp) / "runner.log"
        with log_path.open("wb") as log:
            start = ["scripts/bench_profile.py", str(profile)] if profile else ["-m", "runner"]
            proc = subprocess.Popen(
                [sys.executable, *start, "run", *images],
                env=env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        client = LocalClient(server.url, KEY)
        try:
            yield RunnerUnderTest(client, proc, log_path, runner_id, pool_size, api)
        finally:
            proc.terminate()
            proc.wait(60)


if __name__ == "__main__":
    from scripts.scripthelp import part_of

    sys.exit(part_of(__doc__, "make bench"))

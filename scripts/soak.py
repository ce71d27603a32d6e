"""`make soak`: many tasks through the runner, with its default settings, against the local
server; the runner's resources every 1,000 tasks, and whether they stayed bounded.

The runner runs as its own process (`xc-runner run xc-tasks/sample:latest`), configured
only with the server, the key, its id and a fresh state directory. Tasks (sample
simple) are kept queued a few at a time, so the runner is always busy. Every
`--every` tasks it prints the runner's resident memory (RSS), open descriptors and
threads, and the size of its state file (the SQLite database, and its write-ahead log
beside it). It fails (exit 1) when the RSS grew by `--max-rss-growth-mib` (5 MiB) or
more after the first report, or the state file reached `--max-state-bytes` (1 MB).

    python scripts/soak.py [--tasks N]    # or SOAK_TASKS=N make soak; default 20,000

At about 6.6 tasks/s on 2 cores, 20,000 tasks take about 50 minutes, and load both
cores: run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from runner.core.model import TERMINAL_STATUSES  # noqa: E402 -- after the path is set
from runner.localserver import LocalServer  # noqa: E402
from runner.localserver.client import LocalClient  # noqa: E402

IMAGE = "xc-tasks/sample:latest"
KEY = "soak-key"
BACKLOG = 16  # tasks kept queued ahead of the runner
MIB = 1024 * 1024


@dataclass(frozen=True)
class Sample:
    """The runner process and its state file, once."""

    tasks: int
    elapsed_s: float
    rss_mib: float
    descriptors: int
    threads: int
    state_bytes: int
    wal_bytes: int

    def line(self) -> str:
        rate = self.tasks / self.elapsed_s if self.elapsed_s else 0.0
        return (
            f"{self.tasks:>7} tasks {self.elapsed_s:>7.0f} s ({rate:4.1f}/s)  "
            f"RSS {self.rss_mib:6.1f} MiB  fds {self.descriptors:3}  threads {self.threads:3}  "
            f"state {self.state_bytes / 1000:7.1f} kB (WAL {self.wal_bytes / 1000:.1f} kB)"
        )


def say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def process_status(pid: int) -> dict[str, str]:
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        found[name] = value.strip()
    return found


def sample(pid: int, state_dir: Path, tasks: int, elapsed_s: float) -> Sample:
    status = process_status(pid)
    databases = list(state_dir.glob("*.db"))
    return Sample(
        tasks=tasks,
        elapsed_s=elapsed_s,
        rss_mib=int(status["VmRSS"].split()[0]) / 1024,
        descriptors=len(os.listdir(f"/proc/{pid}/fd")),
        threads=int(status["Threads"]),
        state_bytes=sum(path.stat().st_size for path in databases),
        wal_bytes=sum(
            wal.stat().st_size for path in databases if (wal := Path(f"{path}-wal")).exists()
        ),
    )


@contextmanager
def runner_process(url: str, state_dir: Path, log_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """The runner with its defaults, bar where its platform and its state are."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("XC_RUNNER_", "XC_SCENARIO"))},
        "XC_SCENARIO_SERVER": url,
        "XC_SCENARIO_APIKEY": KEY,
        "XC_RUNNER_ID": f"soak-{os.getpid()}",
        "XC_RUNNER_STATE_DIR": str(state_dir),
    }
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "runner", "run", IMAGE],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        yield proc
    finally:
        proc.terminate()
        proc.wait(90)


class Feeder:
    """Keeps BACKLOG tasks queued until `total` were submitted; counts those that ended."""

    def __init__(self, client: LocalClient, total: int) -> None:
        self.client = client
        self.total = total
        self.submitted = 0
        self.ended = 0
        self.errors = 0
        self._seen = 0

    def step(self) -> None:
        while self.submitted < self.total and self.submitted - self.ended < BACKLOG:
            self.client.submit("sample", "simple", {"arg": "soak"})
            self.submitted += 1
        page = self.client.statuses(self._seen, 1.0)
        for status in page["statuses"]:
            if status["status"] in TERMINAL_STATUSES:
                self.ended += 1
                self.errors += status["status"] != "Completed"
        self._seen = page.get("last", self._seen)


def soak(total: int, every: int, tmp: Path) -> list[Sample]:
    state_dir = tmp / "state"
    log_path = tmp / "runner.log"
    samples: list[Sample] = []
    with (
        LocalServer(tmp / "soak.db", port=0, api_key=KEY) as server,
        runner_process(server.url, state_dir, log_path) as proc,
    ):
        feeder = Feeder(LocalClient(server.url, KEY), total)
        started = time.monotonic()
        next_report = every
        while feeder.ended < total:
            if proc.poll() is not None:
                raise SystemExit(f"the runner exited ({proc.returncode}); see {log_path}")
            feeder.step()
            if feeder.ended >= next_report or feeder.ended >= total:
                samples.append(
                    sample(proc.pid, state_dir, feeder.ended, time.monotonic() - started)
                )
                say(samples[-1].line())
                next_report += every
        if feeder.errors:
            say(f"{feeder.errors} task(s) ended in Error; see {log_path}")
    return samples


def verdict(samples: list[Sample], max_growth_mib: float, max_state_bytes: int) -> list[str]:
    """What went over its bound, one line each."""
    if not samples:
        return ["no sample was taken"]
    first = samples[0]
    problems = []
    peak = max(samples, key=lambda s: s.rss_mib)
    growth = peak.rss_mib - first.rss_mib
    say(
        f"RSS after {first.tasks} tasks {first.rss_mib:.1f} MiB, highest {peak.rss_mib:.1f} MiB "
        f"(after {peak.tasks}): grew {growth:+.1f} MiB (bound {max_growth_mib:g} MiB)"
    )
    if growth >= max_growth_mib:
        problems.append(f"the runner's RSS grew by {growth:.1f} MiB after {first.tasks} tasks")
    largest = max(s.state_bytes for s in samples)
    say(f"largest state file {largest / 1000:.1f} kB (bound {max_state_bytes / 1000:g} kB)")
    if largest >= max_state_bytes:
        problems.append(f"the state file reached {largest} bytes")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=int(os.environ.get("SOAK_TASKS", "20000")))
    parser.add_argument("--every", type=int, default=1000)
    parser.add_argument("--max-rss-growth-mib", type=float, default=5.0)
    parser.add_argument("--max-state-bytes", type=int, default=1_000_000)
    args = parser.parse_args()
    if args.tasks < args.every:
        parser.error(f"--tasks ({args.tasks}) must be at least --every ({args.every})")
    say(f"soak: {args.tasks} tasks of {IMAGE}; load average {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="xc-soak-") as tmp:
        samples = soak(args.tasks, args.every, Path(tmp))
    say(f"load average {os.getloadavg()[0]:.2f}")
    problems = verdict(samples, args.max_rss_growth_mib, args.max_state_bytes)
    for problem in problems:
        say(f"FAIL: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

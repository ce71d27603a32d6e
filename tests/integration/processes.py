"""Running the runner the way users do: as its own process; watching its tasks on the local
server."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from runner.core.model import TERMINAL_STATUSES
from runner.localserver.client import LocalClient
from tests.conftest import REPO, runner_containers


class RunnerProcess:
    def __init__(self, proc: subprocess.Popen[bytes], log_path: Path) -> None:
        self.proc = proc
        self.log_path = log_path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout_s: float = 60) -> int:
        """SIGTERM, as an orchestrator would; the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout_s)


def terminate(proc: subprocess.Popen[bytes], grace_s: float) -> None:
    """If it still runs: SIGTERM, then SIGKILL if it has not exited within `grace_s`."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(grace_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


@contextmanager
def runner_process(
    server_url: str,
    api_key: str,
    images: Sequence[str],
    runner_id: str,
    *args: str,
    env: dict[str, str] | None = None,
) -> Iterator[RunnerProcess]:
    state_dir = tempfile.mkdtemp(prefix="runner-state-")  # unless the test gives its own
    environ = {
        **os.environ,
        "XC_RUNNER_STATE_DIR": state_dir,
        "XC_SCENARIO_SERVER": server_url,
        "XC_SCENARIO_APIKEY": api_key,
        "XC_RUNNER_ID": runner_id,
        "XC_RUNNER_POLL_MAX_INTERVAL_S": "0.2",
        **(env or {}),
    }
    with tempfile.NamedTemporaryFile(prefix="runner-", suffix=".log", delete=False) as log:
        log_path = Path(log.name)
        proc = subprocess.Popen(
            [sys.executable, "-m", "runner", "run", *images, *args],
            env=environ,
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    runner = RunnerProcess(proc, log_path)
    try:
        yield runner
    finally:
        terminate(proc, 30)  # a test that failed: stop it as an orchestrator would
        log_path.unlink(missing_ok=True)
        shutil.rmtree(state_dir, ignore_errors=True)


def wait_for(
    predicate: Callable[[], bool], timeout_s: float, what: str, runner: RunnerProcess | None = None
) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if runner is not None and runner.proc.poll() is not None:
            raise AssertionError(
                f"the runner exited ({runner.proc.returncode}) while waiting "
                f"for {what}:\n{runner.log()}"
            )
        if time.monotonic() > deadline:
            log = runner.log() if runner else ""
            raise AssertionError(f"timed out waiting for {what}\n{log}")
        time.sleep(0.05)


_START = re.compile(r"(\S+#\S+): started (warm|cold) in container ([0-9a-f]+)")


def task_starts(log: str) -> dict[str, tuple[str, str]]:
    """From the runner's log: each task's ref -> ("warm" or "cold", its container's short id)."""
    return {m.group(1): (m.group(2), m.group(3)) for m in _START.finditer(log)}


def container_of(log: str, instance_id: str) -> str | None:
    """The short id of the container the runner handed a task instance to, if it did yet."""
    for ref, (_, container) in task_starts(log).items():
        if ref.endswith(f"#{instance_id}"):
            return container
    return None


def warm_ready(runner_id: str, count: int) -> Callable[[], bool]:
    """Whether `count` warm containers of the runner run (before any task: all idle)."""
    return lambda: len(runner_containers(runner_id, running=True, warm=True)) >= count


def ended(client: LocalClient, *ids: str) -> bool:
    """Whether every one of the task instances is in a terminal state on the local server."""
    return all(client.instance(i)["state"] in TERMINAL_STATUSES for i in ids)


def brief(view: dict[str, Any]) -> list[tuple[Any, ...]]:
    """A task instance's statuses (the local server's view of it), without their times."""
    return [
        (s["status"], s["message"], s["progressPercentage"], s["outputValues"])
        for s in view["statuses"]
    ]

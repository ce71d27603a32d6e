"""`make run` as a new user runs it: from a machine where no engine runs yet, then Ctrl-C.

The engine `make run` starts must outlive the demo: dockerd stops on SIGINT, so an
engine started in the terminal's process group would stop with the user's Ctrl-C.
This test stops the machine's engine first, so it runs only where that is allowed:
under CI=true (the engine is the one the project's own set-up started), or with
XC_TESTS_MAY_STOP_ENGINE=1.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import IN_CI, REPO, free_port, runner_containers

MAY_STOP_ENGINE = IN_CI or os.environ.get("XC_TESTS_MAY_STOP_ENGINE") == "1"


def engine_answers() -> bool:
    return (
        subprocess.run(["docker", "info"], capture_output=True, timeout=30, check=False).returncode
        == 0
    )


def dockerd_pids() -> list[int]:
    found = subprocess.run(["pidof", "dockerd"], capture_output=True, text=True, check=False)
    return [int(pid) for pid in found.stdout.split()]


def stop_engine() -> None:
    for pid in dockerd_pids():
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 60
    while dockerd_pids() or engine_answers():
        assert time.monotonic() < deadline, "the engine did not stop"
        time.sleep(0.5)


def read_until(make: subprocess.Popen[str], lines: list[str], done: int, timeout_s: float) -> None:
    """Read make's output until `done` tasks ended."""
    assert make.stdout is not None
    deadline = time.monotonic() + timeout_s
    while sum(" Completed " in line or " Error " in line for line in lines) < done:
        assert time.monotonic() < deadline, "".join(lines)
        line = make.stdout.readline()
        assert line, "make run ended early:\n" + "".join(lines)
        lines.append(line)


@pytest.mark.timeout(600)
@pytest.mark.skipif(
    not MAY_STOP_ENGINE, reason="stops the engine: runs under CI=true or XC_TESTS_MAY_STOP_ENGINE=1"
)
def test_ctrl_c_on_make_run_stops_the_demo_not_the_engine(
    tmp_path: Path, task_images: list[str], runner_id: str
) -> None:
    stop_engine()
    env = {
        **os.environ,
        "XC_RUNNER_ID": runner_id,
        "XC_LOCAL_DB": str(tmp_path / "demo.db"),
        "XC_LOCAL_PORT": str(free_port()),
        "XC_STATE_DIR": str(tmp_path),  # where the engine's log goes
    }
    env.pop("XC_SCENARIO_SERVER", None)
    # As in a terminal: make and what it starts share a process group, which Ctrl-C signals.
    make = subprocess.Popen(
        ["make", "run"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    try:
        read_until(make, lines, done=3, timeout_s=420)
        os.killpg(make.pid, signal.SIGINT)
        assert make.stdout is not None
        lines += make.stdout.readlines()
        make.wait(120)
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGKILL)
            make.wait()
        assert make.stdout is not None
        make.stdout.close()
    output = "".join(lines)
    assert "set-up: engine" in output and "dockerd started" in output, output
    assert "set-up: done in " in output, "no step times at the end of the set-up"
    assert "stopping: letting running tasks finish" in output
    # make reports a recipe's non-zero exit as "Error N"; the demo exited 0.
    assert "] Error" not in output, output
    assert engine_answers(), "the engine stopped with the demo"
    assert runner_containers(runner_id) == []

"""`xc-runner exec` as a task author or a CI job meets it: the real command, the real sample
images, a real engine; its exit codes, its stdout and its stderr."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import docker
import pytest

from runner.engine.interface import LABEL_RUNNER_ID
from tests.conftest import NODE_IMAGE, REPO, SAMPLE_IMAGE, user_environment, xc_runner

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module", autouse=True)
def _images(task_images: list[str]) -> None:
    """The sample images are built (`make images`), or the module is skipped."""


def home(folder: Path) -> dict[str, str]:
    """A CI job's home of its own (to see that nothing is written), on top of no XC_
    settings (conftest.user_environment)."""
    return {"HOME": str(folder), "XDG_STATE_HOME": str(folder / "state")}


def xc_exec(tmp_path: Path, *argv: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return xc_runner("exec", *argv, env=home(tmp_path), stdin=stdin, timeout_s=120)


def exec_containers() -> list[str]:
    """Containers of any exec run (their runner ids are xc-exec-<random>)."""
    client = docker.from_env()
    try:
        found = client.api.containers(all=True, filters={"label": LABEL_RUNNER_ID})
    finally:
        client.close()
    return [c["Id"] for c in found if c["Labels"][LABEL_RUNNER_ID].startswith("xc-exec-")]


def test_a_completed_task_prints_its_outputs_as_json_and_exits_0(tmp_path: Path) -> None:
    done = xc_exec(tmp_path, SAMPLE_IMAGE, "sample/double", "str_in=ab", "nbr_in=21")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"str_out": "abab", "nbr_out": "42"}
    assert done.stdout.count("\n") == 1
    assert "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []  # no state directory, nothing written
    assert exec_containers() == []


def test_progress_goes_to_stderr_as_it_arrives(tmp_path: Path) -> None:
    done = xc_exec(tmp_path, SAMPLE_IMAGE, "sample/reporting_task", "n=2", "param=ci")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"result": 'Input "ci", result is ok'}
    lines = done.stderr.splitlines()
    assert lines[0] == '[  0%] Input "ci": going to sleep for 2 seconds.'
    assert "[ 50%] 1" in lines and "[100%] 2" in lines


def test_a_task_in_another_language_runs_the_same_way(tmp_path: Path) -> None:
    done = xc_exec(tmp_path, NODE_IMAGE, "textstats/word_count", "text=one two\nthree")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"words": "3", "lines": "2", "characters": "13"}


def test_a_task_error_prints_its_message_on_stderr_and_exits_1(tmp_path: Path) -> None:
    done = xc_exec(tmp_path, SAMPLE_IMAGE, "sample/zero_division")
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.strip() == "Error: ZeroDivisionError: division by zero"
    assert exec_containers() == []


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (
            [SAMPLE_IMAGE, "sample/nope"],
            "unknown task sample/nope: the image declares sample/simple, sample/double",
        ),
        ([SAMPLE_IMAGE, "sample/simple"], "invalid inputs for sample/simple: input: missing 'arg'"),
        (
            [SAMPLE_IMAGE, "sample/simple", "arg=x", "extra=1"],
            "invalid inputs for sample/simple: input: not declared: 'extra'",
        ),
        ([SAMPLE_IMAGE, "simple", "arg=x"], "the task must be given as NAMESPACE/TASK"),
        ([SAMPLE_IMAGE, "sample/simple", "arg"], "input 'arg' is not NAME=VALUE"),
        ([SAMPLE_IMAGE, "sample/simple", "--input-json", "/no/such.json"], "cannot read"),
    ],
)
def test_bad_usage_is_named_exits_2_and_starts_no_container(
    argv: list[str], says: str, tmp_path: Path
) -> None:
    before = time.time()
    done = xc_exec(tmp_path, *argv)
    assert done.returncode == 2, done.stderr
    assert says in done.stderr
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    assert containers_created_since(before) == []


def containers_created_since(since: float) -> list[str]:
    """Containers of exec runs created since `since` (a time.time())."""
    client = docker.from_env()
    try:
        events = client.api.events(
            since=since,
            until=time.time(),
            filters={"type": "container", "event": "create", "image": SAMPLE_IMAGE},
            decode=True,
        )
        return [
            event["id"]
            for event in events
            if event["Actor"]["Attributes"].get(LABEL_RUNNER_ID, "").startswith("xc-exec-")
        ]
    finally:
        client.close()


def test_inputs_from_a_json_file_and_stdin_with_pairs_winning(tmp_path: Path) -> None:
    inputs = tmp_path / "inputs.json"
    inputs.write_text(json.dumps({"str_in": "ab", "nbr_in": "1"}))
    from_file = xc_exec(tmp_path, SAMPLE_IMAGE, "sample/double", "--input-json", str(inputs))
    assert json.loads(from_file.stdout) == {"str_out": "abab", "nbr_out": "2"}
    both = xc_exec(
        tmp_path,
        SAMPLE_IMAGE,
        "sample/double",
        "nbr_in=5",
        "--input-json",
        "-",
        stdin=json.dumps({"str_in": "c", "nbr_in": "1"}),
    )
    assert both.returncode == 0, both.stderr
    assert json.loads(both.stdout) == {"str_out": "cc", "nbr_out": "10"}
    typed = xc_exec(
        tmp_path, SAMPLE_IMAGE, "sample/simple", "--input-json", "-", stdin='{"arg": 5}'
    )
    assert typed.returncode == 2
    assert "input.arg: 5 is not a string" in typed.stderr
    not_object = xc_exec(tmp_path, SAMPLE_IMAGE, "sample/simple", "--input-json", "-", stdin="[]")
    assert not_object.returncode == 2
    assert "--input-json: stdin must hold a JSON object" in not_object.stderr


def test_an_image_that_does_not_exist_is_named_and_exits_3(tmp_path: Path) -> None:
    done = xc_exec(tmp_path, "xc-test/no-such-image:latest", "sample/simple", "arg=x")
    assert done.returncode == 3
    assert done.stderr.strip() == (
        "xc-runner exec: image xc-test/no-such-image:latest not found in the engine "
        "(build it first)"
    )


def test_the_policy_of_run_applies(tmp_path: Path) -> None:
    config = tmp_path / "policy.toml"
    config.write_text('[defaults]\nmax_result_bytes = "1k"\n')
    done = xc_exec(
        tmp_path, SAMPLE_IMAGE, "sample/simple", "arg=" + "x" * 2000, "--config", str(config)
    )
    assert done.returncode == 1
    assert "result too large" in done.stderr
    bad = xc_exec(tmp_path, SAMPLE_IMAGE, "sample/simple", "arg=x", "--memory", "lots")
    assert bad.returncode == 2  # a bad setting: a bad command line
    assert "--memory: not a size: 'lots'" in bad.stderr


def test_sigterm_stops_the_task_removes_its_container_and_exits_130(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "runner",
            "exec",
            SAMPLE_IMAGE,
            "sample/reporting_task",
            "n=30",
            "param=x",
        ],
        cwd=REPO,
        env=user_environment(home(tmp_path)),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        first = process.stderr.readline()  # the task's first progress: it runs
        assert "going to sleep for 30 seconds" in first
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130, stderr
    assert "Error: the runner shut down before the task finished" in stderr
    assert exec_containers() == []

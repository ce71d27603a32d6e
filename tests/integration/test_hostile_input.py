"""The third round of bad input, through the command line and real containers: a task that
notifies as fast as it can, catalogs whose regexes or nesting once broke `check` or every
task, and the sample configuration as shipped."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from runner.core.catalog import CATALOG_LABEL
from runner.core.examples import EXAMPLES_LABEL
from runner.engine.docker_engine import DockerEngine
from tests.conftest import REPO, build_image, build_test_image, free_port, xc_runner

pytestmark = pytest.mark.integration

HOSTILE = REPO / "tests" / "images" / "hostile"


@pytest.fixture(scope="module")
def hostile_image(engine: DockerEngine) -> str:
    return build_test_image("hostile", "xc-test/hostile-input:latest")


def labelled(tag: str, catalog: Any, examples: Any = None) -> str:
    """The hostile image with these labels (the catalog given as text when it is one)."""
    labels = {CATALOG_LABEL: catalog if isinstance(catalog, str) else json.dumps(catalog)}
    if examples is not None:
        labels[EXAMPLES_LABEL] = json.dumps(examples)
    build_image(HOSTILE, tag, labels)
    return tag


def normal_task(regex: str) -> list[dict[str, Any]]:
    text = {"name": "text", "baseType": "String", "customRegex": regex}
    return [
        {
            "namespace": "hostile",
            "name": "normal",
            "schemaVersion": 0,
            "inputs": [text],
            "outputs": [{"name": "text"}],
        }
    ]


def task_seconds(image: str, kind: str) -> float:
    """How long the runner took for a burst task, from its hand-out to its end (its log)."""
    done = xc_runner("exec", image, "hostile/burst", f"kind={kind}", "--log-level", "INFO")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"done": "yes"}
    [took] = re.findall(r"hostile/burst#\S+: Completed in ([0-9.]+) s", done.stderr)
    return float(took)


def test_100000_progress_lines_cost_the_task_what_log_lines_cost(hostile_image: str) -> None:
    # At 4,000 progress lines a second, 100,000 took 25 s where log lines took 2.5 s.
    log_s = min(task_seconds(hostile_image, "log") for _ in range(2))
    progress_s = min(task_seconds(hostile_image, "progress") for _ in range(2))
    print(f"\n100,000 lines and a result: log {log_s:.2f} s, progress {progress_s:.2f} s")
    assert progress_s < 1.5 * log_s + 0.5


def test_check_says_its_results_and_nothing_else(engine: DockerEngine) -> None:
    # (?i) once failed every task ('global flags not at the start'); [[ made Python's
    # parser print FutureWarning lines, with source paths, among check's results.
    examples = [
        {"task": "normal", "inputs": {"text": "Ab[c"}, "expect": {"status": "Completed"}},
        {"task": "normal", "inputs": {"text": "ab1"}, "expect": {"status": "Error"}},
    ]
    image = labelled("xc-test/hostile-regex:latest", normal_task("(?i)[[a-z]+"), examples)
    done = xc_runner("check", image, timeout_s=180)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr == ""
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    allowed = (image, "  ok    ", "image ", f"{image} ")
    assert all(line.startswith(allowed) for line in lines), done.stdout
    ran = xc_runner("exec", image, "hostile/normal", "text=ABC[", timeout_s=120)
    assert (ran.returncode, json.loads(ran.stdout)) == (0, {"text": "ABC["}), ran.stderr


def one_line(done: subprocess.CompletedProcess[str], code: int) -> str:
    assert done.returncode == code, done.stdout + done.stderr
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if " ERROR " in line]
    assert len(errors) == 1, done.stderr
    return errors[0]


def test_a_deep_label_or_a_long_regex_is_one_line_not_an_internal_error(
    engine: DockerEngine, tmp_path: Path
) -> None:
    deep = labelled("xc-test/hostile-deep:latest", "[" * 5000 + "]" * 5000)
    checked = xc_runner("check", deep, timeout_s=120)
    assert checked.returncode == 1 and "internal error" not in checked.stderr
    assert (
        "FAIL  label xc-scenario.catalog: nested deeper than the limit of 64 levels"
        in checked.stdout
    )
    port = free_port()
    run = xc_runner(
        "run",
        deep,
        "--server",
        f"http://127.0.0.1:{port}",
        "--api-key",
        "k",
        "--state-dir",
        str(tmp_path),
        timeout_s=120,
    )
    assert "label xc-scenario.catalog is nested deeper than the limit of 64" in one_line(run, 3)
    long = labelled("xc-test/hostile-longregex:latest", normal_task("a" * 200_000))
    checked = xc_runner("check", long, timeout_s=120)
    [fail] = [line for line in checked.stdout.splitlines() if "FAIL  " in line]
    assert "(hostile/normal) input 'text'" in fail
    assert "it is 200,000 characters long, over the limit of 4,096" in fail

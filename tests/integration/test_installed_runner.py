"""A runner installed with pip is complete, and docs/tasks/first-image.md is what a new
task author can follow: every command of that page runs here as written, in an empty
folder outside any checkout, with the runner's wheel (`make dist`) installed by pip in a
fresh virtual environment (not the editable one). For each language: `new`, the unit
test (with no container engine reachable), `build`, `check` and `exec`; then the local
server with a runner; then the sample CI workflow (examples/task-repository-ci.yml) on a
repository of task images."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from runner.cli.scaffold import LANGUAGES, TEST_COMMANDS
from runner.engine.docker_engine import DockerEngine
from tests.conftest import (
    REPO,
    free_port,
    missing_set_up,
    remove_images,
    run_as_user,
    unavailable,
)

pytestmark = pytest.mark.integration

PAGE = REPO / "docs" / "tasks" / "first-image.md"
WORKFLOW = REPO / "examples" / "task-repository-ci.yml"
INSTALL_TIMEOUT_S = 600
TOOLS = {"go": "go", "node": "node", "python": "python3", "sh": "jq"}
NO_ENGINE = "unix:///nonexistent/xc-no-engine.sock"
PAGE_NAMES = re.compile(r"\bhello-(py|go|node|sh)\b")  # the page's folders and namespaces


@dataclass(frozen=True)
class Installed:
    bin: Path  # the virtual environment's bin/, first on the PATH of every command
    wheel: Path


def _run(
    argv: list[str], cwd: Path, env: dict[str, str] | None = None, timeout_s: float = 900
) -> subprocess.CompletedProcess[str]:
    return run_as_user(argv, cwd, env, timeout_s=timeout_s)


def _installed(step: subprocess.CompletedProcess[str], what: str) -> None:
    if step.returncode != 0:
        unavailable(f"cannot {what}: {(step.stdout + step.stderr)[-2000:]}")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """The page's installation: `make dist`, a fresh virtual environment, and pip
    installing the wheel and pytest in it."""
    work = tmp_path_factory.mktemp("installed")
    dist = _run(["make", "-C", str(REPO), "dist"], work, timeout_s=INSTALL_TIMEOUT_S)
    _installed(dist, "make dist")
    wheel = next((REPO / "build" / "dist").glob("xc_scenario_runner-*.whl"))
    shutil.copy(wheel, work)
    _installed(_run(["python3", "-m", "venv", str(work / "venv")], work), "make a venv")
    bin_dir = work / "venv" / "bin"
    install = [str(bin_dir / "python"), "-m", "pip", "install", "--quiet", str(wheel), "pytest"]
    _installed(_run(install, work, timeout_s=INSTALL_TIMEOUT_S), "pip install the wheel")
    return Installed(bin_dir, work / wheel.name)


def _shell(
    script: str, cwd: Path, installed: Installed, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """`script` run by bash -e with the installed runner first on the PATH; whatever it
    left running in the background is stopped at its end."""
    prelude = "set -e\ntrap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n"
    path = f"{installed.bin}{os.pathsep}{os.environ.get('PATH', '')}"
    return _run(["bash", "-c", prelude + script], cwd, {**env, "PATH": path})


def page_blocks() -> dict[str, str]:
    """The page's sh blocks marked `<!-- test: LANGUAGE -->`, joined by language."""
    blocks: dict[str, str] = {}
    text = PAGE.read_text()
    for language, block in re.findall(r"<!-- test: (\w+) -->\n```sh\n(.*?)```", text, re.S):
        blocks[language] = blocks.get(language, "") + block
    return blocks


def test_the_installed_runner_is_the_wheels_not_the_checkouts(
    installed: Installed, tmp_path: Path
) -> None:
    code = "import runner, runner.sdk as s; print(runner.__file__, s.root(), s.version())"
    where = _run([str(installed.bin / "python"), "-c", code], tmp_path)
    package, sdk_root, version = where.stdout.split()
    assert Path(package).is_relative_to(installed.bin.parent), package
    assert Path(sdk_root) == Path(package).parent / "_sdk"
    assert version == (REPO / "task_images" / "sdk" / "VERSION").read_text().strip()
    said = _run([str(installed.bin / "xc-runner"), "--version"], tmp_path).stdout
    assert said.endswith(f" (task SDKs {version}, protocol 1)\n"), said


def test_the_page_has_a_block_for_each_language() -> None:
    assert sorted(page_blocks()) == sorted(LANGUAGES)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_pages_commands_from_an_empty_folder(
    language: str, installed: Installed, tmp_path: Path, engine: DockerEngine
) -> None:
    """new, the unit test with no engine reachable, build, check, exec (and, in Python,
    the local server and a runner), each as the page writes it."""
    if shutil.which(TOOLS[language]) is None:
        unavailable(f"{TOOLS[language]} is not installed (make toolchains)")
    setup = missing_set_up()
    if setup is not None:
        unavailable(setup)
    name = f"xc-test-{uuid.uuid4().hex[:8]}-{language}"
    port = free_port()
    script = PAGE_NAMES.sub(name, page_blocks()[language]).replace("8077", str(port))
    unit_test = re.compile(rf"^{re.escape(TEST_COMMANDS[language])}", re.M)
    script, unit_tests = unit_test.subn(f"DOCKER_HOST={NO_ENGINE} \\g<0>", script)
    assert unit_tests == 1, f"the page's {language} block runs no unit test"
    try:
        done = _shell(script, tmp_path, installed, {"XC_LOCAL_PORT": str(port)})
        assert done.returncode == 0, done.stdout + done.stderr
    finally:
        remove_images(f"xc-tasks/{name}:latest", force=True)
    assert f"created {name}/ ({language}, SDK " in done.stdout
    assert f"built xc-tasks/{name}:latest (" in done.stdout
    assert f"xc-tasks/{name}:latest  1 task  1/1 passed  passed" in done.stdout
    assert '{"greeting": "Hello, you! Hello, you!"}\n' in done.stdout
    if language == "python":  # the local server's block
        assert re.search(rf"{name}/hello \S+ Completed +\{{\"greeting\"", done.stdout), done.stdout


def test_the_sample_ci_workflow_on_a_repository_of_task_images(
    installed: Installed, tmp_path: Path, engine: DockerEngine
) -> None:
    """Its `run` steps, in order, as GitHub's runner runs them (bash -e), with the local
    bases and the wheel: on a repository of one task image and a folder of notes."""
    setup = missing_set_up()
    if setup is not None:
        unavailable(setup)
    name = f"xc-test-{uuid.uuid4().hex[:8]}-ci"
    created = _shell(f"xc-runner new sh {name}", tmp_path, installed, {})
    assert created.returncode == 0, created.stderr
    (tmp_path / "notes").mkdir()
    job = yaml.safe_load(WORKFLOW.read_text())["jobs"]["images"]
    steps = [step["run"] for step in job["steps"] if "run" in step]
    env = {"XC_RUNNER": str(installed.wheel), "XC_BASE": "local"}
    try:
        for step in steps:
            done = _shell(step, tmp_path, installed, env)
            assert done.returncode == 0, step + done.stdout + done.stderr
    finally:
        remove_images(f"xc-tasks/{name}:latest", force=True)
    assert f"xc-tasks/{name}:latest  1 task  1/1 passed  passed" in done.stdout

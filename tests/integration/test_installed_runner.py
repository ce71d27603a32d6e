"""A runner installed with pip is complete: from an empty folder outside any checkout, for
each language, `xc-runner new` writes a task image folder whose unit test passes with no
container engine reachable, and whose image `build`, `check` and `exec` take to a
Completed task. The wheel is built from this checkout (as `make dist` builds it) and
installed by pip into a virtual environment of its own, not the editable one."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from runner.cli.scaffold import LANGUAGES, TEST_COMMANDS
from runner.engine.docker_engine import DockerEngine
from tests.conftest import REPO, missing_set_up, remove_images, unavailable, user_environment

pytestmark = pytest.mark.integration

INSTALL_TIMEOUT_S = 600
TOOLS = {"go": "go", "node": "node", "python": "python3", "sh": "jq"}
NO_ENGINE = "unix:///nonexistent/xc-no-engine.sock"


def _run(
    argv: list[str], cwd: Path, env: dict[str, str] | None = None, timeout_s: float = 600
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv,
        cwd=cwd,
        env=user_environment(env),
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin/ folder of a fresh virtual environment with the runner's wheel installed."""
    work = tmp_path_factory.mktemp("installed")
    steps = [
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(work), str(REPO)],
        [sys.executable, "-m", "venv", str(work / "venv")],
    ]
    for step in steps:
        done = _run(step, work, timeout_s=INSTALL_TIMEOUT_S)
        if done.returncode != 0:
            unavailable(f"cannot make the wheel or the environment: {done.stderr[-2000:]}")
    wheel = next(work.glob("xc_scenario_runner-*.whl"))
    bin_dir = work / "venv" / "bin"
    done = _run(
        [str(bin_dir / "python"), "-m", "pip", "install", "--quiet", str(wheel)],
        work,
        timeout_s=INSTALL_TIMEOUT_S,
    )
    if done.returncode != 0:
        unavailable(f"pip cannot install the wheel (its dependencies?): {done.stderr[-2000:]}")
    return bin_dir


def test_the_installed_runner_is_the_wheels_not_the_checkouts(
    installed: Path, tmp_path: Path
) -> None:
    code = "import runner, runner.sdk as s; print(runner.__file__, s.root(), s.version())"
    where = _run([str(installed / "python"), "-c", code], tmp_path)
    package, sdk_root, version = where.stdout.split()
    assert Path(package).is_relative_to(installed.parent), package
    assert Path(sdk_root) == Path(package).parent / "_sdk"
    assert version == (REPO / "task_images" / "sdk" / "VERSION").read_text().strip()


@pytest.mark.parametrize("language", LANGUAGES)
def test_from_an_empty_folder_new_test_build_check_and_exec(
    language: str, installed: Path, tmp_path: Path, engine: DockerEngine
) -> None:
    if shutil.which(TOOLS[language]) is None:
        unavailable(f"{TOOLS[language]} is not installed (make toolchains)")
    setup = missing_set_up()
    if setup is not None:
        unavailable(setup)
    xc_runner = str(installed / "xc-runner")
    name = f"first-{language}"
    created = _run([xc_runner, "new", language, name], tmp_path)
    assert created.returncode == 0, created.stderr
    assert f"created {name}/ ({language}, SDK " in created.stdout
    folder = tmp_path / name

    tested = _unit_test(language, folder)
    assert tested.returncode == 0, tested.stdout + tested.stderr

    tag = f"xc-test/installed-{language}-{uuid.uuid4().hex[:8]}:latest"
    try:
        built = _run([xc_runner, "build", name, "--tag", tag], tmp_path)
        assert built.returncode == 0, built.stdout + built.stderr
        assert f"built {tag} (" in built.stdout
        assert built.stdout.rstrip().endswith(f"1 task: {name}/hello")
        checked = _run([xc_runner, "check", tag], tmp_path)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        ran = _run([xc_runner, "exec", tag, f"{name}/hello", "who=you", "times=2"], tmp_path)
        assert ran.returncode == 0, ran.stderr
        assert json.loads(ran.stdout) == {"greeting": "Hello, you! Hello, you!"}
    finally:
        remove_images(tag, force=True)


def _unit_test(language: str, folder: Path) -> subprocess.CompletedProcess[str]:
    """The folder's unit test as `new` says to run it, with no container engine reachable
    (DOCKER_HOST names a socket that does not exist) and no network for Go modules."""
    if language == "python":  # pytest is the test runner's, not the installed runner's
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    else:
        command = [word for word in TEST_COMMANDS[language].split() if "=" not in word]
    env = {"DOCKER_HOST": NO_ENGINE, "GOPROXY": "off", "PYTHONDONTWRITEBYTECODE": "1"}
    return _run(command, folder, env)

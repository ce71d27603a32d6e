"""`xc-runner new` and `xc-runner build` from a checkout, for real: a template folder builds
and passes its check with no edits; mistakes in a folder, a missing base image and a build
that fails each say what was wrong, with the exit code of docs/running/command-line.md.
(The whole loop of every language, with a runner installed by pip, is
tests/integration/test_installed_runner.py.)"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from runner.engine.docker_engine import DockerEngine
from tests.conftest import (
    missing_set_up,
    remove_images,
    unavailable,
    user_environment,
    xc_runner,
)

pytestmark = pytest.mark.integration


def xc(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`python -m runner ARGV` run in `cwd`, as a user runs it there."""
    return xc_runner(*argv, cwd=cwd, timeout_s=600)


@pytest.fixture
def tags() -> Iterator[list[str]]:
    """The tags a test builds, removed at the end."""
    built: list[str] = []
    yield built
    remove_images(*built, force=True)


@pytest.fixture
def bases(engine: DockerEngine) -> None:
    setup = missing_set_up()
    if setup is not None:
        unavailable(setup)


def _new(tmp_path: Path, name: str, language: str = "sh") -> Path:
    created = xc("new", language, name, cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    return tmp_path / name


def _with_steps(tmp_path: Path, name: str, steps: str) -> str:
    """A template folder `name` whose Dockerfile ends with `steps`; a tag of its own."""
    with (_new(tmp_path, name) / "Dockerfile").open("a") as dockerfile:
        dockerfile.write(steps)
    return f"xc-test/build-{name}-{uuid.uuid4().hex[:8]}:latest"


def test_two_template_folders_build_at_once_then_pass_their_check(
    tmp_path: Path, tags: list[str], bases: None
) -> None:
    suffix = uuid.uuid4().hex[:8]
    one, two = f"xc-test-one-{suffix}", f"xc-test-two-{suffix}"
    _new(tmp_path, one), _new(tmp_path, two, "python")
    tags += [f"xc-tasks/{one}:latest", f"xc-tasks/{two}:latest"]
    done = xc("build", "--jobs", "2", "--check", one, two, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    for name, tag in zip((one, two), tags, strict=True):
        assert f"building {tag} from {name} with " in done.stdout
        assert f"built {tag} (" in done.stdout
        assert f"{tag}  1 task  1/1 passed  passed" in done.stdout
    tag = f"xc-test/build-{suffix}:1"
    tags.append(tag)
    again = xc("build", "--tag", tag, cwd=tmp_path / one)
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.splitlines()[-1].startswith(f"built {tag} (")


def test_each_catalog_mistake_is_one_line_and_nothing_is_built(tmp_path: Path) -> None:
    folder = _new(tmp_path, "broken")
    catalog = json.loads((folder / "catalog.json").read_text())
    catalog[0]["schemaVersion"] = "zero"
    catalog[0]["outputs"][0]["baseType"] = 7
    (folder / "catalog.json").write_text(json.dumps(catalog))
    (tmp_path / "empty").mkdir()
    done = xc("build", "broken", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    lines = done.stderr.splitlines()
    assert sorted(line.split(":")[0:2] for line in lines) == [
        ["broken/catalog.json", " [0].outputs[0].baseType"],
        ["broken/catalog.json", " [0].schemaVersion"],
    ], done.stderr
    assert "building" not in done.stdout
    empty = xc("build", "empty", cwd=tmp_path)
    assert (empty.returncode, empty.stderr) == (2, "xc-runner build: empty: no Dockerfile in it\n")


def test_a_missing_base_image_is_one_line_saying_how_to_get_it(
    tmp_path: Path, bases: None
) -> None:
    _new(tmp_path, "based")
    absent = f"xc-test/absent-{uuid.uuid4().hex[:8]}:1"
    done = xc("build", "based", "--build-arg", f"DEBIAN_BASE={absent}", cwd=tmp_path)
    assert done.returncode == 3, done.stderr
    assert done.stderr == (
        f"xc-runner build: base image {absent} is not in the engine: let the build pull a "
        "base: --base registry, or --build-arg NAME=IMAGE\n"
    )


def test_a_failing_build_shows_the_engines_error_and_the_logs_last_lines(
    tmp_path: Path, tags: list[str], bases: None
) -> None:
    tag = _with_steps(tmp_path, "failing", "USER root\nRUN echo 'the step says why' && exit 3\n")
    tags.append(tag)
    done = xc("build", "failing", "--tag", tag, cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"{tag}: the build failed: The command '/bin/sh -c echo" in done.stderr
    assert "returned a non-zero code: 3" in done.stderr
    assert "  the step says why" in done.stderr.splitlines()


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["new", "cobol", "x"], "unknown language 'cobol': the known languages are go, node"),
        (["new", "go", "My Task"], "'My Task' is not a plain image name"),
        (["new", "go", "sample", "--dir", "task_images"], "already exists: nothing was changed"),
        (["build", "a", "b", "--tag", "x:1"], "--tag names one image: give one folder"),
        (["build", "--jobs", "0"], "'0' is not a whole number from 1 to 16"),
        (["build", "--build-arg", "X"], "--build-arg 'X' is not NAME=VALUE"),
        (["build", "no-such-folder"], "no-such-folder: no such folder"),
        (["build", "task_images/sample", "--tag", "Bad Tag"], "--tag: not an image reference"),
        (["build", "docs"], "docs: no Dockerfile in it"),
    ],
)
def test_bad_command_lines_exit_2(argv: list[str], says: str) -> None:
    done = xc(*argv, cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 2, done.stderr
    assert says in done.stderr
    assert "Traceback" not in done.stderr


def test_ctrl_c_stops_a_build_at_once_and_leaves_no_image(
    tmp_path: Path, tags: list[str], bases: None
) -> None:
    tag = _with_steps(tmp_path, "slow", "RUN sleep 120\n")
    tags.append(tag)
    command = [sys.executable, "-m", "runner", "build", "slow", "--tag", tag]
    with subprocess.Popen(
        command, cwd=tmp_path, env=user_environment(), stdout=subprocess.PIPE, text=True
    ) as building:
        assert building.stdout is not None
        assert building.stdout.readline().startswith(f"building {tag} from slow")
        time.sleep(2)  # the engine has the build
        building.send_signal(signal.SIGINT)
        started = time.monotonic()
        assert building.wait(timeout=30) == 130
    assert time.monotonic() - started < 60  # not the 120 s of the step
    assert xc("check", tag, cwd=tmp_path).returncode == 1  # no such image

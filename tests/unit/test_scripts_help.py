"""Every script under scripts/ answers --help, and does nothing else: the Python ones with
their usage (or, for a module that is a part of a command, which command), the shell ones
with the comment that heads them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

SCRIPTS = REPO / "scripts"
PYTHON = sorted(p.stem for p in SCRIPTS.glob("*.py") if p.stem != "__init__")
SHELL = sorted(str(p.relative_to(REPO)) for p in SCRIPTS.rglob("*.sh"))


def answer(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize("module", PYTHON)
def test_a_python_script_answers_help(module: str) -> None:
    done = answer([sys.executable, "-m", f"scripts.{module}", "--help"])
    assert done.returncode == 0, done.stderr
    said = done.stdout
    assert said.startswith("usage: ") or "Not a command of its own: a part of `" in said, said
    assert done.stderr == ""


@pytest.mark.parametrize("script", SHELL)
def test_a_shell_script_answers_help(script: str) -> None:
    done = answer(["sh", script, "-h"])
    assert done.returncode == 0, done.stderr
    heading = [line for line in (REPO / script).read_text().splitlines()[1:4]]
    assert done.stdout.splitlines()[0] == heading[0].removeprefix("# ")
    assert "#" not in done.stdout.splitlines()[0] and done.stderr == ""


def test_a_part_of_a_command_run_alone_says_what_to_run() -> None:
    done = answer([sys.executable, "-m", "scripts.bench_cpu"])
    assert done.returncode == 2
    assert "a part of `make bench`" in done.stderr


def test_every_script_is_found() -> None:
    assert {"bench", "build_images", "validate_manifests", "bench_bare"} <= set(PYTHON)
    assert "scripts/ensure-engine.sh" in SHELL and "scripts/dind/start-engine.sh" in SHELL
    assert not [
        p
        for p in SCRIPTS.rglob("*")
        if p.is_file() and p.suffix not in (".py", ".sh", "") and "__pycache__" not in p.parts
    ], "a script of another kind"
    assert all(Path(REPO / s).read_text().startswith("#!/bin/sh\n") for s in SHELL)

"""The package's shape: small modules and functions, a pure core, and lint that stops a
change breaking a layer."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

PACKAGE = REPO / "runner"
MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 40


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_no_module_is_over_300_lines() -> None:
    long = {
        str(path.relative_to(REPO)): lines
        for path in modules()
        if (lines := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


def test_no_function_is_over_40_lines() -> None:
    long: dict[str, int] = {}
    for path in modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long[f"{path.relative_to(REPO)}:{node.lineno} {node.name}"] = lines
    assert long == {}


def test_every_package_says_what_it_is() -> None:
    undocumented = [
        str(init.relative_to(REPO))
        for init in PACKAGE.rglob("__init__.py")
        if ast.get_docstring(ast.parse(init.read_text())) is None
    ]
    assert undocumented == []


def lint_tool(name: str) -> str:
    tool = shutil.which(name, path=str(Path(sys.executable).parent))
    if tool is None:
        pytest.skip(f"{name} is not installed in this environment (make venv-dev)")
    return tool


@pytest.mark.parametrize(
    ("module", "line", "tool", "says"),
    [
        ("core/model.py", "import docker", "ruff", "`docker` is banned"),
        ("worker/loop.py", "import requests", "ruff", "`requests` is banned"),
        ("core/catalog.py", "import jsonschema", "ruff", "`jsonschema` is banned"),
        ("engine/interface.py", "import sqlite3", "ruff", "`sqlite3` is banned"),
        ("core/model.py", "import docker", "lint-imports", "runner.core is not allowed to import"),
        ("worker/executor.py", "import runner.engine.docker_engine", "lint-imports", "BROKEN"),
        ("core/taskrun.py", "import runner.worker.loop", "lint-imports", "BROKEN"),
        ("app/runner.py", "import runner.cli.main", "lint-imports", "BROKEN"),
        ("worker/loop.py", "import prometheus_client", "ruff", "`prometheus_client` is banned"),
        ("worker/delivery.py", "import waitress", "ruff", "`waitress` is banned"),
        ("worker/executor.py", "import runner.ops.metrics", "lint-imports", "BROKEN"),
        ("ops/probes.py", "import runner.worker.loop", "lint-imports", "BROKEN"),
    ],
)
def test_lint_refuses_an_import_that_breaks_a_layer(
    module: str, line: str, tool: str, says: str, tmp_path: Path
) -> None:
    """On a copy of the package with one bad import added, the lint `make lint` runs fails."""
    copy = tmp_path / "project"
    shutil.copytree(PACKAGE, copy / "runner", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", copy / "pyproject.toml")
    target = copy / "runner" / module
    target.write_text(target.read_text() + f"\n{line}  # added by the test\n")
    command = [lint_tool("ruff"), "check", "--no-cache", "runner"]
    if tool == "lint-imports":
        command = [lint_tool("lint-imports"), "--no-cache"]
    result = subprocess.run(
        command,
        cwd=copy,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PATH": str(Path(sys.executable).parent), "PYTHONPATH": str(copy)},
    )
    assert result.returncode != 0
    assert says in result.stdout + result.stderr

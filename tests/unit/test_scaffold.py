"""runner.scaffold: a task image folder from a language's template, never overwriting."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runner import sdk
from runner.app.taskfolder import parse_examples
from runner.cli.scaffold import LANGUAGES, ScaffoldError, scaffold
from runner.contracts import Contracts
from tests.unit.sdk_runs import ROOT as REPO

CODE = {"go": "main.go", "node": "main.js", "python": "tasks.py", "sh": "tasks.sh"}
TEST = {
    "go": "main_test.go",
    "node": "main.test.js",
    "python": "test_tasks.py",
    "sh": "test_tasks.sh",
}
SDK = {
    "go": {"go.mod", "xctask.go", "inputs.go", "secrets.go", "testing.go"},
    "node": {"xc_task.js", "xc_task_testing.js"},
    "python": {"xc_task.py", "xc_task_inputs.py", "xc_task_testing.py"},
    "sh": {"xc_task.sh", "xc_task_testing.sh"},
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_language_gets_a_dockerfile_its_code_a_test_a_catalog_and_an_example(
    tmp_path: Path, language: str
) -> None:
    written = scaffold(language, "my-task", tmp_path)
    folder = tmp_path / "my-task"
    assert sorted(written) == sorted(p for p in folder.rglob("*") if p.is_file())
    names = {p.name for p in written}
    assert {"Dockerfile", ".dockerignore", "README.md", "catalog.json", "examples.json"} <= names
    assert {CODE[language], TEST[language]} <= names
    assert {p.name for p in (folder / "sdk").iterdir()} >= SDK[language]
    sdk_tests = [p for p in written if p.name.endswith(("_test.go", ".test.js"))]
    assert all("sdk" not in p.relative_to(folder).parts for p in sdk_tests)
    for path in written:
        assert "{{name}}" not in path.read_text(), path
    catalog = json.loads((folder / "catalog.json").read_text())
    Contracts().check_catalog(catalog, "catalog.json")
    assert {d["namespace"] for d in catalog} == {"my-task"}
    assert len(parse_examples((folder / "examples.json").read_text(), catalog)) == 1
    dockerfile = (folder / "Dockerfile").read_text()
    assert "USER 65534:65534" in dockerfile
    assert "task_images" not in dockerfile


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_folder_is_its_own_build_context(tmp_path: Path, language: str) -> None:
    """Every file the Dockerfile copies from the context is in the folder, and none of
    them is left out by its .dockerignore."""
    scaffold(language, "my-task", tmp_path)
    folder = tmp_path / "my-task"
    ignored = (folder / ".dockerignore").read_text().splitlines()
    for line in (folder / "Dockerfile").read_text().splitlines():
        words = line.split()
        if words[:1] != ["COPY"] or any(w.startswith("--from") for w in words):
            continue
        for source in words[1:-1]:
            assert (folder / source).exists(), f"{language}: COPY {source}"
            assert source.rstrip("/") not in ignored, f"{language}: {source} is ignored"


def test_the_sdk_copies_state_the_sdk_version(tmp_path: Path) -> None:
    version = sdk.version()
    assert version == (REPO / "task_images" / "sdk" / "VERSION").read_text().strip()
    stated = {
        "python/xc_task.py": f'SDK_VERSION = "{version}"',
        "go/xctask.go": f'SDKVersion = "{version}"',
        "node/xc_task.js": f"const SDK_VERSION = '{version}';",
        "sh/xc_task.sh": f"XC_SDK_VERSION={version} ",
    }
    for path, line in stated.items():
        assert line in (REPO / "task_images" / "sdk" / path).read_text(), path


def test_an_unknown_language_names_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ScaffoldError) as raised:
        scaffold("rust", "x", tmp_path)
    known = "the known languages are go, node, python, sh"
    assert str(raised.value) == f"unknown language 'rust': {known}"
    assert list(tmp_path.iterdir()) == []


def test_an_existing_folder_is_never_overwritten(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "Dockerfile").write_text("mine")
    with pytest.raises(ScaffoldError) as raised:
        scaffold("go", "taken", tmp_path)
    assert str(raised.value) == f"{tmp_path / 'taken'} already exists: nothing was changed"
    assert [p.name for p in (tmp_path / "taken").iterdir()] == ["Dockerfile"]
    assert (tmp_path / "taken" / "Dockerfile").read_text() == "mine"
    (tmp_path / "file").write_text("")
    with pytest.raises(ScaffoldError):
        scaffold("sh", "file", tmp_path)


@pytest.mark.parametrize(
    "name",
    ["", "Upper", "-x", "x-", "x.", "_x", "a/b", "..", "a..b", "a___b", "a b", "é", "x" * 65],
)
def test_a_name_that_is_not_a_plain_image_name_is_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(ScaffoldError) as raised:
        scaffold("python", name, tmp_path)
    assert "name" in str(raised.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["x", "my-task", "a--b", "a__b", "a.b", "a_b", "v2", "x" * 64])
def test_plain_image_names_are_accepted(tmp_path: Path, name: str) -> None:
    assert scaffold("sh", name, tmp_path)


def test_the_images_folder_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ScaffoldError) as raised:
        scaffold("node", "x", tmp_path / "missing")
    assert str(raised.value) == f"{tmp_path / 'missing'} is not a folder"

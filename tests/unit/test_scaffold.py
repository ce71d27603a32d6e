"""runner.scaffold: a task image folder from a language's template, never overwriting."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runner.app.taskfolder import parse_examples
from runner.cli.scaffold import LANGUAGES, ScaffoldError, scaffold
from runner.contracts import Contracts

CODE = {"go": "main.go", "node": "main.js", "python": "tasks.py", "sh": "tasks.sh"}


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_language_gets_a_dockerfile_its_code_a_catalog_and_an_example(
    tmp_path: Path, language: str
) -> None:
    written = scaffold(language, "my-task", tmp_path)
    folder = tmp_path / "my-task"
    assert sorted(written) == sorted(p for p in folder.rglob("*") if p.is_file())
    names = {p.name for p in written}
    assert {"Dockerfile", "catalog.json", "examples.json", CODE[language]} <= names
    for path in written:
        assert "{{" not in path.read_text(), path
    catalog = json.loads((folder / "catalog.json").read_text())
    Contracts().check_catalog(catalog, "catalog.json")
    assert {d["namespace"] for d in catalog} == {"my-task"}
    assert len(parse_examples((folder / "examples.json").read_text(), catalog)) == 1
    dockerfile = (folder / "Dockerfile").read_text()
    assert "my-task/" in dockerfile or "COPY my-task my-task" in dockerfile
    assert "USER 65534:65534" in dockerfile


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

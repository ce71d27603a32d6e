"""What `xc-runner build` decides before it asks the engine (runner.core.building), and how
it reads a task image's folder (runner.app.taskfolder): one line per mistake, naming the
file and the place."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from runner.app.building import BuildFailed, plan
from runner.app.taskfolder import folder_labels
from runner.cli.scaffold import scaffold
from runner.core.building import (
    LOCAL_BASES,
    BuildLog,
    base_images,
    build_args,
    declared_args,
    parse_build_args,
)
from runner.core.catalog import CATALOG_LABEL
from runner.core.errors import UsageError
from runner.core.examples import EXAMPLES_LABEL
from tests.unit.sdk_runs import ROOT

GO_DOCKERFILE = """\
ARG DEBIAN_BASE=debian:bookworm-slim
FROM ${DEBIAN_BASE} AS build
RUN echo \\
ARG NOT_AN_ARG=1
ARG VERSION
FROM build AS test
FROM --platform=linux/amd64 scratch
COPY --from=build /task /task
"""


def test_the_declared_build_arguments_and_their_defaults() -> None:
    assert declared_args(GO_DOCKERFILE) == {"DEBIAN_BASE": "debian:bookworm-slim", "VERSION": None}


def test_local_bases_fill_the_base_arguments_the_dockerfile_declares() -> None:
    declared = declared_args(GO_DOCKERFILE)
    assert build_args(declared, "local", {}) == {"DEBIAN_BASE": LOCAL_BASES["DEBIAN_BASE"]}
    assert build_args(declared, "registry", {}) == {}
    given = {"DEBIAN_BASE": "mine:1", "VERSION": "2", "UNDECLARED": "x"}
    assert build_args(declared, "local", given) == {"DEBIAN_BASE": "mine:1", "VERSION": "2"}


def test_the_base_images_are_the_first_stages_bases_with_arguments_substituted() -> None:
    assert base_images(GO_DOCKERFILE, {}) == ["debian:bookworm-slim"]
    assert base_images(GO_DOCKERFILE, {"DEBIAN_BASE": "xc-base/debian:bookworm"}) == [
        "xc-base/debian:bookworm"
    ]
    two = "FROM python:3.12-slim\nFROM $X\n"
    assert base_images(two, {"X": "a:1"}) == ["python:3.12-slim", "a:1"]


@pytest.mark.parametrize("pair", ["X", "=1", "a b=1", "1X=2"])
def test_a_build_argument_that_is_not_name_value_is_refused(pair: str) -> None:
    with pytest.raises(ValueError, match="is not NAME=VALUE"):
        parse_build_args([pair])


def test_the_build_log_keeps_the_error_the_image_and_the_last_lines() -> None:
    log = BuildLog()
    for event in [
        {"stream": "Step 1/2 : FROM x\n"},
        *({"stream": f"line {i}\n"} for i in range(50)),
        {"aux": {"ID": "sha256:abc"}},
        {"error": "The command returned a non-zero code: 1\n"},
    ]:
        log.take(event)
    assert (log.error, log.image_id) == ("The command returned a non-zero code: 1", "sha256:abc")
    assert log.tail()[0] == "line 10" and log.tail()[-1] == "line 49"


def _folder(tmp_path: Path) -> Path:
    scaffold("sh", "my-task", tmp_path)
    return tmp_path / "my-task"


def test_a_template_folder_gives_both_labels_and_its_tasks(tmp_path: Path) -> None:
    found = folder_labels(_folder(tmp_path), "my-task")
    assert found.problems == [] and found.tasks == ["my-task/hello"]
    assert json.loads(found.labels[CATALOG_LABEL])[0]["name"] == "hello"
    assert json.loads(found.labels[EXAMPLES_LABEL])[0]["task"] == "hello"


def test_each_catalog_mistake_is_a_line_naming_the_file_and_the_place(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    catalog = json.loads((folder / "catalog.json").read_text())
    catalog[0]["inputs"][0]["name"] = 5
    del catalog[0]["outputs"][0]["name"]
    (folder / "catalog.json").write_text(json.dumps(catalog))
    problems = folder_labels(folder, "my-task").problems
    assert len(problems) == 2, problems
    assert problems[0].startswith("my-task/catalog.json: [0].inputs[0].name: 5 is not")
    assert problems[1] == "my-task/catalog.json: [0].outputs[0]: missing 'name'"


@pytest.mark.parametrize(
    ("file", "text", "line"),
    [
        ("catalog.json", '[\n  {"a": 1,\n}', "my-task/catalog.json: line 3 column 1: not JSON"),
        ("catalog.json", None, "my-task/catalog.json: missing"),
        ("examples.json", '{"task": 1}', "my-task/examples.json: (the whole file): "),
        (
            "examples.json",
            '[{"task": "nope", "inputs": {}, "expect": {"status": "Completed"}}]',
            "my-task/examples.json: [0].task: the catalog has no task nope",
        ),
    ],
)
def test_unreadable_or_wrong_files_are_named(
    tmp_path: Path, file: str, text: str | None, line: str
) -> None:
    folder = _folder(tmp_path)
    if text is None:
        (folder / file).unlink()
    else:
        (folder / file).write_text(text)
    problems = folder_labels(folder, "my-task").problems
    assert len(problems) == 1 and problems[0].startswith(line), problems


def test_a_plan_names_the_image_after_its_folder(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    planned = plan(folder, context=None, tag=None, base="local", given={})
    assert planned.tag == "xc-tasks/my-task:latest"
    assert (planned.dockerfile, planned.context) == ("Dockerfile", folder)
    assert planned.bases == [LOCAL_BASES["DEBIAN_BASE"]]
    assert plan(folder, context=None, tag="t:1", base="registry", given={}).bases == ()


def test_a_folder_outside_the_context_or_without_dockerfile_is_a_bad_command_line(
    tmp_path: Path,
) -> None:
    folder = _folder(tmp_path)
    with pytest.raises(UsageError, match="not inside the build context"):
        plan(folder, context=tmp_path / "else", tag=None, base="local", given={})
    (folder / "Dockerfile").unlink()
    with pytest.raises(UsageError, match="no Dockerfile in it"):
        plan(folder, context=None, tag=None, base="local", given={})
    with pytest.raises(BuildFailed):
        (folder / "Dockerfile").write_text("FROM scratch\n")
        (folder / "catalog.json").write_text("[]x")
        plan(folder, context=None, tag=None, base="local", given={})


def test_the_sample_images_catalog_json_is_its_modules_catalog(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.syspath_prepend(str(ROOT / "task_images" / "sample"))
    monkeypatch.syspath_prepend(str(ROOT / "task_images" / "sdk" / "python"))
    module = __import__("sample")
    try:
        catalog = json.loads((ROOT / "task_images" / "sample" / "catalog.json").read_text())
        assert catalog == module.task_definitions()
    finally:
        for name in ("sample", "xc_task", "xc_task_inputs"):
            sys.modules.pop(name, None)


def test_a_folder_whose_name_is_no_image_name_needs_a_tag(tmp_path: Path) -> None:
    folder = _folder(tmp_path).rename(tmp_path / "My_Task")
    with pytest.raises(UsageError, match="the image is named after its folder, and not an image"):
        plan(folder, context=None, tag=None, base="local", given={})
    assert plan(folder, context=None, tag="my-task:1", base="local", given={}).tag == "my-task:1"
    with pytest.raises(UsageError, match="--tag: not an image reference"):
        plan(folder, context=None, tag="Bad Tag", base="local", given={})

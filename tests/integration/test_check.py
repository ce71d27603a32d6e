"""`xc-runner check` on real images: one that passes, and images broken on purpose
(tests/images/author and its variants), each reported precisely, with exit 1."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from runner.core.catalog import CATALOG_LABEL
from runner.core.examples import EXAMPLES_LABEL
from runner.engine.docker_engine import DockerEngine
from tests.conftest import REPO, build_image, build_test_image, free_port, xc_runner

pytestmark = pytest.mark.integration

VARIANTS = ("passing", "bad-catalog", "wrong-output", "two-terminals", "bad-json")


@pytest.fixture(scope="module")
def author_images(engine: DockerEngine) -> dict[str, str]:
    """tests/images/author built once per variant, with that variant's labels."""
    return {
        variant: build_test_image("author", f"xc-test/author-{variant}:latest", variant)
        for variant in VARIANTS
    }


def build_with_labels(tag: str, labels: dict[str, str]) -> str:
    """The author image with labels given as they are (say, a label that is not JSON)."""
    build_image(REPO / "tests" / "images" / "author", tag, labels)
    return tag


def xc_check(*images: str) -> subprocess.CompletedProcess[str]:
    return xc_runner("check", *images)


def table_row(stdout: str, image: str) -> list[str]:
    """The image's row of the table that ends the report, split into its cells."""
    rows = [line for line in stdout.splitlines() if line.startswith(image + " ")]
    assert rows, stdout
    return re.split(r" {2,}", rows[-1].strip())


def test_an_image_whose_labels_and_examples_are_right_passes(
    author_images: dict[str, str],
) -> None:
    image = author_images["passing"]
    done = xc_check(image)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ok    catalog: 4 tasks" in done.stdout
    assert "ok    examples[3] author/add: Error in" in done.stdout
    assert table_row(done.stdout, image) == [
        image,
        "4 tasks",
        "4/4 passed",
        "passed",
    ]
    assert done.stderr == ""


def test_a_bad_catalog_is_reported_problem_by_problem_with_json_paths(
    author_images: dict[str, str],
) -> None:
    image = author_images["bad-catalog"]
    done = xc_check(image)
    assert done.returncode == 1
    found = [line.strip() for line in done.stdout.splitlines() if "FAIL  " in line]
    assert found == [
        "FAIL  catalog[0].inputs[0].defaultValue: (author/add) input 'a': 'ten' is not a "
        "64-bit integer (or its text)",
        "FAIL  catalog[0].inputs[1].name: (author/add) input 'a' declared twice "
        "(first at catalog[0].inputs[0])",
        "FAIL  catalog[0].outputs[0].defaultValue: (author/add) output 'sum': 'maybe' is not a "
        "boolean (or true/false as text)",
        "FAIL  catalog[1]: task author/add declared twice (first at catalog[0])",
    ]
    assert table_row(done.stdout, image)[1:] == ["4 problems", "-", "FAILED"]


def test_a_wrong_output_type_fails_the_example_and_names_the_field(
    author_images: dict[str, str],
) -> None:
    done = xc_check(author_images["wrong-output"])
    assert done.returncode == 1
    assert "FAIL  examples[0] author/wrong_type: Error in" in done.stdout
    assert (
        "expected Completed, got Error: \"invalid result: output.sum: 'many' is not a "
        '64-bit integer (or its text)"'
    ) in done.stdout
    assert (
        "stdout line 2, field outputs.sum: 'many' is not a 64-bit integer (or its text)"
    ) in done.stdout


def test_two_terminal_messages_are_a_violation_even_when_the_result_is_right(
    author_images: dict[str, str],
) -> None:
    done = xc_check(author_images["two-terminals"])
    assert done.returncode == 1
    assert "FAIL  examples[0] author/two_terminals: Completed in" in done.stdout
    assert "stdout line 2: a second terminal message (the first is on line 1)" in done.stdout


def test_invalid_json_is_placed_by_line_and_byte(author_images: dict[str, str]) -> None:
    done = xc_check(author_images["bad-json"])
    assert done.returncode == 1
    assert "FAIL  examples[0] author/bad_json: Completed in" in done.stdout
    assert "stdout line 3, byte 42: not valid JSON (Expecting ',' delimiter)" in done.stdout


def test_several_images_each_get_a_row_and_one_failure_fails_the_run(
    author_images: dict[str, str],
) -> None:
    passing, broken = author_images["passing"], author_images["two-terminals"]
    done = xc_check(passing, broken, "xc-test/no-such-image:latest")
    assert done.returncode == 1
    assert table_row(done.stdout, passing)[-1] == "passed"
    assert table_row(done.stdout, broken)[-1] == "FAILED"
    assert table_row(done.stdout, "xc-test/no-such-image:latest")[-1] == "FAILED (no such image)"
    assert (
        "FAIL  image xc-test/no-such-image:latest not found in the engine (build it first)"
        in done.stdout
    )


@pytest.mark.parametrize(
    ("labels", "says"),
    [
        ({}, f"FAIL  label {CATALOG_LABEL}: missing or empty"),
        ({CATALOG_LABEL: "[{'name': 1}]"}, f"FAIL  label {CATALOG_LABEL}: not valid JSON: "),
        (
            {CATALOG_LABEL: '[{"namespace": "author", "name": "add"}]', EXAMPLES_LABEL: "[{"},
            f"FAIL  label {EXAMPLES_LABEL}: not valid JSON: ",
        ),
        (
            {
                CATALOG_LABEL: '[{"namespace": "author", "name": "add"}]',
                EXAMPLES_LABEL: '[{"task": "add", "inputs": {}, "expect": {"status": "Done"}}]',
            },
            "FAIL  examples[0].expect.status: 'Done' is not one of ['Completed', 'Error']",
        ),
        (
            {
                CATALOG_LABEL: '[{"namespace": "author", "name": "add"}]',
                EXAMPLES_LABEL: '[{"task": "sub", "inputs": {}, "expect": {"status": "Error"}}]',
            },
            "FAIL  examples[0].task: the catalog has no task sub (it has: author/add)",
        ),
    ],
    ids=["no-catalog", "catalog-not-json", "examples-not-json", "examples-invalid", "no-task"],
)
def test_bad_labels_are_named_and_fail_without_a_traceback(
    labels: dict[str, str], says: str, engine: DockerEngine
) -> None:
    image = build_with_labels("xc-test/author-labels:latest", labels)
    done = xc_check(image)
    assert done.returncode == 1
    assert says in done.stdout
    assert table_row(done.stdout, image)[-1] == "FAILED"
    assert "Traceback" not in done.stdout + done.stderr


def _catalog(**fields: object) -> str:
    definition = {"namespace": "author", "name": "add", **fields}
    return json.dumps([definition])


@pytest.mark.parametrize(
    ("catalog", "says"),
    [
        ("null", "catalog: must be a JSON array of task definitions, not null"),
        (
            _catalog(schemaVersion=2**32),
            "catalog[0].schemaVersion: 4294967296 is greater than the maximum of 2147483647",
        ),
        (
            _catalog(inputs=[{"name": "a", "baseType": "Objekt"}]),
            "catalog[0].inputs[0].baseType: (author/add) input 'a': baseType 'Objekt' is not a "
            "type the runner knows; did you mean 'Object'?",
        ),
        (
            _catalog(inputs=[{"name": "a", "baseType": "Number", "defaultValue": "1e999"}]),
            "catalog[0].inputs[0].defaultValue: (author/add) input 'a': '1e999' is not a number",
        ),
    ],
    ids=["null", "schema-version", "unknown-type", "infinite-default"],
)
def test_check_and_a_runner_start_up_refuse_a_catalog_alike(
    catalog: str, says: str, engine: DockerEngine, tmp_path: Path
) -> None:
    """What `check` refuses, `run` refuses at start-up, before it reaches any platform (it
    passed `check`, then `run` exited 3 or 6)."""
    image = build_with_labels("xc-test/author-labels:latest", {CATALOG_LABEL: catalog})
    checked = xc_check(image)
    assert checked.returncode == 1
    assert f"FAIL  {says}" in checked.stdout
    platform = {
        "XC_SCENARIO_SERVER": f"http://127.0.0.1:{free_port()}",
        "XC_SCENARIO_APIKEY": "key",
        "XC_RUNNER_STATE_DIR": str(tmp_path),
    }
    ran = xc_runner("run", image, env=platform, timeout_s=120)
    assert ran.returncode == 3, ran.stderr
    assert f"label {CATALOG_LABEL}: {says}" in ran.stderr

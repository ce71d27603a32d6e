"""The textstats-node image's tasks, on the Node.js SDK, run with the host's node.

main.js requires 'xc_task', which the image copies into node_modules; here
NODE_PATH points at task_images/sdk/node instead. The SDK's own tests are
task_images/sdk/node/xc_task.test.js (`node --test`, run by `make test`).
"""

from __future__ import annotations

import json
import shutil

import pytest

from tests.conftest import unavailable
from tests.unit.sdk_runs import (
    CONTRACTS,
    ROOT,
    SDK_DIR,
    Run,
    envelope,
    error,
    result,
    run_process,
)

NODE_DIR = ROOT / "task_images" / "textstats-node"


@pytest.fixture(scope="module")
def node() -> str:
    found = shutil.which("node")
    if found is None:
        unavailable("no node on this host (make toolchains installs it)")
    assert found is not None
    return found


def run_node(node: str, task: str, **inputs: object) -> Run:
    stdin = envelope(task, "textstats", **inputs)
    return run_process(
        [node, str(NODE_DIR / "main.js")], stdin, NODE_DIR, {"NODE_PATH": str(SDK_DIR / "node")}
    )


def test_textstats_catalog_is_valid() -> None:
    catalog = json.loads((NODE_DIR / "catalog.json").read_text())
    CONTRACTS.check_catalog(catalog, "textstats-node/catalog.json")
    assert {d["namespace"] for d in catalog} == {"textstats"}
    assert [d["name"] for d in catalog] == ["word_count", "slow_upper", "excerpt", "json_keys"]


def test_word_count(node: str) -> None:
    run = run_node(node, "word_count", text="héllo  wörld\nsecond line\n")
    assert run.messages == [result(words="4", lines="2", characters="25")]
    assert run.returncode == 0


def test_word_count_of_nothing(node: str) -> None:
    run = run_node(node, "word_count", text="")
    assert run.messages == [result(words="0", lines="0", characters="0")]


def test_slow_upper_reports_progress(node: str) -> None:
    run = run_node(node, "slow_upper", text="abc", seconds="1")
    assert [m.get("progressPercentage") for m in run.messages[:-1]] == [0, 1]
    assert all(m["status"] == "InProgress" for m in run.messages[:-1])
    assert run.messages[-1] == result(upper="ABC")


def test_slow_upper_rejects_a_non_integer(node: str) -> None:
    run = run_node(node, "slow_upper", text="abc", seconds="soon")
    assert run.messages == [
        error("Incorrect value 'soon' for seconds, should be a non-negative integer")
    ]
    assert run.returncode == 0


def test_excerpt_of_code_points(node: str) -> None:
    run = run_node(node, "excerpt", text="😀 héllo wörld", start="2", length=5, ellipsis="true")
    assert run.messages == [result(excerpt="héllo…", characters=13, truncated=True)]
    run = run_node(node, "excerpt", text="short", start=50, length=5, ellipsis=False)
    assert run.messages == [error("start 50 is past the end of the text (5 characters)", "Minor")]


def test_json_keys_fails_on_invalid_json(node: str) -> None:
    assert run_node(node, "json_keys", json='{"b": 1, "a": 2}').messages == [
        result(keys="b,a", count=2)
    ]
    assert run_node(node, "json_keys", json="").messages == [
        error("SyntaxError: Unexpected end of JSON input")
    ]
    assert run_node(node, "json_keys", json="[1]").messages == [
        error("the JSON is an array, not an object")
    ]


@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        (envelope("nope", "textstats"), "unknown task 'nope': this image's tasks are "),
        ('{"protocol": 2, "task": "word_count"}', "invalid envelope: unsupported protocol 2"),
    ],
)
def test_setup_errors(node: str, stdin: str, message: str) -> None:
    run = run_process(
        [node, str(NODE_DIR / "main.js")], stdin, NODE_DIR, {"NODE_PATH": str(SDK_DIR / "node")}
    )
    assert len(run.messages) == 1
    assert run.messages[0]["message"].startswith(message)
    assert run.returncode == 2


def test_a_missing_input_is_named(node: str) -> None:
    assert run_node(node, "word_count").messages == [error("input 'text' is missing")]

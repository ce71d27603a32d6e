"""Whatever a path names, and however deep a document nests, a reader answers at once in
one line: a FIFO, /dev/zero, a folder, a file too large, JSON or TOML nested thousands
deep, each given where the runner or the local server reads a file or a document.

The commands run as real processes; none of these cases needs a Docker engine.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runner.app.building import plan
from runner.app.imagecheck import _UNREADABLE, ImageReport, _label_json
from runner.app.taskfolder import folder_labels
from runner.cli.inputfiles import MAX_INPUT_JSON_BYTES
from runner.config.policy import read_policy_file
from runner.core.catalog import CATALOG_LABEL, MAX_CATALOG_BYTES, routes_from_label, size_problem
from runner.core.documents import MAX_DEPTH, TooDeep, check_depth, read_json
from runner.core.errors import ConfigError, SettingError, UsageError
from runner.files import Unreadable, not_regular, read_capped
from runner.state.database import Database
from tests.conftest import free_port, xc_runner


def deep_json(depth: int) -> str:
    return "[" * depth + "]" * depth


def deep_toml(depth: int) -> str:
    return "[defaults]\nx = " + "[" * (depth - 2) + "1" + "]" * (depth - 2) + "\n"


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "fifo"
    os.mkfifo(path)
    return path


def big_file(tmp_path: Path, size: int) -> Path:
    path = tmp_path / "big"
    with path.open("wb") as out:
        out.truncate(size)
    return path


# -- the reader of files ---------------------------------------------------------------


def test_a_regular_file_is_read_and_nothing_else_is(tmp_path: Path, fifo: Path) -> None:
    plain = tmp_path / "plain"
    plain.write_bytes(b"x" * 100)
    assert read_capped(plain, 100) == b"x" * 100
    refused = {
        fifo: "not a regular file (a FIFO)",
        Path("/dev/zero"): "not a regular file (a character device)",
        tmp_path: "not a regular file (a folder)",
        plain: "larger than the limit of 99 bytes",
        big_file(tmp_path, 2 << 20): "larger than the limit of 1 MiB",
        tmp_path / "none": "No such file or directory",
    }
    for path, why in refused.items():
        started = time.monotonic()
        with pytest.raises(Unreadable, match="^" + why.replace("(", r"\(").replace(")", r"\)")):
            read_capped(path, 99 if path == plain else 1 << 20)
        assert time.monotonic() - started < 1.0  # a FIFO is never waited on
    assert not_regular(fifo) == "not a regular file (a FIFO)"
    assert not_regular(plain) is None and not_regular(tmp_path / "none") is None


def test_a_state_file_that_is_a_fifo_is_refused_not_waited_on(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "r1.db")
    with pytest.raises(ConfigError, match=r"r1\.db is not a regular file \(a FIFO\)"):
        Database(tmp_path, "r1", "platform")


# -- documents nested deep, wide, or both (generated) ----------------------------------


@pytest.mark.parametrize("depth", [1, 2, MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1, 900, 100_000])
def test_json_is_read_to_the_documented_depth_and_refused_past_it(depth: int) -> None:
    if depth <= MAX_DEPTH:
        assert read_json(deep_json(depth)) is not None
        return
    with pytest.raises(TooDeep, match=f"nested deeper than the limit of {MAX_DEPTH} levels"):
        read_json(deep_json(depth))


def test_wide_and_deep_documents_are_measured_whatever_their_shape() -> None:
    wide = [[[] for _ in range(10_000)] for _ in range(10)]
    check_depth(wide)
    assert read_json(json.dumps(wide)) == wide
    zigzag = "[" + ",".join([deep_json(MAX_DEPTH - 1)] * 1000) + "]"
    assert len(read_json(zigzag)) == 1000
    brackets_in_strings = json.dumps({"text": "[" * 10_000})
    assert read_json(brackets_in_strings) == {"text": "[" * 10_000}
    deep: list[object] = []
    for _ in range(100_000):  # deeper than any recursion could go
        deep = [deep]
    with pytest.raises(TooDeep):
        check_depth(deep)


def nested(depth: int, width: int, kinds: list[bool]) -> tuple[object, str]:
    """`depth` levels of lists or objects (as `kinds` says, in turn), each with `width`
    leaves beside the next level: deep and wide at once; and the same as a TOML value
    (arrays and inline tables), both made level by level, from the inside out."""
    value: object = "leaf"
    toml = '"leaf"'
    for level in range(depth):
        leaves = list(range(width))
        if kinds[level % len(kinds)]:
            value = {"next": value, **{f"k{i}": i for i in leaves}}
            toml = "{next = " + toml + "".join(f", k{i} = {i}" for i in leaves) + "}"
        else:
            value = [*leaves, value]
            toml = "[" + "".join(f"{i}, " for i in leaves) + toml + "]"
    return value, toml


@settings(max_examples=150, deadline=None)
@given(
    st.integers(min_value=1, max_value=400),
    st.integers(min_value=0, max_value=30),
    st.lists(st.booleans(), min_size=1, max_size=4),
)
def test_any_depth_and_width_is_read_or_refused_at_the_documented_depth(
    tmp_path_factory: pytest.TempPathFactory, depth: int, width: int, kinds: list[bool]
) -> None:
    value, toml = nested(depth, width, kinds)
    if depth <= MAX_DEPTH:
        assert read_json(json.dumps(value)) == value
    else:
        with pytest.raises(TooDeep):
            read_json(json.dumps(value))
    config = tmp_path_factory.mktemp("toml") / "runner.toml"
    config.write_text(f"[defaults]\nx = {toml}\n")
    with pytest.raises(SettingError) as refused:  # as a setting, x is refused anyway
        read_policy_file(config)
    too_deep = f"nested deeper than the limit of {MAX_DEPTH} levels" in str(refused.value)
    assert too_deep == (depth + 2 > MAX_DEPTH), str(refused.value)  # the file, [defaults]


# -- each reader, in one line ----------------------------------------------------------


@pytest.mark.parametrize("depth", [MAX_DEPTH, MAX_DEPTH + 1, 5000])
def test_a_deep_configuration_file_is_one_line(depth: int, tmp_path: Path) -> None:
    config = tmp_path / "runner.toml"
    config.write_text(deep_toml(depth))
    if depth <= MAX_DEPTH:
        with pytest.raises(SettingError, match="x"):  # read; then refused as a value
            read_policy_file(config)
        return
    with pytest.raises(SettingError, match=f"limit of {MAX_DEPTH} levels of tables and arrays"):
        read_policy_file(config)


def test_a_deep_catalog_label_is_one_line_naming_the_image() -> None:
    labels = {CATALOG_LABEL: deep_json(5000)}
    with pytest.raises(ConfigError, match=r"^image img: label xc-scenario.catalog is nested"):
        routes_from_label("img", labels, lambda *_: None)
    report = ImageReport("img")
    assert _label_json(CATALOG_LABEL, deep_json(5000), report) is _UNREADABLE
    assert [str(p) for p in report.problems] == [
        f"label {CATALOG_LABEL}: nested deeper than the limit of {MAX_DEPTH} levels of "
        "objects and arrays"
    ]


def test_a_label_over_the_size_cap_is_one_line_before_it_is_read() -> None:
    big = json.dumps([{"namespace": "ns", "name": "t", "description": "x" * MAX_CATALOG_BYTES}])
    with pytest.raises(ConfigError, match=r"label xc-scenario.catalog is [0-9,]+ bytes, over"):
        routes_from_label("img", {CATALOG_LABEL: big}, lambda *_: None)
    report = ImageReport("img")
    assert _label_json(CATALOG_LABEL, big, report) is _UNREADABLE
    assert str(report.problems[0]).endswith("bytes, over the limit of 512 KiB")
    assert size_problem("x" * MAX_CATALOG_BYTES) is None


def test_a_task_folders_files_are_read_with_the_labels_caps(tmp_path: Path) -> None:
    folder = tmp_path / "my-task"
    folder.mkdir()
    (folder / "Dockerfile").write_text("FROM scratch\n")
    os.mkfifo(folder / "catalog.json")
    [said] = folder_labels(folder, "my-task").problems
    assert said == "my-task/catalog.json: cannot be read: not a regular file (a FIFO)"
    (folder / "catalog.json").unlink()
    (folder / "catalog.json").write_text(deep_json(5000))
    [said] = folder_labels(folder, "my-task").problems
    assert said.endswith(
        f"nested deeper than the limit of {MAX_DEPTH} levels of objects and arrays"
    )
    big_file(tmp_path, MAX_CATALOG_BYTES + 1).rename(folder / "catalog.json")
    [said] = folder_labels(folder, "my-task").problems
    assert said == "my-task/catalog.json: cannot be read: larger than the limit of 512 KiB"
    (folder / "Dockerfile").unlink()
    big_file(tmp_path, 2 << 20).rename(folder / "Dockerfile")
    with pytest.raises(UsageError, match="cannot read its Dockerfile: larger than the limit"):
        plan(folder, context=None, tag=None, base="local", given={})


def one_line(result: subprocess.CompletedProcess[str], code: int) -> str:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    return result.stderr


RUN = ["run", "img", "--server", "http://127.0.0.1:9", "--api-key", "k"]


def files_given(tmp_path: Path, fifo: Path) -> dict[str, tuple[Path, str]]:
    deep = tmp_path / "deep.toml"
    deep.write_text(deep_toml(5000))
    return {
        "fifo": (fifo, "not a regular file (a FIFO)"),
        "zero": (Path("/dev/zero"), "not a regular file (a character device)"),
        "urandom": (Path("/dev/urandom"), "not a regular file (a character device)"),
        "folder": (tmp_path, "not a regular file (a folder)"),
        "large": (big_file(tmp_path, MAX_INPUT_JSON_BYTES + 1), "larger than the limit of"),
        "deep": (deep, f"nested deeper than the limit of {MAX_DEPTH} levels"),
    }


COMMANDS: dict[str, Callable[[Path], list[str]]] = {
    "run --config": lambda path: [*RUN, "--config", str(path)],
    "exec --config": lambda path: ["exec", "img", "ns/t", "--config", str(path)],
    "run --api-key-file": lambda path: [*RUN[:4], "--api-key-file", str(path)],
    "serve --api-key-file": lambda path: ["serve", "--port", "0", "--api-key-file", str(path)],
    "status --api-key-file": lambda path: ["status", "x", "--api-key-file", str(path)],
    "exec --input-json": lambda path: ["exec", "img", "ns/t", "--input-json", str(path)],
}


# Every command with a FIFO (the one that blocked forever); each other kind with some.
CASES = [(command, "fifo") for command in COMMANDS] + [
    ("run --config", "zero"),
    ("serve --api-key-file", "urandom"),
    ("run --api-key-file", "zero"),
    ("exec --input-json", "zero"),
    ("exec --config", "folder"),
    ("status --api-key-file", "large"),
    ("run --config", "large"),
    ("exec --input-json", "large"),
    ("run --config", "deep"),
    ("exec --input-json", "deep"),
]


@pytest.mark.parametrize(("command", "given"), CASES)
def test_every_file_a_command_reads_is_refused_at_once_in_one_line(
    command: str, given: str, tmp_path: Path, fifo: Path
) -> None:
    path, why = files_given(tmp_path, fifo)[given]
    if given == "deep" and "--config" not in command:
        path = tmp_path / "deep.json"
        path.write_text('{"x": ' + deep_json(5000) + "}")
    started = time.monotonic()
    done = xc_runner(*COMMANDS[command](path), timeout_s=30)
    said = one_line(done, 2)
    assert str(path) in said and why in said, said
    print(f"{command} {given}: {time.monotonic() - started:.1f} s: {said.strip()}")


def test_a_local_server_database_that_is_a_fifo_is_one_line(fifo: Path) -> None:
    done = xc_runner("serve", "--db", str(fifo), "--port", str(free_port()), timeout_s=30)
    said = one_line(done, 3)
    assert f"cannot open the local server's database {fifo}: not a regular file (a FIFO)" in said

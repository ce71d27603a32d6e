"""Per-image secrets without an engine: names, snapshots and their versions, reading the host
files, the private copies a container mounts, the launcher in front of the engine, the
start-up check, and statuses cleaned of every secret read."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import pytest

from runner.app.secrecy import RedactedStatuses, check_secrets, keep_out_of_logs
from runner.core.errors import ConfigError, EngineError, SecretError
from runner.core.model import TaskStatus
from runner.core.policy import ContainerEnv, PolicyTable, TaskPolicy
from runner.core.secrets import (
    MAX_SECRET_BYTES,
    SECRETS_MOUNT,
    SecretSnapshot,
    SecretSource,
    redactable,
    secret_name_problem,
)
from runner.engine.interface import ContainerSpec
from runner.engine.secrets import SecretFiles, SecretLauncher, SecretReader, read_secret
from runner.ops.logs import redacted
from tests.unit.fakes import FakeContainer, FakeEngine, RecordingSink


@pytest.mark.parametrize("name", ["api_token", "a", "tls.key", "A-1_b.c", "x" * 64])
def test_plain_file_names_are_secret_names(name: str) -> None:
    assert secret_name_problem(name) is None


@pytest.mark.parametrize(
    "name", ["", ".hidden", "a/b", "../x", "a..b", "trailing-", "x" * 65, "sp ace", "é"]
)
def test_other_names_are_refused_naming_them(name: str) -> None:
    problem = secret_name_problem(name)
    assert problem is not None and problem.startswith(f"secret name {name!r} is not a plain file")


def test_a_snapshots_version_tells_contents_apart_and_its_repr_shows_none() -> None:
    one = SecretSnapshot((("a", b"value-1"),))
    assert one.version == SecretSnapshot((("a", b"value-1"),)).version
    assert one.version != SecretSnapshot((("a", b"value-2"),)).version
    assert one.version != SecretSnapshot((("b", b"value-1"),)).version
    assert SecretSnapshot((("a", b"x"), ("b", b"y"))).version != SecretSnapshot(
        (("a", b"xb"), ("", b"y"))
    ).version
    assert SecretSnapshot().version == ""
    assert "value-1" not in repr(one) and "value-1" not in str(one)


def test_the_texts_kept_out_of_logs_are_the_value_and_its_long_lines() -> None:
    assert redactable(b"t0ken\n") == ["t0ken"]
    key = b"-----BEGIN KEY-----\nAAAABBBBCCCC\nshort\n-----END KEY-----\n"
    assert redactable(key) == [
        key.decode().strip(),
        "-----BEGIN KEY-----",
        "AAAABBBBCCCC",
        "-----END KEY-----",
    ]


def source(tmp_path: Path, content: bytes | None, name: str = "api_token") -> SecretSource:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    return SecretSource(name, str(path))


def test_a_secret_is_read_as_it_is(tmp_path: Path) -> None:
    assert read_secret("img", source(tmp_path, b"  s3cret\n")) == b"  s3cret\n"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "cannot be read: No such file or directory"),
        (b"", "is empty"),
        (b" \n\t", "is empty"),
        (b"x" * (MAX_SECRET_BYTES + 1), "cannot be read: larger than the limit of 1 MiB"),
    ],
)
def test_a_secret_that_cannot_be_used_is_named_never_shown(
    tmp_path: Path, content: bytes | None, problem: str
) -> None:
    secret = source(tmp_path, content)
    with pytest.raises(SecretError) as refused:
        read_secret("team/ocr:1", secret)
    assert str(refused.value) == f"image team/ocr:1: secret api_token ({secret.path}) {problem}"


def test_a_folder_is_not_a_secret(tmp_path: Path) -> None:
    with pytest.raises(SecretError, match=r"\) cannot be read: not a regular file \(a folder\)$"):
        read_secret("img", SecretSource("api_token", str(tmp_path)))


def test_the_reader_tells_each_new_content_once(tmp_path: Path) -> None:
    told: list[bytes] = []
    reader = SecretReader(told.append)
    secret = source(tmp_path, b"first-value")
    first = reader.snapshot("img", [secret])
    assert reader.snapshot("img", [secret]).version == first.version
    Path(secret.path).write_bytes(b"second-value")
    assert reader.snapshot("img", [secret]).version != first.version
    assert told == [b"first-value", b"second-value"]


def test_copies_are_private_readable_in_their_container_and_removed(tmp_path: Path) -> None:
    files = SecretFiles(tmp_path / "copies", "runner-1")
    files.check()
    folder = files.write(SecretSnapshot((("api_token", b"v1"), ("tls.key", b"v2"))))
    assert folder.parent == tmp_path / "copies" / "runner-1"
    assert stat.S_IMODE((tmp_path / "copies").stat().st_mode) == 0o700
    assert stat.S_IMODE(files.root.stat().st_mode) == 0o700
    assert stat.S_IMODE(folder.stat().st_mode) == 0o755
    assert (folder / "api_token").read_bytes() == b"v1"
    assert stat.S_IMODE((folder / "tls.key").stat().st_mode) == 0o444
    files.remove(folder)
    assert not folder.exists()
    files.write(SecretSnapshot((("a", b"x"),)))
    files.clear()
    assert not files.root.exists() and (tmp_path / "copies").is_dir()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_folder_of_the_runners_own_is_used_as_it_is_a_link_refused(tmp_path: Path) -> None:
    base = tmp_path / "copies"
    base.mkdir()
    base.chmod(0o755)
    files = SecretFiles(base, "r")
    assert files.check() == base / "r"
    assert mode(base) == 0o755 and mode(base / "r") == 0o700
    link = tmp_path / "link"
    link.symlink_to(base)
    with pytest.raises(SecretError, match="is not a folder"):
        SecretFiles(link, "r").check()


def test_a_shared_folder_keeps_its_mode_the_copies_go_to_a_private_one_inside(
    tmp_path: Path,
) -> None:
    base = tmp_path / "shm"
    base.mkdir()
    base.chmod(0o1777)  # as /dev/shm and /tmp are
    files = SecretFiles(base, "r")
    folder = files.write(SecretSnapshot((("a", b"x"),)))
    own = base / f"xc-runner-{os.getuid()}"
    assert folder.parent == own / "r"
    assert mode(base) == 0o1777 and mode(own) == 0o700 and mode(own / "r") == 0o700
    files.clear()
    assert not (own / "r").exists() and mode(base) == 0o1777


@pytest.mark.parametrize("shared", [0o777, 0o775, 0o757])
def test_a_folder_others_can_write_in_without_the_sticky_bit_is_refused(
    shared: int, tmp_path: Path
) -> None:
    base = tmp_path / "open"
    base.mkdir()
    base.chmod(shared)
    with pytest.raises(SecretError, match=f"can be written by other users \\(mode {shared:o}\\)"):
        SecretFiles(base, "r").check()
    assert mode(base) == shared and list(base.iterdir()) == []


def test_a_folder_in_the_way_that_is_not_private_is_refused_not_changed(tmp_path: Path) -> None:
    base = tmp_path / "shm"
    base.mkdir()
    base.chmod(0o1777)
    squatted = base / f"xc-runner-{os.getuid()}"
    squatted.mkdir()
    squatted.chmod(0o755)
    with pytest.raises(SecretError, match="is not the runner's own private folder"):
        SecretFiles(base, "r").check()
    assert mode(squatted) == 0o755


def test_nothing_is_removed_before_the_folder_was_checked(tmp_path: Path) -> None:
    theirs = tmp_path / "r"
    theirs.mkdir()
    SecretFiles(tmp_path, "r").clear()  # a runner whose images have no secrets
    assert theirs.is_dir()


def spec(*sources: SecretSource) -> ContainerSpec:
    return ContainerSpec(image="img", labels={}, env=ContainerEnv(secrets=sources))


class Engine(FakeEngine):
    def image_id(self, image: str) -> str:
        return "sha256:1"


def test_the_launcher_mounts_a_copy_and_removes_it_with_the_container(tmp_path: Path) -> None:
    engine = Engine(containers=[FakeContainer([])])
    launcher = SecretLauncher(engine, SecretReader(), SecretFiles(tmp_path / "c", "r"))
    container = launcher.launch(spec(source(tmp_path, b"v1")))
    [launched] = engine.launched
    [(folder, target)] = launched.mounts
    assert target == SECRETS_MOUNT
    assert (Path(folder) / "api_token").read_bytes() == b"v1"
    container.remove()
    assert not Path(folder).exists()


def test_without_secrets_nothing_is_mounted_and_a_failed_launch_leaves_no_copy(
    tmp_path: Path,
) -> None:
    engine = Engine(containers=[FakeContainer([])])
    launcher = SecretLauncher(engine, SecretReader(), SecretFiles(tmp_path / "c", "r"))
    launcher.launch(spec())
    assert engine.launched[0].mounts == ()
    engine.fail_launch = True
    with pytest.raises(EngineError):
        launcher.launch(spec(source(tmp_path, b"v1")))
    assert list((tmp_path / "c" / "r").iterdir()) == []


def test_the_launcher_gives_exactly_the_snapshot_it_is_handed(tmp_path: Path) -> None:
    engine = Engine(containers=[FakeContainer([])])
    launcher = SecretLauncher(engine, SecretReader(), SecretFiles(tmp_path / "c", "r"))
    given = SecretSnapshot((("api_token", b"as-read-at-hand-out"),))
    secret = source(tmp_path, b"changed-since")
    launcher.launch(ContainerSpec("img", {}, env=ContainerEnv(secrets=(secret,)), secrets=given))
    [(folder, _)] = engine.launched[0].mounts
    assert (Path(folder) / "api_token").read_bytes() == b"as-read-at-hand-out"


def test_an_engine_that_gives_secrets_itself_gets_them_as_read_and_no_copy_is_made(
    tmp_path: Path,
) -> None:
    engine = Engine(containers=[FakeContainer([])])
    files = SecretFiles(tmp_path / "c", "r")
    launcher = SecretLauncher(engine, SecretReader(), files, copies=False)
    launcher.launch(spec(source(tmp_path, b"v1")))
    [launched] = engine.launched
    assert launched.mounts == ()
    assert launched.secrets == SecretSnapshot((("api_token", b"v1"),))
    assert not (tmp_path / "c").exists()


def policies(image_env: ContainerEnv) -> PolicyTable:
    return PolicyTable(TaskPolicy(), {"team/ocr:1": TaskPolicy(env=image_env)})


def test_start_up_reads_each_secret_names_a_bad_one_and_warns_of_a_short_one(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    files = SecretFiles(tmp_path / "copies", "r")
    good = policies(ContainerEnv((("A", "1"),), (source(tmp_path, b"abc\n"),)))
    with caplog.at_level(logging.INFO):
        assert check_secrets(good, SecretReader(), files) is True
    assert "image team/ocr:1: its tasks get environment A; secrets api_token (from" in caplog.text
    assert "secret api_token is shorter than 4 characters" in caplog.text
    assert files.root.is_dir()
    missing = policies(ContainerEnv(secrets=(source(tmp_path, None, "gone"),)))
    with pytest.raises(ConfigError, match=r"^image team/ocr:1: secret gone \("):
        check_secrets(missing, SecretReader(), files)
    assert check_secrets(PolicyTable(), SecretReader(), files) is False


def test_statuses_are_cleaned_of_every_secret_read() -> None:
    keep_out_of_logs(b"hunter2-the-secret\n")
    sink = RecordingSink()
    RedactedStatuses(sink).submit(
        TaskStatus(
            "i1",
            "Completed",
            "said hunter2-the-secret",
            {"out": ["x hunter2-the-secret"], "hunter2-the-secret": {"n": 1}},
        )
    )
    [status] = sink.statuses
    assert status.message == "said <redacted>"
    assert status.output_values == {"out": ["x <redacted>"], "<redacted>": {"n": 1}}
    assert redacted("hunter2-the-secret") == "<redacted>"


def test_the_folder_owner_must_be_the_runner(tmp_path: Path) -> None:
    if os.getuid() != 0:
        pytest.skip("only root can give a folder to another user")
    base = tmp_path / "theirs"
    base.mkdir()
    os.chown(base, 65534, 65534)
    with pytest.raises(SecretError, match="belongs to uid 65534, not to the runner's user"):
        SecretFiles(base, "r").check()

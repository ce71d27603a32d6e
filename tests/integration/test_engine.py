"""The Docker engine boundary against a real engine and real containers."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from runner.core.errors import ConfigError
from runner.core.policy import ContainerLimits
from runner.core.protocol import Stream, encode_envelope
from runner.engine.docker_engine import DockerEngine
from runner.engine.interface import LABEL_RUNNER_ID, Chunk, Container, ContainerSpec

pytestmark = pytest.mark.integration


def spec(image: str, runner_id: str, **limits: object) -> ContainerSpec:
    return ContainerSpec(
        image=image, labels={LABEL_RUNNER_ID: runner_id}, limits=ContainerLimits(**limits)
    )  # type: ignore[arg-type]


def collect(container: Container, timeout_s: float = 30) -> tuple[bytes, bytes]:
    out, err = bytearray(), bytearray()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        chunks: list[Chunk] | None = container.read(1.0)
        if chunks is None:
            return bytes(out), bytes(err)
        for stream, data in chunks:
            (out if stream == Stream.STDOUT else err).extend(data)
    raise AssertionError("the container's output did not end")


def run_task(
    engine: DockerEngine, image: str, runner_id: str, task: str, inputs: dict[str, str]
) -> tuple[bytes, bytes, int]:
    container = engine.launch(spec(image, runner_id))
    try:
        container.send(encode_envelope("probe", task, "t1", inputs))
        out, err = collect(container)
        return out, err, container.wait(30).exit_code
    finally:
        container.remove()


def test_labels_are_read_without_running_the_image(engine: DockerEngine, probe_image: str) -> None:
    labels = engine.image_labels(probe_image)
    catalog = json.loads(labels["xc-scenario.catalog"])
    assert {definition["namespace"] for definition in catalog} == {"probe"}


def test_a_missing_image_is_a_config_error_naming_it(engine: DockerEngine) -> None:
    with pytest.raises(ConfigError, match="image xc-test/absent:nope not found"):
        engine.image_labels("xc-test/absent:nope")


def test_stdin_reaches_the_task_and_stdout_stderr_come_back_apart(
    engine: DockerEngine, probe_image: str, runner_id: str
) -> None:
    out, err, code = run_task(engine, probe_image, runner_id, "crash", {})
    assert (out, code) == (b"", 3)
    assert err == b"about to fail\nfatal: probe crashed on purpose\n"
    out, _, code = run_task(engine, probe_image, runner_id, "echo", {"text": "héllo\nworld"})
    assert out == b'{"type": "result", "outputs": {"text": "h\\u00e9llo\\nworld"}}\n'
    assert code == 0


def test_large_input_and_output_pass_whole_without_deadlock(
    engine: DockerEngine, probe_image: str, runner_id: str
) -> None:
    data = "d" * (3 * 1024 * 1024)
    out, _, _ = run_task(engine, probe_image, runner_id, "big_input", {"data": data})
    assert out.endswith(b'{"type": "result", "outputs": {"size": "3145728"}}\n')
    out, _, _ = run_task(engine, probe_image, runner_id, "flood", {"kib": "4096"})
    assert len(out) == 4096 * 1024 + len(b'{"type": "result", "outputs": {"done": "yes"}}\n')


def test_containers_are_contained_by_default(
    engine: DockerEngine, probe_image: str, runner_id: str
) -> None:
    out, _, code = run_task(engine, probe_image, runner_id, "whoami", {})
    assert code == 0
    assert b'"uid": "65534", "gid": "65534", "root_writable": "no", "tmp_writable": "yes"' in out
    container = engine.launch(spec(probe_image, runner_id, memory_bytes=256 * 1024**2, pids=64))
    try:
        host = engine._api.inspect_container(container.id)["HostConfig"]
        assert host["NetworkMode"] == "none"
        assert host["ReadonlyRootfs"] is True
        assert host["CapDrop"] == ["ALL"]
        assert host["SecurityOpt"] == ["no-new-privileges"]
        assert host["Memory"] == host["MemorySwap"] == 256 * 1024**2
        assert host["PidsLimit"] == 64
        assert host["Init"] is True
        assert host["LogConfig"]["Type"] == "none"
    finally:
        container.remove()


def test_stop_ends_a_running_container_and_remove_is_idempotent(
    engine: DockerEngine, probe_image: str, runner_id: str
) -> None:
    container = engine.launch(spec(probe_image, runner_id))
    container.send(encode_envelope("probe", "sleep", "t", {"seconds": "600"}))
    assert container.read(0.3) == []
    started = time.monotonic()
    container.stop(1)
    assert container.read(5) is None
    assert time.monotonic() - started < 5
    container.remove()
    container.remove()


def test_remove_labelled_removes_only_the_labelled(
    engine: DockerEngine, probe_image: str, runner_id: str
) -> None:
    other = f"test-other-{uuid.uuid4().hex[:8]}"
    mine = engine.launch(spec(probe_image, runner_id))
    theirs = engine.launch(spec(probe_image, other))
    try:
        assert engine.remove_labelled({LABEL_RUNNER_ID: runner_id}) == [mine.id]
        assert engine.remove_labelled({LABEL_RUNNER_ID: other}) == [theirs.id]
    finally:
        mine.remove()
        theirs.remove()

"""Tasks under gVisor (`runtime = "runsc"`): through the engine boundary and the whole runner.

Needs the engine to have the `runsc` runtime (`make gvisor`, or `make test GVISOR=1`):
skipped on a developer's machine without it, failed under CI=true, where CI installs it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runner.core.policy import ContainerLimits
from runner.core.protocol import encode_envelope
from runner.engine.docker_engine import DockerEngine
from runner.engine.interface import LABEL_RUNNER_ID, ContainerSpec
from runner.localserver import LocalServer
from runner.localserver.client import LocalClient
from tests.conftest import SAMPLE_IMAGE
from tests.integration.processes import (
    ended,
    runner_process,
    task_starts,
    wait_for,
    warm_ready,
)
from tests.integration.test_engine import collect

pytestmark = pytest.mark.integration

KEY = "gvisor-key"
# What gVisor's kernel log starts with (syslog(2)); runc's seccomp profile refuses the call.
GVISOR_BOOT = "Starting gVisor"


def run_probe(
    engine: DockerEngine,
    image: str,
    runner_id: str,
    task: str,
    inputs: dict[str, str],
    **limits: Any,
) -> tuple[dict[str, str], bytes, int, bool, dict[str, Any]]:
    """(result outputs, stderr, exit code, OOM-killed, HostConfig) of one probe task."""
    spec = ContainerSpec(
        image=image, labels={LABEL_RUNNER_ID: runner_id}, limits=ContainerLimits(**limits)
    )
    container = engine.launch(spec)
    try:
        host: dict[str, Any] = engine._api.inspect_container(container.id)["HostConfig"]
        container.send(encode_envelope("probe", task, "t1", inputs))
        out, err = collect(container, timeout_s=60)
        exit_info = container.wait(60)
    finally:
        container.remove()
    results = [json.loads(line) for line in out.splitlines() if line.strip()]
    outputs = next((m["outputs"] for m in results if m.get("type") == "result"), {})
    return outputs, err, exit_info.exit_code, exit_info.oom_killed, host


def test_a_task_runs_contained_under_gvisor_on_gvisors_kernel(
    engine: DockerEngine, probe_image: str, runner_id: str, gvisor: str
) -> None:
    kernel, err, code, _, host = run_probe(
        engine, probe_image, runner_id, "kernel", {}, runtime=gvisor
    )
    assert code == 0, err
    assert host["Runtime"] == gvisor
    assert GVISOR_BOOT in kernel["log"], kernel
    # The same task under the engine's default runtime sees the host's kernel.
    on_runc, _, _, _, runc_host = run_probe(engine, probe_image, runner_id, "kernel", {})
    assert runc_host["Runtime"] == "runc"
    assert GVISOR_BOOT not in on_runc["log"]
    assert kernel["release"] != on_runc["release"]

    who, err, code, _, host = run_probe(
        engine, probe_image, runner_id, "whoami", {}, runtime=gvisor
    )
    assert code == 0, err
    assert (who["uid"], who["gid"]) == ("65534", "65534")
    assert (who["root_writable"], who["tmp_writable"]) == ("no", "yes")
    # The hardening is asked of gVisor as of runc.
    assert host["NetworkMode"] == "none"
    assert host["ReadonlyRootfs"] is True
    assert host["CapDrop"] == ["ALL"]
    assert host["Init"] is True

    echoed, err, code, _, _ = run_probe(
        engine, probe_image, runner_id, "echo", {"text": "héllo\nworld"}, runtime=gvisor
    )
    assert (echoed, code) == ({"text": "héllo\nworld"}, 0), err


def test_running_out_of_memory_under_gvisor_is_reported_as_oom(
    engine: DockerEngine, probe_image: str, runner_id: str, gvisor: str
) -> None:
    outputs, _, code, oom, _ = run_probe(
        engine,
        probe_image,
        runner_id,
        "allocate",
        {"mib": "256"},
        runtime=gvisor,
        memory_bytes=64 * 1024**2,
    )
    assert outputs == {}
    assert (code, oom) == (137, True)


def test_the_default_process_limit_still_means_processes_under_gvisor(
    engine: DockerEngine, probe_image: str, runner_id: str, gvisor: str
) -> None:
    # gVisor's own threads count against the engine's pids limit (unscaled, 256 would
    # kill the sandbox at about 25 processes); the runner scales it.
    outputs, err, code, _, host = run_probe(
        engine, probe_image, runner_id, "spawn", {"processes": "60"}, runtime=gvisor
    )
    assert (outputs, code) == ({"spawned": "60"}, 0), err
    assert host["PidsLimit"] > ContainerLimits().pids
    _, _, _, _, runc_host = run_probe(engine, probe_image, runner_id, "spawn", {"processes": "1"})
    assert runc_host["PidsLimit"] == ContainerLimits().pids


def test_a_task_under_gvisor_is_stopped_on_time(
    engine: DockerEngine, probe_image: str, runner_id: str, gvisor: str
) -> None:
    spec = ContainerSpec(
        image=probe_image,
        labels={LABEL_RUNNER_ID: runner_id},
        limits=ContainerLimits(runtime=gvisor),
    )
    container = engine.launch(spec)
    try:
        container.send(encode_envelope("probe", "sleep", "t", {"seconds": "600"}))
        assert container.read(0.5) == []
        started = time.monotonic()
        container.stop(1)
        assert container.wait(10).exit_code != 0
        assert time.monotonic() - started < 5
    finally:
        container.remove()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalServer]:
    with LocalServer(tmp_path / "scenario.db", port=0, api_key=KEY) as local:
        yield local


def test_the_runner_runs_tasks_under_gvisor_when_told_to(
    server: LocalServer,
    task_images: list[str],
    probe_image: str,
    runner_id: str,
    gvisor: str,
) -> None:
    """Warm containers too: the pool fills first, and the tasks get its containers."""
    client = LocalClient(server.url, KEY)
    env = {"XC_RUNNER_RUNTIME": gvisor, "XC_RUNNER_CONCURRENCY": "2"}
    with runner_process(server.url, KEY, [SAMPLE_IMAGE, probe_image], runner_id, env=env) as runner:
        wait_for(warm_ready(runner_id, 4), 120, "the warm pool to fill", runner)
        simple = client.submit("sample", "simple", {"arg": "sandboxed"})["id"]
        kernel = client.submit("probe", "kernel", {})["id"]
        wait_for(
            lambda: ended(client, simple, kernel),
            120,
            "both tasks to end",
            runner,
        )
        assert runner.stop() == 0, runner.log()
        starts = task_starts(runner.log())
    assert starts[f"sample/simple#{simple}"][0] == "warm", starts
    assert starts[f"probe/kernel#{kernel}"][0] == "warm", starts
    simple_view, kernel_view = client.instance(simple), client.instance(kernel)
    assert [(s["status"], s["outputValues"]) for s in simple_view["statuses"]] == [
        ("Completed", {"msg": 'The argument received was "sandboxed".'})
    ], simple_view
    (done,) = kernel_view["statuses"]
    assert done["status"] == "Completed", kernel_view
    assert GVISOR_BOOT in done["outputValues"]["log"]

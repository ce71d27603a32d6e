"""Per-image environment and secrets through the whole runner: each image's tasks see their
own secrets in /run/secrets and nothing else, no log line (text or JSON) and no status holds
a secret, a rotated file reaches the next task through the warm pool, and bad secrets stop
the start-up. The runner is its own process, against the local server."""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runner.localserver import LocalServer
from runner.localserver.client import LocalClient
from tests.conftest import RUNSC, remove_images, runner_containers, xc_runner
from tests.integration.processes import (
    RunnerProcess,
    container_of,
    ended,
    runner_process,
    task_starts,
    wait_for,
    warm_ready,
)
from tests.integration.registry_support import build_task_image

pytestmark = pytest.mark.integration

KEY = "secrets-test-key"


@pytest.fixture(scope="module")
def images(engine: Any) -> Iterator[tuple[str, str]]:
    """Two task images, namespaces `seca` and `secb`, of this module's own."""
    run = uuid.uuid4().hex[:8]
    first, second = f"xc-test/secrets-a:{run}", f"xc-test/secrets-b:{run}"
    build_task_image(first, namespace="seca")
    build_task_image(second, namespace="secb")
    yield first, second
    remove_images(first, second)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalServer]:
    with LocalServer(tmp_path / "scenario.db", port=0, api_key=KEY) as local:
        yield local


def secret_file(folder: Path, name: str) -> tuple[Path, str]:
    """A file only root may read (the task's user reads the runner's copy), and its value."""
    value = f"{name}-{secrets.token_hex(12)}"
    path = folder / name
    path.write_text(value + "\n")
    path.chmod(0o600)
    return path, value


def config(folder: Path, text: str) -> dict[str, str]:
    (folder / "policy.toml").write_text(text)
    return {"XC_RUNNER_CONFIG": str(folder / "policy.toml")}


def look(client: LocalClient, runner: RunnerProcess, namespace: str, **inputs: str) -> Any:
    instance_id = client.submit(namespace, "look", inputs)["id"]
    wait_for(lambda: ended(client, instance_id), 90, "the look task", runner)
    return client.instance(instance_id)["statuses"][-1]


def sha(value: str) -> str:
    return hashlib.sha256((value + "\n").encode()).hexdigest()


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_each_image_sees_its_own_secrets_only_and_no_log_or_status_holds_one(
    images: tuple[str, str], server: LocalServer, runner_id: str, tmp_path: Path, log_format: str
) -> None:
    first, second = images
    token, token_value = secret_file(tmp_path, "api_token")
    other, other_value = secret_file(tmp_path, "other_token")
    env = config(
        tmp_path,
        f'[images."{first}".env]\nGREETING = "hello"\nCOUNT = 3\n'
        f'[images."{first}".secrets]\napi_token = "{token}"\n'
        f'[images."{second}".secrets]\nother_token = "{other.name}"\n',  # relative to the file
    )
    copies = tmp_path / "copies"
    env |= {
        "XC_RUNNER_POOL_SIZE": "1",
        "XC_RUNNER_LOG_FORMAT": log_format,
        "XC_RUNNER_SECRETS_DIR": str(copies),
    }
    client = LocalClient(server.url, KEY)
    with runner_process(server.url, KEY, [first, second], runner_id, env=env) as runner:
        wait_for(warm_ready(runner_id, 2), 120, "the warm pool to fill", runner)
        mine, theirs = look(client, runner, "seca"), look(client, runner, "secb")
        failed = look(client, runner, "seca", fail="yes")
        assert runner.stop() == 0, runner.log()
        log = runner.log()
    assert mine["status"] == "Completed", (mine, log)
    outputs = mine["outputValues"]
    assert outputs["secrets"] == {"api_token": sha(token_value)}
    assert outputs["uid"] == "65534"
    assert {"GREETING": "hello", "COUNT": "3"}.items() <= outputs["env"].items()
    assert theirs["outputValues"]["secrets"] == {"other_token": sha(other_value)}
    assert "GREETING" not in theirs["outputValues"]["env"]
    # The task printed its secret on stderr: the runner logged that line, and its Error
    # quotes it, each with the secret replaced.
    assert failed["status"] == "Error"
    assert failed["message"].startswith("the task exited with code 3 without sending a result")
    assert "secret api_token holds <redacted>" in failed["message"]
    assert "secret api_token holds <redacted>" in log
    everything = log + json.dumps(client.instance(mine["taskInstanceId"]))
    for value in (token_value, other_value):
        assert value not in everything
        assert value not in json.dumps([mine, theirs, failed])
    assert not list(copies.rglob("*_token")), "a secret's copy outlived its container"
    assert "warm" in {start for start, _ in task_starts(log).values()}, "no warm container used"
    if log_format == "json":
        assert all(json.loads(line) for line in log.splitlines())


def test_a_secret_rotated_between_two_tasks_reaches_the_second(
    images: tuple[str, str], server: LocalServer, runner_id: str, tmp_path: Path
) -> None:
    first, _ = images
    token, before = secret_file(tmp_path, "api_token")
    env = config(tmp_path, f'[images."{first}".secrets]\napi_token = "{token}"\n')
    env |= {"XC_RUNNER_POOL_SIZE": "1", "XC_RUNNER_CONCURRENCY": "1"}
    env["XC_RUNNER_SECRETS_DIR"] = str(tmp_path / "copies")
    client = LocalClient(server.url, KEY)
    with runner_process(server.url, KEY, [first], runner_id, env=env) as runner:
        wait_for(warm_ready(runner_id, 1), 120, "the warm pool to fill", runner)
        seen = look(client, runner, "seca")
        assert seen["outputValues"]["secrets"] == {"api_token": sha(before)}
        used = container_of(runner.log(), seen["taskInstanceId"])
        assert used is not None
        # A warm container given the old value waits for the next task.
        wait_for(
            lambda: any(
                not c["Id"].startswith(used)
                for c in runner_containers(runner_id, running=True, warm=True)
            ),
            120,
            "the pool refilled with the old value",
            runner,
        )
        after = f"rotated-{secrets.token_hex(12)}"
        rotated = token.with_name("api_token.new")  # written beside it, renamed over it
        rotated.write_text(after + "\n")
        rotated.replace(token)
        assert look(client, runner, "seca")["outputValues"]["secrets"] == {"api_token": sha(after)}
        assert look(client, runner, "seca")["outputValues"]["secrets"] == {"api_token": sha(after)}
        assert runner.stop() == 0, runner.log()
        log = runner.log()
    assert before not in log and after not in log


@pytest.mark.parametrize(
    ("section", "problem", "exit_code"),
    [
        ('api_token = "{folder}/absent"', "secret api_token ({folder}/absent) cannot be read", 3),
        ('api_token = "{folder}/empty"', "secret api_token ({folder}/empty) is empty", 3),
        ('api_token = "{folder}"', "secret api_token ({folder}) cannot be read: not a regular", 3),
        # a bad name is a bad setting (exit 2), found before anything is read
        ('"../api_token" = "{folder}/empty"', "secret name '../api_token' is not a plain file", 2),
    ],
)
def test_a_secret_that_cannot_be_used_stops_the_start_up(
    images: tuple[str, str],
    runner_id: str,
    tmp_path: Path,
    section: str,
    problem: str,
    exit_code: int,
) -> None:
    first, _ = images
    (tmp_path / "empty").write_text(" \n")
    env = config(tmp_path, f'[images."{first}".secrets]\n' + section.format(folder=tmp_path))
    with runner_process("http://127.0.0.1:9", KEY, [first], runner_id, env=env) as runner:
        code = runner.proc.wait(60)
        log = runner.log()
    assert code == exit_code, log
    assert problem.format(folder=tmp_path) in log
    assert first in log
    assert "Traceback" not in log


def test_exec_gives_an_image_its_env_and_secrets_and_removes_their_copies(
    images: tuple[str, str], tmp_path: Path
) -> None:
    first, _ = images
    token, value = secret_file(tmp_path, "api_token")
    env = config(
        tmp_path,
        f'[images."{first}".env]\nGREETING = "hi"\n'
        f'[images."{first}".secrets]\napi_token = "{token}"\n',
    )
    copies = tmp_path / "copies"
    done = xc_runner(
        "exec", first, "seca/look", env={**env, "XC_RUNNER_SECRETS_DIR": str(copies)}, timeout_s=120
    )
    assert done.returncode == 0, done.stderr
    outputs = json.loads(done.stdout)
    assert outputs["secrets"] == {"api_token": sha(value)}
    assert outputs["env"]["GREETING"] == "hi"
    assert value not in done.stdout + done.stderr
    assert list(copies.iterdir()) == [], "exec left its secrets' copies"


@pytest.mark.usefixtures("gvisor")
def test_a_task_under_gvisor_reads_its_secret_too(
    images: tuple[str, str], server: LocalServer, runner_id: str, tmp_path: Path
) -> None:
    first, _ = images
    token, value = secret_file(tmp_path, "api_token")
    env = config(
        tmp_path,
        f'[images."{first}"]\nruntime = "{RUNSC}"\n'
        f'[images."{first}".secrets]\napi_token = "{token}"\n',
    )
    env |= {"XC_RUNNER_POOL_SIZE": "0", "XC_RUNNER_SECRETS_DIR": str(tmp_path / "copies")}
    client = LocalClient(server.url, KEY)
    with runner_process(server.url, KEY, [first], runner_id, env=env) as runner:
        seen = look(client, runner, "seca")
        assert runner.stop() == 0, runner.log()
    assert seen["status"] == "Completed", seen
    assert seen["outputValues"]["secrets"] == {"api_token": sha(value)}
    assert seen["outputValues"]["uid"] == "65534"

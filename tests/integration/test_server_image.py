"""The local server from the runner's own image, started with testcontainers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from testcontainers.core.container import DockerContainer
from testcontainers.core.wait_strategies import LogMessageWaitStrategy

from runner.localserver.client import LocalClient
from tests.conftest import SAMPLE_IMAGE, free_port
from tests.integration.processes import runner_process, wait_for

pytestmark = pytest.mark.integration

KEY = "image-test-key"


@pytest.fixture
def server_url(runner_image: str) -> Iterator[str]:
    port = free_port()
    container = (
        DockerContainer(runner_image)
        .with_command("serve --host 0.0.0.0 --port 8077 --db /tmp/scenario.db")
        .with_env("XC_SCENARIO_APIKEY", KEY)
        .waiting_for(LogMessageWaitStrategy("local server listening"))
    )
    # Published on the host's loopback only (with_bind_ports would bind every address).
    container.ports["8077/tcp"] = ("127.0.0.1", port)
    with container:
        yield f"http://127.0.0.1:{port}"


def test_the_server_image_serves_a_runner_on_the_host(
    server_url: str, task_images: list[str], runner_id: str
) -> None:
    client = LocalClient(server_url, KEY)
    instance_id = client.submit("sample", "double", {"nbr_in": "5"})["id"]
    with runner_process(server_url, KEY, [SAMPLE_IMAGE], runner_id) as runner:
        wait_for(
            lambda: client.instance(instance_id)["state"] == "Completed",
            60,
            "the task to complete",
            runner,
        )
        assert runner.stop() == 0
    statuses = client.instance(instance_id)["statuses"]
    assert [(s["status"], s["outputValues"]) for s in statuses] == [
        ("Completed", {"str_out": "xyz (default)xyz (default)", "nbr_out": "10"})
    ]


def test_the_server_image_serves_the_cockpit_with_the_key_off_loopback(server_url: str) -> None:
    """The image carries the page's files; listening on 0.0.0.0, its data needs the key."""
    page = requests.get(server_url + "/", timeout=10)
    assert page.status_code == 200 and "local cockpit" in page.text
    for path in ("/cockpit/main.js", "/cockpit/cockpit.css"):
        assert requests.get(server_url + path, timeout=10).status_code == 200
    from_the_page = {"X-XC-Cockpit": "1"}
    tasks = server_url + "/local/api/cockpit/tasks"
    assert requests.get(tasks, headers=from_the_page, timeout=10).status_code == 401
    with_key = {**from_the_page, "Authorization": f"bearer {KEY}"}
    answer = requests.get(tasks, headers=with_key, timeout=10)
    assert answer.status_code == 200 and answer.json()["tasks"] == []

"""Task type sections and caps through the whole runner, against the local server: a task
type capped at one runs one at a time while its other tasks stay queued on the server (for
another runner) and other task types run beside it; a task type's own memory limit holds
(it starts cold: the warm pool keeps its image's limits); a section for a task type no
served image declares stops the runner at start-up with one line (exit 3: the images'
catalogs refuse it)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from runner.localserver import LocalServer
from runner.localserver.client import LocalClient
from tests.integration.processes import ended, runner_process, task_starts, wait_for

pytestmark = pytest.mark.integration

KEY = "caps-key"
MIB = 1024**2


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalServer]:
    with LocalServer(tmp_path / "scenario.db", port=0, api_key=KEY) as local:
        yield local


def test_a_capped_task_type_stays_queued_for_another_runner(
    server: LocalServer, usage_image: str, runner_id: str, tmp_path: Path
) -> None:
    config = tmp_path / "runner.toml"
    config.write_text(
        '[tasks."usage/sleep"]\nmax_running = 1\n\n[tasks."usage/hoard"]\nmemory = "64m"\n'
    )
    client = LocalClient(server.url, KEY)
    env = {"XC_RUNNER_CONCURRENCY": "3", "XC_RUNNER_CONFIG": str(config)}
    with runner_process(server.url, KEY, [usage_image], runner_id, env=env) as runner:
        sleeps = [client.submit("usage", "sleep", {"seconds": 2})["id"] for _ in range(3)]
        wait_for(
            lambda: client.instance(sleeps[0])["state"] != "Queued", 60, "the first sleep", runner
        )
        burn = client.submit("usage", "burn", {"seconds": 0.1})["id"]
        hoard = client.submit("usage", "hoard", {})["id"]
        wait_for(lambda: ended(client, burn, hoard), 60, "burn and hoard, beside it", runner)
        states = [client.instance(i)["state"] for i in sleeps]
        assert states.count("Queued") == 2, states  # not taken: they wait for a free runner
        wait_for(lambda: ended(client, *sleeps), 120, "the sleeps, one at a time", runner)
        assert runner.stop() == 0, runner.log()
        starts = task_starts(runner.log())
    spans = sorted(
        (v["takenAt"], v["statuses"][-1]["receivedAt"])
        for v in (client.instance(i) for i in sleeps)
    )
    for (_, first_end), (second_taken, _) in itertools.pairwise(spans):
        assert second_taken >= first_end, spans  # never two at once
    used = client.instance(hoard)
    assert used["usage"]["limits"]["memoryBytes"] == 64 * MIB, used["usage"]
    assert used["usage"]["oomKilled"] is True
    assert "(limit 64 MiB)" in used["statuses"][-1]["message"]
    assert starts[f"usage/hoard#{hoard}"][0] == "cold", starts


def test_a_section_for_a_task_no_image_declares_stops_the_start_up(
    server: LocalServer, usage_image: str, runner_id: str, tmp_path: Path
) -> None:
    config = tmp_path / "runner.toml"
    config.write_text('[tasks."usage/slep"]\nmax_running = 1\n')
    env = {"XC_RUNNER_CONFIG": str(config)}
    with runner_process(server.url, KEY, [usage_image], runner_id, env=env) as runner:
        code = runner.proc.wait(60)
        log = runner.log()
    assert code == 3, log  # well-formed, but the images' catalogs refuse it
    assert "sections for task types no served image declares: usage/slep" in log

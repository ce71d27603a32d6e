"""The TOML task policy reaches the containers: per-image user, a runner-wide result cap,
and loosened defaults named in the log."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.localserver import LocalServer
from runner.localserver.client import LocalClient
from tests.integration.processes import runner_process, wait_for

pytestmark = pytest.mark.integration

KEY = "policy-key"


def test_a_policy_file_sets_defaults_and_per_image_overrides(
    probe_image: str, runner_id: str, tmp_path: Path
) -> None:
    config = tmp_path / "runner.toml"
    config.write_text(
        f"""
[defaults]
max_result_bytes = "4k"

[images."{probe_image}"]
user = "4242:4343"
network = "bridge"
"""
    )
    with LocalServer(tmp_path / "scenario.db", port=0, api_key=KEY) as server:
        client = LocalClient(server.url, KEY)
        whoami = client.submit("probe", "whoami", {})["id"]
        small = client.submit("probe", "echo", {"text": "x" * 100})["id"]
        large = client.submit("probe", "echo", {"text": "x" * 5000})["id"]
        with runner_process(
            server.url, KEY, [probe_image], runner_id, "--config", str(config)
        ) as runner:
            wait_for(
                lambda: all(
                    client.instance(i)["state"] in ("Completed", "Error")
                    for i in (whoami, small, large)
                ),
                60,
                "the three tasks to end",
                runner,
            )
            assert runner.stop() == 0
            log = runner.log()
        outputs = client.instance(whoami)["statuses"][-1]["outputValues"]
        assert (outputs["uid"], outputs["gid"]) == ("4242", "4343")
        assert client.instance(small)["state"] == "Completed"
        [error] = client.instance(large)["statuses"]
        assert error["status"] == "Error" and error["outputValues"] is None
        assert error["message"].startswith("result too large: ")
        assert "over the limit of 4096 bytes" in error["message"]
    assert (
        f"image {probe_image} task policy loosens the defaults: network bridge (instead of none)"
        in log
    )


def test_a_bad_policy_file_stops_the_runner_naming_the_key(
    probe_image: str, runner_id: str, tmp_path: Path
) -> None:
    config = tmp_path / "runner.toml"
    config.write_text(f'[images."{probe_image}"]\nmemroy = "1g"\n')
    with runner_process(
        "http://127.0.0.1:9", KEY, [probe_image], runner_id, "--config", str(config)
    ) as runner:
        assert runner.proc.wait(30) == 2  # a bad setting, in the file as on the command line
        assert "unknown key 'memroy'" in runner.log()

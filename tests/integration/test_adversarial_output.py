"""Output and catalogs built to be slow to read: none holds up a neighbour.

tests/images/adversarial writes, beside normal tasks running at the same time, a 1 MiB
line nested past any parser's depth that ends in an unclosed run of escaped quotes, and
a progress that is a 1 MiB run of digits; its catalog has a catastrophic regex, `(a+)+b`,
checked against an input of 40 `a`s. Before the readers were linear, one such line took
minutes and held the interpreter's lock (the whole runner waited); each now costs well
under a second, and the normal tasks end on time. A catalog with a regex RE2 cannot run
is refused when it is read: by `check`, and by the runner at start-up, in one line.
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from runner.core.errors import EXIT_CONFIG
from runner.localserver import LocalServer
from runner.localserver.client import LocalClient
from tests.conftest import REPO, build_test_image, user_environment, xc_runner
from tests.integration.processes import runner_process, wait_for, warm_ready

pytestmark = pytest.mark.integration

KEY = f"adversarial-{uuid.uuid4().hex}"
IMAGE = "xc-test/adversarial:latest"
CATASTROPHIC_IMAGE = "xc-test/adversarial-catastrophic:latest"
NORMAL_TASKS = 6
SLOW = ("deep_quotes", "digit_run")
DEADLINE_S = 20.0  # generous: every task here takes well under a second


@pytest.fixture(scope="module")
def adversarial_image(engine: object) -> str:
    return build_test_image("adversarial", IMAGE)


@pytest.fixture(scope="module")
def catastrophic_image(engine: object) -> str:
    return build_test_image("adversarial", CATASTROPHIC_IMAGE, "catastrophic")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalServer]:
    with LocalServer(tmp_path / "scenario.db", port=0, api_key=KEY) as local:
        yield local


def ended(client: LocalClient, instance_id: str) -> dict[str, object] | None:
    view = client.instance(instance_id)
    return view if view.get("state") in ("Completed", "Error") else None


def test_slow_lines_and_a_catastrophic_regex_hold_up_no_neighbour(
    server: LocalServer, adversarial_image: str, runner_id: str
) -> None:
    client = LocalClient(server.url, KEY)
    with runner_process(
        server.url, KEY, [adversarial_image], runner_id, env={"XC_RUNNER_CONCURRENCY": "4"}
    ) as runner:
        wait_for(warm_ready(runner_id, 4), 120, "the warm pool to fill", runner)
        started = time.monotonic()
        ids = {name: client.submit("adversarial", name, {})["id"] for name in SLOW}
        ids["regex"] = client.submit("adversarial", "normal", {"text": "a" * 40})["id"]
        for n in range(NORMAL_TASKS):
            ids[f"normal-{n}"] = client.submit("adversarial", "normal", {"text": f"n {n}"})["id"]
        took: dict[str, float] = {}
        while len(took) < len(ids) and time.monotonic() < started + 120:
            for name, instance_id in ids.items():
                if name not in took and ended(client, instance_id):
                    took[name] = time.monotonic() - started
            time.sleep(0.1)
        print("\n" + "\n".join(f"{name:>12}: ended after {s:.2f} s" for name, s in took.items()))
        assert set(took) == set(ids), f"not every task ended: {took}"
        assert all(s < DEADLINE_S for s in took.values()), took
        for name, instance_id in ids.items():
            view = client.instance(instance_id)
            if name == "regex":
                assert view["state"] == "Error" and "invalid inputs" in str(view), view
            elif name == "digit_run":  # its progress is not a number: refused, in time
                assert view["state"] == "Error" and "progressPercentage" in str(view), view
            else:
                assert view["state"] == "Completed", view
        assert runner.stop() == 0, runner.log()[-3000:]


def test_a_regex_re2_cannot_run_is_refused_when_the_catalog_is_read(
    catastrophic_image: str, server: LocalServer, runner_id: str
) -> None:
    checked = xc_runner("check", catastrophic_image)
    print(checked.stdout, checked.stderr)
    assert checked.returncode != 0
    said = checked.stdout + checked.stderr
    assert "adversarial/normal" in said and "'text'" in said and "(a+)+b|(x)\\\\1" in said
    assert "back-reference" in said

    started = subprocess.run(
        [sys.executable, "-m", "runner", "run", catastrophic_image],
        cwd=REPO,
        env=user_environment(
            {"XC_SCENARIO_SERVER": server.url, "XC_SCENARIO_APIKEY": KEY, "XC_RUNNER_ID": runner_id}
        ),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    print(started.stderr)
    assert started.returncode == EXIT_CONFIG, started.stderr
    errors = [line for line in started.stderr.splitlines() if "customRegex" in line]
    assert len(errors) == 1 and "back-reference" in errors[0], started.stderr
    assert "Traceback" not in started.stderr

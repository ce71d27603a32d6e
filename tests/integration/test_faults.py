"""The runner, as its own process, when the platform or the engine misbehaves.

The platform is the local server behind a FaultyPlatform proxy (the runner talks
to the proxy; the test reads the server directly); the engine is the real one,
behind an EngineProxy where the engine's trouble is the point. Every scenario
checks the statuses exactly as the server recorded them.
"""

from __future__ import annotations

import contextlib
import itertools
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from runner.localserver import LocalServer
from runner.localserver.client import LocalClient
from tests.conftest import SAMPLE_IMAGE, runner_containers
from tests.integration.faults import (
    CANCEL_PATH,
    POLL_PATH,
    STATUS_PATH,
    EngineProxy,
    FaultyPlatform,
)
from tests.integration.processes import (
    RunnerProcess,
    brief,
    container_of,
    ended,
    runner_process,
    wait_for,
)

pytestmark = pytest.mark.integration

KEY = "faults-e2e-key"
# Quick stops, so that a failing scenario still ends its tasks and containers.
BASE_ENV = {"XC_RUNNER_DRAIN_TIMEOUT_S": "5", "XC_RUNNER_STOP_GRACE_S": "1"}

Brief = tuple[Any, ...]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalServer]:
    with LocalServer(tmp_path / "scenario.db", port=0, api_key=KEY) as local:
        yield local


@pytest.fixture
def platform(server: LocalServer) -> Iterator[FaultyPlatform]:
    with FaultyPlatform(server.url) as proxy:
        yield proxy


@pytest.fixture
def client(server: LocalServer) -> LocalClient:
    """Straight to the server: the test's own requests meet no fault and are not logged."""
    return LocalClient(server.url, KEY)


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


@contextmanager
def runner(
    platform: FaultyPlatform,
    images: list[str],
    runner_id: str,
    state_dir: Path,
    env: dict[str, str] | None = None,
    api_key: str = KEY,
) -> Iterator[RunnerProcess]:
    """The runner against the proxy; stopped with SIGTERM at the end if still up.

    Its log is printed, so a failing test shows it.
    """
    environ = {**BASE_ENV, "XC_RUNNER_STATE_DIR": str(state_dir), **(env or {})}
    with runner_process(platform.url, api_key, images, runner_id, env=environ) as proc:
        try:
            yield proc
        finally:
            if proc.proc.poll() is None:
                proc.proc.send_signal(signal.SIGTERM)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.proc.wait(20)  # else runner_process kills it
            print(f"--- runner log ({runner_id}) ---\n{proc.log()}")


def reporting(n: int, param: str) -> list[Brief]:
    """Every status of sample/reporting_task, as the reference worker posts them."""
    return [
        ("InProgress", f'Input "{param}": going to sleep for {n} seconds.', "0.0", None),
        *[("InProgress", str(i), str(i / n), None) for i in range(1, n + 1)],
        ("InProgress", "Waking up.", None, None),
        ("Completed", "", None, {"result": f'Input "{param}", result is ok'}),
    ]


def simple(arg: str) -> list[Brief]:
    return [("Completed", "", None, {"msg": f'The argument received was "{arg}".'})]


def assert_one_terminal_last(view: dict[str, Any]) -> dict[str, Any]:
    statuses: list[dict[str, Any]] = view["statuses"]
    found = [s for s in statuses if s["status"] in ("Completed", "Error")]
    assert len(found) == 1, f"terminal statuses: {brief(view)}"
    assert statuses[-1] is found[0], f"a status after the terminal one: {brief(view)}"
    return found[0]


def received(status: dict[str, Any]) -> float:
    return datetime.fromisoformat(status["receivedAt"].replace("Z", "+00:00")).timestamp()


def container_ids(runner_id: str, *, running: bool = False) -> list[str]:
    return [str(c["Id"])[:12] for c in runner_containers(runner_id, running=running)]


def test_an_outage_loses_no_status_and_polling_waits_for_delivery(
    platform: FaultyPlatform,
    client: LocalClient,
    task_images: list[str],
    runner_id: str,
    state_dir: Path,
) -> None:
    first = client.submit("sample", "reporting_task", {"n": "5", "param": "outage"})["id"]
    with runner(platform, [SAMPLE_IMAGE], runner_id, state_dir) as proc:
        wait_for(lambda: bool(client.instance(first)["statuses"]), 60, "the first status", proc)
        # 1. Statuses fail while polls would go through (the idle poller was at 0.2 s).
        platform.fail(503, paths=[STATUS_PATH])
        wait_for(
            lambda: platform.count(path=STATUS_PATH, action="failed") >= 1,
            10,
            "a status post to fail",
            proc,
        )
        first_failure = platform.log(path=STATUS_PATH, action="failed")[0].at
        during = client.submit("sample", "simple", {"arg": "during the outage"})["id"]
        time.sleep(max(0.0, first_failure + 3.5 - time.monotonic()))
        refused_at = time.monotonic()
        queued_while_failing = client.instance(during)["state"]
        # 2. Nothing answers at all.
        platform.refuse()
        time.sleep(12)
        # 3. A burst of 503 on every request.
        platform.fail(503)
        platform.restore()
        burst_at = time.monotonic()
        time.sleep(3)
        healed_at = time.monotonic()
        queued_after_outage = client.instance(during)["state"]
        platform.heal()
        wait_for(
            lambda: ended(client, first) and ended(client, during),
            60,
            "both tasks to end after the outage",
            proc,
        )
        time.sleep(0.5)
        assert proc.stop(30) == 0, proc.log()

    first_view = client.instance(first)
    assert brief(first_view) == reporting(5, "outage")
    progress = [float(s["progressPercentage"]) for s in first_view["statuses"][:6]]
    assert progress == sorted(set(progress)), "progress is not increasing"
    assert brief(client.instance(during)) == simple("during the outage")

    # A poll already on its way when the first status failed is not the runner's choice.
    polls = platform.log(path=POLL_PATH, since=first_failure + 0.3, until=refused_at)
    assert polls == [], f"polled {len(polls)} time(s) while statuses could not be delivered"
    assert queued_while_failing == "Queued", "a task was taken while statuses were failing"
    assert queued_after_outage == "Queued", "a task was taken during the outage"
    burst = platform.log(since=burst_at, until=healed_at)
    assert len(burst) <= 10, f"request storm during the 503 burst: {len(burst)} requests"
    assert platform.count(path=POLL_PATH, since=healed_at, action="forwarded") >= 1, (
        "polling did not resume"
    )


def test_slow_and_dropped_connections_lose_no_status(
    platform: FaultyPlatform,
    client: LocalClient,
    task_images: list[str],
    runner_id: str,
    state_dir: Path,
) -> None:
    first = client.submit("sample", "reporting_task", {"n": "4", "param": "slow"})["id"]
    env = {"XC_RUNNER_HTTP_TIMEOUT_S": "2"}
    with runner(platform, [SAMPLE_IMAGE], runner_id, state_dir, env) as proc:
        wait_for(lambda: bool(client.instance(first)["statuses"]), 60, "the first status", proc)
        platform.delay(4.0)  # beyond the runner's 2 s timeout
        later = client.submit("sample", "simple", {"arg": "slow platform"})["id"]
        time.sleep(5)
        platform.drop()
        time.sleep(3)
        platform.heal()
        wait_for(
            lambda: ended(client, first) and ended(client, later),
            60,
            "both tasks to end",
            proc,
        )
        time.sleep(0.5)
        assert proc.stop(30) == 0, proc.log()

    assert brief(client.instance(first)) == reporting(4, "slow")
    assert brief(client.instance(later)) == simple("slow platform")
    assert platform.count(action="abandoned") >= 1, "no request outlasted the runner's timeout"
    assert platform.count(action="dropped") >= 1, "no request was dropped"


def test_a_refused_api_key_stops_the_runner_at_once_with_exit_code_4(
    platform: FaultyPlatform, task_images: list[str], runner_id: str, state_dir: Path
) -> None:
    with runner(platform, [SAMPLE_IMAGE], runner_id, state_dir, api_key="not-the-key") as proc:
        started = time.monotonic()
        try:
            code = proc.proc.wait(20)
        except subprocess.TimeoutExpired:
            code = None
        took = time.monotonic() - started
        log = proc.log()
    assert code == 4, log
    assert took < 8, f"took {took:.1f} s to give up"
    assert "refused the API key" in log
    answered = [(e.path, e.status) for e in platform.log()]
    assert 1 <= len(answered) <= 2, f"retried a refused key: {answered}"
    assert all(status == 401 for _, status in answered)


def test_an_idle_runner_polls_at_a_bounded_rate_and_picks_up_within_the_cap(
    platform: FaultyPlatform,
    client: LocalClient,
    task_images: list[str],
    runner_id: str,
    state_dir: Path,
) -> None:
    cap_s = 2.0
    env = {"XC_RUNNER_POLL_MAX_INTERVAL_S": str(cap_s)}
    with runner(platform, [SAMPLE_IMAGE], runner_id, state_dir, env) as proc:
        wait_for(lambda: platform.count(path=POLL_PATH) >= 1, 60, "the first poll", proc)
        start = platform.log(path=POLL_PATH)[0].at
        time.sleep(max(0.0, start + 6.0 - time.monotonic()))
        window = platform.log(path=POLL_PATH, since=start, until=start + 6.0)
        gaps = [b.at - a.at for a, b in itertools.pairwise(window)]
        assert len(window) <= 10, f"{len(window)} polls in 6 s idle: {gaps}"
        assert max(gaps) <= cap_s + 0.3, f"a gap beyond the cap: {gaps}"
        # Once the backoff reached its cap (0.05 s doubling: after about 3.2 s).
        settled = platform.log(path=POLL_PATH, since=start + 3.5, until=start + 6.0)
        assert len(settled) <= 3, f"{len(settled)} polls in 2.5 s at the cap: {gaps}"

        submitted = time.monotonic()
        instance_id = client.submit("sample", "simple", {"arg": "idle"})["id"]
        wait_for(
            lambda: client.instance(instance_id)["state"] != "Queued",
            cap_s + 1.0,
            "the task to be taken",
            proc,
        )
        taken_after = time.monotonic() - submitted
        wait_for(lambda: ended(client, instance_id), 30, "the task to end", proc)
        assert proc.stop(30) == 0, proc.log()
    assert taken_after <= cap_s + 0.5
    assert brief(client.instance(instance_id)) == simple("idle")


def test_sigterm_finishes_the_running_task_and_polls_no_more(
    platform: FaultyPlatform,
    client: LocalClient,
    task_images: list[str],
    runner_id: str,
    state_dir: Path,
) -> None:
    instance_id = client.submit("sample", "reporting_task", {"n": "3", "param": "term"})["id"]
    with runner(platform, [SAMPLE_IMAGE], runner_id, state_dir) as proc:
        wait_for(
            lambda: bool(client.instance(instance_id)["statuses"]), 60, "the first status", proc
        )
        signalled = time.monotonic()
        proc.proc.send_signal(signal.SIGTERM)
        late = client.submit("sample", "simple", {"arg": "after the signal"})["id"]
        code = proc.proc.wait(30)
        assert code == 0, proc.log()
    assert brief(client.instance(instance_id)) == reporting(3, "term")
    assert client.instance(late)["state"] == "Queued", "a task was taken after SIGTERM"
    # A poll already on its way when the signal landed is not the runner's choice.
    after = platform.log(path=POLL_PATH, since=signalled + 0.05)
    assert after == [], f"polled {len(after)} time(s) after SIGTERM"


def test_sigkill_then_restart_delivers_what_was_owed_and_ends_the_interrupted_task(
    platform: FaultyPlatform,
    client: LocalClient,
    task_images: list[str],
    runner_id: str,
    state_dir: Path,
) -> None:
    instance_id = client.submit("sample", "reporting_task", {"n": "30", "param": "kill"})["id"]
    with runner(platform, [SAMPLE_IMAGE], runner_id, state_dir) as first:
        wait_for(
            lambda: bool(client.instance(instance_id)["statuses"]), 60, "the first status", first
        )
        started = time.monotonic()
        platform.fail(503, paths=[STATUS_PATH])
        wait_for(
            lambda: platform.count(path=STATUS_PATH, action="failed") >= 1,
            10,
            "a status post to fail",
            first,
        )
        # Progress "1", "2", "3" are out of the task by now, and owed.
        time.sleep(max(0.0, started + 3.6 - time.monotonic()))
        first.proc.kill()
        first.proc.wait(10)
        task_container = container_of(first.log(), instance_id)
    owed = [e.json() for e in platform.log(path=STATUS_PATH, action="failed")]
    left = set(container_ids(runner_id))
    assert task_container in left, "the killed runner's task container is gone?"
    assert len(client.instance(instance_id)["statuses"]) == 1
    platform.heal()

    with runner(platform, [SAMPLE_IMAGE], runner_id, state_dir) as second:
        wait_for(
            lambda: ended(client, instance_id), 30, "the interrupted task's terminal status", second
        )
        wait_for(
            lambda: not left & set(container_ids(runner_id)),
            10,
            "the killed runner's containers (its task's, its warm ones) to be removed",
            second,
        )
        time.sleep(1.0)  # anything more would come now
        # The journal named the task's container (a warm one carries no task label).
        assert f"removing its container {task_container}" in second.log()
        assert second.stop(30) == 0, second.log()

    view = client.instance(instance_id)
    statuses = brief(view)
    expected = reporting(30, "kill")
    assert statuses[0] == expected[0]
    progress = statuses[1:-1]
    assert progress == expected[1 : 1 + len(progress)], f"owed progress: {statuses}"
    assert len(progress) >= 3, f"progress owed before the kill was lost: {statuses}"
    assert {o["message"] for o in owed} <= {s[1] for s in statuses}
    last = assert_one_terminal_last(view)
    assert last["status"] == "Error"
    assert "interrupted" in last["message"]


def test_engine_trouble_fails_the_running_task_and_pauses_taking_new_ones(
    platform: FaultyPlatform,
    client: LocalClient,
    probe_image: str,
    runner_id: str,
    state_dir: Path,
) -> None:
    problems: list[str] = []  # every check is made, then all failures are reported
    with EngineProxy() as engine_proxy:
        env = {"DOCKER_HOST": engine_proxy.url}
        cut = client.submit("probe", "sleep", {"seconds": "30"})["id"]
        with runner(platform, [probe_image], runner_id, state_dir, env) as proc:
            try:
                wait_for(
                    lambda: container_of(proc.log(), cut) is not None,
                    60,
                    "the task's container to run",
                    proc,
                )
                cut_container = container_of(proc.log(), cut)
                time.sleep(0.3)  # its input sent: the task is sleeping
                engine_proxy.cut()
                wait_for(lambda: ended(client, cut), 20, "the cut task to end", proc)
                # The runner has seen the engine fail by now.
                during = client.submit("probe", "echo", {"text": "right after"})["id"]
                time.sleep(2)
                later = client.submit("probe", "echo", {"text": "later"})["id"]
                time.sleep(2)
                assert proc.proc.poll() is None, f"the runner exited:\n{proc.log()}"
                for instance_id in (during, later):
                    view = client.instance(instance_id)
                    if (view["state"], view["takenAt"]) != ("Queued", None):
                        problems.append(
                            f"task {view['instance']['inputData']['text']!r} was taken while "
                            f"the engine was cut: {brief(view)}"
                        )
            finally:
                engine_proxy.restore()
            wait_for(
                lambda: ended(client, during) and ended(client, later),
                30,
                "the tasks submitted during the cut to end",
                proc,
            )
            try:
                wait_for(lambda: cut_container not in container_ids(runner_id), 15, "", None)
            except AssertionError:
                problems.append(
                    f"the cut task's container {cut_container} was not removed once the engine "
                    f"was back: {container_ids(runner_id)}"
                )
            assert proc.stop(30) == 0, proc.log()

    last = assert_one_terminal_last(client.instance(cut))
    assert last["status"] == "Error"
    assert "container engine" in last["message"]
    for instance_id, text in ((during, "right after"), (later, "later")):
        statuses = brief(client.instance(instance_id))
        if statuses != [("Completed", "", None, {"text": text})]:
            problems.append(f"task {text!r} did not complete after restore(): {statuses}")
    assert not problems, "\n".join(problems)


def test_a_cancelled_task_is_stopped_and_ends_in_error(
    platform: FaultyPlatform,
    client: LocalClient,
    task_images: list[str],
    runner_id: str,
    state_dir: Path,
) -> None:
    check_s = 0.5
    env = {"XC_RUNNER_CANCEL_CHECK_S": str(check_s)}
    instance_id = client.submit("sample", "reporting_task", {"n": "30", "param": "cancel"})["id"]
    with runner(platform, [SAMPLE_IMAGE], runner_id, state_dir, env) as proc:
        wait_for(
            lambda: bool(client.instance(instance_id)["statuses"]), 60, "the first status", proc
        )
        cancelled_at = time.time()
        client.cancel(instance_id)
        wait_for(lambda: ended(client, instance_id), 10, "the cancelled task to end", proc)
        cancelled_container = container_of(proc.log(), instance_id)
        wait_for(
            lambda: cancelled_container not in container_ids(runner_id),
            10,
            "the cancelled task's container to be removed",
            proc,
        )
        assert proc.stop(30) == 0, proc.log()

    view = client.instance(instance_id)
    last = assert_one_terminal_last(view)
    assert last["status"] == "Error"
    assert "cancelled" in last["message"]
    assert received(last) - cancelled_at <= check_s + 1.5
    progress = brief(view)[:-1]
    assert progress == reporting(30, "cancel")[: len(progress)]
    assert platform.count(path=CANCEL_PATH) >= 1, "the cancellation was not checked on the platform"

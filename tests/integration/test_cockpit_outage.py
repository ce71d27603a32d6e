"""The cockpit while its local server is down, in a real headless browser, with a runner.

A reporting_task runs; the server stops. The page says so in a banner, in plain words,
marks what it shows as stale and stops the running task's duration; a submit says
why nothing was queued (not "Failed to fetch"), which it no longer says once the server is
back; an instance view opened meanwhile offers nothing to copy or run again. The task
ends meanwhile: the runner
keeps its statuses and its log until the server is back, and the server restarts on
the same database and port. The page notices within 5 s (its retries are never more
than 4 s apart), and the task's duration is the runner's (about 5 s), not the server's
(the outage included); the instance view shows both. A second outage ends at once
with "Retry now".
"""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Iterator

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from runner.engine.docker_engine import DockerEngine
from runner.engine.interface import LABEL_RUNNER_ID
from runner.localserver import LocalServer
from runner.localserver.client import LocalClient
from tests.conftest import SAMPLE_IMAGE, unavailable
from tests.integration import browser
from tests.integration.cockpit_page import Cockpit, cockpit_api
from tests.integration.processes import runner_process, wait_for

pytestmark = pytest.mark.integration

KEY = "cockpit-outage-key"
RECOVERY_S = 5.0  # the page sees the server back within this


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def cockpit(engine: DockerEngine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cockpit]:
    lacking = browser.missing()
    if lacking:
        unavailable(lacking)
    try:
        engine.image_labels(SAMPLE_IMAGE)
    except Exception:  # noqa: BLE001 -- any failure means the same: not built
        unavailable(f"task image {SAMPLE_IMAGE} is not built (run `make images`)")
    runner_id = f"test-{uuid.uuid4().hex[:10]}"
    tmp_path = tmp_path_factory.mktemp("cockpit-outage")
    servers = [LocalServer(tmp_path / "scenario.db", port=free_port(), api_key=KEY).start()]
    try:
        with (
            runner_process(servers[0].url, KEY, [SAMPLE_IMAGE], runner_id) as runner,
            browser.chromium(tmp_path / "profile") as driver,
        ):
            page = Cockpit(servers[0], LocalClient(servers[0].url, KEY), driver, runner)
            wait_for(lambda: published(page), 60, "the runner's catalog", runner)
            yield page
            servers.append(page.server)
            assert runner.stop() == 0, runner.log()
    finally:
        for server in servers:
            server.stop()
        left = engine.remove_labelled({LABEL_RUNNER_ID: runner_id})
        assert left == [], f"containers left behind: {left}"


def published(page: Cockpit) -> bool:
    return bool(cockpit_api(page.server, "catalog")["tasks"])


def restart(page: Cockpit) -> float:
    """The server again, on its database and port; when it listens (monotonic)."""
    old = page.server
    page.server = LocalServer(old.db_path, port=old.port, api_key=KEY).start()
    return time.monotonic()


def banner(page: Cockpit) -> bool:
    return bool(page.driver.find_element(By.ID, "outage").is_displayed())


def test_an_outage_is_said_and_the_page_recovers_within_5_s(cockpit: Cockpit) -> None:
    page = cockpit
    page.open()
    instance_id = page.submit("sample", "reporting_task", {"n": "5", "param": "outage"})
    page.until(
        lambda: (
            page.ended(instance_id, "InProgress")
            and page.row(instance_id).find_element(By.CSS_SELECTOR, ".pct").text not in ("", "0%")
        ),
        "reporting_task to run",
    )
    page.server.stop()
    stopped = time.monotonic()
    page.until(lambda: banner(page), "the outage banner", 5)
    said = page.text("outage")
    print(f"\nbanner shown {time.monotonic() - stopped:.1f} s after the server stopped")
    assert "The local server cannot be reached" in said and "durations are frozen" in said
    assert "Failed to fetch" not in said
    assert page.driver.find_element(By.ID, "retry-now").is_displayed()
    assert "stale" in str(page.driver.find_element(By.TAG_NAME, "body").get_attribute("class"))
    assert page.live() == "offline"
    frozen = page.row(instance_id).find_element(By.CSS_SELECTOR, ".duration").text
    page.pick("sample/simple")
    page.fill("arg", "while it is down")
    page.driver.find_element(By.ID, "submit-button").click()
    refused = page.until(lambda: page.text("form-error"), "the submit's refusal")
    assert refused.startswith("Nothing was queued: the local server cannot be reached")
    assert "Failed to fetch" not in refused
    # An instance view opened now offers nothing to copy or run again: nothing was read.
    page.js("window.location.hash = arguments[0]", f"#task/{instance_id}")
    page.until(lambda: page.dialog_open() and "Reading it" not in page.dialog_text(), "the view")
    assert not page.driver.find_element(By.ID, "instance-again").is_displayed()
    assert not page.driver.find_element(By.ID, "instance-copy").is_displayed()
    page.keys(Keys.ESCAPE)
    page.until(lambda: not page.dialog_open(), "the view to close")
    time.sleep(max(0.0, 9 - (time.monotonic() - stopped)))  # the task ends meanwhile
    assert page.row(instance_id).find_element(By.CSS_SELECTOR, ".duration").text == frozen

    back = restart(page)
    page.until(lambda: not banner(page), "the page to see the server back", 15)
    took = time.monotonic() - back
    print(f"the page saw the server back {took:.2f} s after it listened again")
    assert took < RECOVERY_S
    assert page.live() == "live"
    assert page.text("form-error") == "", "the form still says the server cannot be reached"

    # The task's statuses and log came in late; its duration is the runner's.
    page.until(lambda: page.ended(instance_id, "Completed"), "the late statuses", 60)
    summary = page.until(lambda: _summary(page, instance_id), "the runner's log", 30)
    assert summary["receivedDurationS"] > summary["durationS"] + 3, summary
    page.until(
        lambda: (
            page.row(instance_id).find_element(By.CSS_SELECTOR, ".duration").text
            == _duration(summary["durationS"])
        ),
        "the runner's duration in the row",
    )
    body = page.open_instance(instance_id, "as its runner timed it")
    assert "from the hand-out to the server's receipt of its end" in body


def test_retry_now_ends_an_outage_at_once(cockpit: Cockpit) -> None:
    page = cockpit
    page.open()
    page.server.stop()
    page.until(lambda: banner(page), "the outage banner", 5)
    time.sleep(3)  # the page is now between tries, up to 4 s apart
    restart(page)
    clicked = time.monotonic()
    page.driver.find_element(By.ID, "retry-now").click()
    page.until(lambda: not banner(page), "the page to see the server back", 10)
    took = time.monotonic() - clicked
    print(f"\n'Retry now' ended the outage in {took:.2f} s")
    assert took < 2.0


def _summary(page: Cockpit, instance_id: str) -> dict[str, float] | None:
    found = page.js(
        "return fetch('/local/api/cockpit/tasks/' + arguments[0], "
        "{headers: {'X-XC-Cockpit': '1'}}).then(r => r.json()).then(v => v.summary)",
        instance_id,
    )
    return found if found and found.get("run") else None


def _duration(seconds: float) -> str:
    """As the page writes a duration under a minute."""
    return f"{seconds:.2f} s" if seconds < 10 else f"{seconds:.1f} s"

"""What tasks used, in the cockpit of a real headless browser: the task types page (every task
type's figures and its sizing hint, with the configuration line to set) and the instance
view's usage beside its limits. The runs reach the local server as a runner sends them: a
poll, a terminal status, and the task log with its usage (the same requests over HTTP).
With XC_COCKPIT_SCREENSHOT=PATH (`make screenshot`), the page is saved beside it as
cockpit-task-types.png."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from runner.localserver import LocalServer
from tests.conftest import unavailable
from tests.integration import browser

pytestmark = pytest.mark.integration

KEY = "task-types-key"
MIB = 1024**2
SCREENSHOT = os.environ.get("XC_COCKPIT_SCREENSHOT")


def ran(server: LocalServer, task: str, status: str, usage: dict[str, Any]) -> str:
    """One run of sample/`task` as a runner reports it; its instance id."""
    auth = {"Authorization": f"Bearer {KEY}"}
    with requests.Session() as http:
        http.headers.update(auth)
        submitted = http.post(
            f"{server.url}/local/api/task-instances",
            json={"namespace": "sample", "name": task, "inputData": {}},
            timeout=10,
        )
        assert submitted.status_code == 201, submitted.text
        taken = http.post(
            f"{server.url}/polling/api/namespaces/sample/task-instances/poll",
            params={"catalogTaskDefinitionName": task},
            timeout=10,
        ).json()
        message = "" if status == "Completed" else "the task ran out of memory and was killed"
        http.post(
            f"{server.url}/taskstatus/api/task-statuses",
            json={"taskInstanceId": taken["id"], "status": status, "message": message},
            timeout=10,
        ).raise_for_status()
        now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        log = {
            "taskInstanceId": taken["id"],
            "taskLogToken": taken["taskLogToken"],  # the hand-out's: only its runner may log
            "runnerId": "runner-1",
            "containerId": "c" * 64,
            "startedAt": now,
            "endedAt": now,
            "lines": [],
            "usage": usage,
        }
        http.post(f"{server.url}/local/api/task-logs", json=log, timeout=10).raise_for_status()
    return str(taken["id"])


def usage(peak_mib: float, limit_mib: int, *, oom: bool = False) -> dict[str, Any]:
    return {
        "cpuSeconds": 0.25,
        "memoryPeakBytes": int(peak_mib * MIB),
        "wallSeconds": 0.8,
        "oomKilled": oom,
        "start": "warm",
        "limits": {"memoryBytes": limit_mib * MIB, "cpus": 1.0, "timeoutSeconds": 3600.0},
    }


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalServer, Any, str]]:
    lacking = browser.missing()
    if lacking:
        unavailable(lacking)
    folder = tmp_path_factory.mktemp("task-types")
    with (
        LocalServer(folder / "scenario.db", port=0, api_key=KEY) as server,
        browser.chromium(folder / "profile") as driver,
    ):
        for peak in (38, 40, 41, 39, 41, 40):
            first = ran(server, "small", "Completed", usage(peak, 512))
        for oom in (True, False, True, True):
            ran(server, "tight", "Error" if oom else "Completed", usage(256, 256, oom=oom))
        yield server, driver, first


def test_the_task_types_page_shows_each_types_figures_and_its_sizing(
    page: tuple[LocalServer, Any, str],
) -> None:
    server, driver, _ = page
    driver.get(f"{server.url}/cockpit/task-types.html")
    rows = WebDriverWait(driver, 20).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#types-body tr") or False
    )
    assert [r.get_attribute("data-task") for r in rows] == ["sample/small", "sample/tight"]
    small, tight = (r.text for r in rows)
    assert "peak p95 41 MiB of 512 MiB: 64m would do" in small
    assert '[tasks."sample/small"]\nmemory = "64m"' in small
    assert "3 OOM kills at 256m: raise it (512m)" in tight
    assert '[tasks."sample/tight"]\nmemory = "512m"' in tight
    assert "3 (75.0 %)" in tight  # its errors
    assert browser.errors(driver) == []
    serious, _ = browser.axe(driver)
    assert serious == [], browser.describe(serious)
    if SCREENSHOT:
        driver.save_screenshot(str(Path(SCREENSHOT).with_name("cockpit-task-types.png")))


def test_the_instance_view_shows_what_the_task_used_beside_its_limits(
    page: tuple[LocalServer, Any, str],
) -> None:
    server, driver, instance_id = page
    driver.get(f"{server.url}/#task/{instance_id}")
    body = WebDriverWait(driver, 20).until(
        lambda d: (e := d.find_element(By.ID, "instance-body")).text.count("peak memory") and e
    )
    text = body.text
    assert "40.0 MiB of its 512 MiB limit (8 %)" in text, text
    assert "0.250 s on at most 1 CPU" in text
    assert "0.800 s of its 3600.0 s time limit" in text
    assert browser.errors(driver) == []
    link = driver.find_element(By.LINK_TEXT, "Task types")
    assert link.get_attribute("href").endswith("/cockpit/task-types.html")

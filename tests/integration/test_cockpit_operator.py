"""The cockpit for an operator of many tasks, in a real headless browser, against a local
server that holds about 1,550 task instances recorded as a runner would have (no runner
runs, so each state stays as it is).

History (Back and Forward walk the filter changes), a time range, a sort by duration, a
bulk cancel of 50 queued instances, running again every failure of one group, an export
whose rows are the filtered total, the log box's tools, times in UTC or relative, live
updates paused, dark mode with axe-core, and the defects seen on the page before.
The grouped failures of a real runner's mixed run are in test_cockpit_browser.py.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from runner.localserver import LocalServer
from runner.localserver.client import LocalClient
from runner.localserver.records import iso
from runner.localserver.sql import INSERT_STATUS
from runner.localserver.store import Store
from tests.conftest import unavailable
from tests.integration import browser
from tests.integration.cockpit_page import Cockpit, cockpit_api
from tests.integration.test_cockpit_list import definition

pytestmark = pytest.mark.integration

KEY = "cockpit-operator-key"
CROWD = 1200  # queued, so that counts reach the thousands
STUCK = 50  # queued: the bulk cancel's
FLAKY = 230  # failed with one message, a value in it: more than a page
TIMED = 40  # ended in the last 40 minutes, durations of 1 to 50 s
OLD = 10  # ended two days ago
LONG_LINE = "a very long log line " * 40
CATALOGS = {
    "crowd": [definition("crowd", "job")],
    "stuck": [definition("stuck", "wait")],
    "timed": [definition("timed", "work", {"name": "size", "baseType": "Integer"})],
    "flaky": [definition("flaky", "parse", {"name": "value", "baseType": "String"})],
    "sample": [
        definition(
            "sample",
            "rectangle",
            {"name": "width", "baseType": "Number"},
            {"name": "height", "baseType": "Number"},
        )
    ],
}


@dataclass(frozen=True)
class Seeded:
    timed: list[str]  # oldest first
    durations: dict[str, int]  # of the timed instances, in seconds
    logged: str  # a timed instance whose runner sent its log
    token: str  # its hand-out's log token


def ended(store: Store, namespace: str, status: str, message: str, taken: datetime,
          end: datetime) -> tuple[str, str]:  # fmt: skip
    """A task handed out at `taken` that ended at `end`, as the server would have seen it;
    its id and its hand-out's log token."""
    instance = store.poll(namespace)
    assert instance is not None
    instance_id = str(instance["id"])
    with store.write() as db:
        db.execute(
            "UPDATE instances SET taken_at = ?, state = ? WHERE id = ?",
            (iso(taken), status, instance_id),
        )
        db.execute(
            INSERT_STATUS,
            (instance_id, namespace, "x", status, message, None, None, None, iso(end)),
        )
    return instance_id, str(instance["taskLogToken"])


def seed(path: Path) -> Seeded:
    now = datetime.now(UTC)
    with Store(path) as store:
        for namespace, definitions in CATALOGS.items():
            store.publish_catalog(namespace, definitions)
        for k in range(CROWD):
            store.submit("crowd", "job", {"k": k})
        for k in range(STUCK):
            store.submit("stuck", "wait", {"k": k})
        for k in range(FLAKY + 20):
            store.submit("flaky", "parse", {"value": f"v{k}"})
            message = f"Incorrect value 'v{k}' for value" if k < FLAKY else "ZeroDivisionError"
            ended(
                store, "flaky", "Error", message, now - timedelta(hours=3), now - timedelta(hours=2)
            )
        timed, durations = [], {}
        for k in range(OLD + TIMED):
            store.submit("timed", "work", {"size": k})
            at = now - (
                timedelta(days=2, minutes=k) if k < OLD else timedelta(minutes=OLD + TIMED - k)
            )
            seconds = (k * 37) % 50 + 1
            status = "Error" if k % 7 == 3 else "Completed"
            instance_id, token = ended(
                store, "timed", status, f"boom {k}", at - timedelta(seconds=seconds), at
            )
            if k >= OLD:
                timed.append(instance_id)
                durations[instance_id] = seconds
    return Seeded(timed, durations, timed[-1], token)


def send_log(server: LocalServer, seeded: Seeded) -> None:
    """As its runner sends it: it timed the task at 3 s (the list shows the runner's duration)."""
    end = datetime.now(UTC)
    body = {
        "taskInstanceId": seeded.logged,
        "taskLogToken": seeded.token,
        "runnerId": "runner-9",
        "startedAt": iso(end - timedelta(seconds=3)),
        "endedAt": iso(end),
        "lines": [["stdout", "first"], ["stderr", LONG_LINE], ["stdout", "last"]],
    }
    answer = requests.post(
        f"{server.url}/local/api/task-logs", json=body, headers={"Authorization": f"bearer {KEY}"},
        timeout=10,
    )  # fmt: skip
    assert answer.status_code == 200, answer.text


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Cockpit, Seeded, Path]]:
    lacking = browser.missing()
    if lacking:
        unavailable(lacking)
    folder = tmp_path_factory.mktemp("cockpit-operator")
    seeded = seed(folder / "scenario.db")
    downloads = folder / "downloads"
    downloads.mkdir()
    with (
        LocalServer(folder / "scenario.db", port=0, api_key=KEY) as server,
        browser.chromium(folder / "profile") as driver,
    ):
        send_log(server, seeded)
        seeded.durations[seeded.logged] = 3
        driver.execute_cdp_cmd(
            "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
        )
        # A zone that is not UTC, so that local times and UTC ones differ.
        driver.execute_cdp_cmd("Emulation.setTimezoneOverride", {"timezoneId": "Asia/Kolkata"})
        yield Cockpit(server, LocalClient(server.url, KEY), driver), seeded, downloads


@pytest.fixture
def page(world: tuple[Cockpit, Seeded, Path]) -> Iterator[Cockpit]:
    cockpit = world[0]
    cockpit.driver.set_window_size(1400, 1000)
    yield cockpit
    assert browser.errors(cockpit.driver) == []


@pytest.fixture
def seeded(world: tuple[Cockpit, Seeded, Path]) -> Seeded:
    return world[1]


@pytest.fixture
def downloads(world: tuple[Cockpit, Seeded, Path]) -> Path:
    return world[2]


def total(page: Cockpit, **filters: Any) -> int:
    return int(cockpit_api(page.server, "tasks", limit=1, **filters)["total"])


def count_of(page: Cockpit) -> str:
    return page.text("list-count").split(" that pass")[0]


def shows(page: Cockpit, shown: int, of: int) -> bool:
    return count_of(page) == f"{shown:,} of {of:,}"


def choose(page: Cockpit, element_id: str, value: str) -> None:
    Select(page.driver.find_element(By.ID, element_id)).select_by_value(value)


def test_back_and_forward_walk_three_filter_changes(page: Cockpit) -> None:
    page.open()
    everything = total(page)
    page.until(lambda: shows(page, 200, everything), "the whole list")
    choose(page, "filter-state", "Error")
    errors = total(page, state="Error")
    page.until(lambda: shows(page, 200, errors), "the errors")
    choose(page, "filter-namespace", "timed")
    timed_errors = total(page, state="Error", namespace="timed")
    page.until(lambda: shows(page, timed_errors, timed_errors), "the timed errors")
    page.driver.find_element(By.ID, "filter-q").send_keys("boom 1")
    searched = total(page, state="Error", namespace="timed", q="boom 1")
    page.until(lambda: shows(page, searched, searched) and searched < timed_errors, "the search")
    views = [
        ("", "", "", everything),
        ("Error", "", "", errors),
        ("Error", "timed", "", timed_errors),
        ("Error", "timed", "boom 1", searched),
    ]

    def at(index: int) -> bool:
        state, namespace, text, count = views[index]
        return (
            page.js("return document.getElementById('filter-state').value") == state
            and page.js("return document.getElementById('filter-namespace').value") == namespace
            and page.js("return document.getElementById('filter-q').value") == text
            and shows(page, min(200, count), count)
        )

    for index in (2, 1, 0):
        page.driver.back()
        page.until(lambda index=index: at(index), f"Back to view {index}")
        assert page.driver.current_url.startswith(page.server.cockpit_url), "Back left the page"
    for index in (1, 2, 3):
        page.driver.forward()
        page.until(lambda index=index: at(index), f"Forward to view {index}")
    assert "q=boom+1" in page.driver.current_url
    page.driver.refresh()  # a reload, or the link shared, is the same view
    page.until(lambda: at(3), "the same view after a reload")
    counted = "return performance.getEntriesByName('cockpit:first-count').length"
    page.until(lambda: page.js(counted) == 1, "the first count measured")
    draws = page.js("return performance.getEntriesByName('cockpit:draw').length")
    assert draws == 0  # a reload is a first load, measured as such


def test_a_time_range_of_the_last_hour_and_between_two_times(page: Cockpit) -> None:
    page.open()
    choose(page, "filter-namespace", "timed")
    choose(page, "filter-time", "ended")
    choose(page, "filter-range", "1h")
    page.until(lambda: shows(page, TIMED, TIMED), "those that ended in the last hour")
    assert "range=1h" in page.driver.current_url and "time=ended" in page.driver.current_url
    choose(page, "filter-range", "1d")
    page.until(lambda: shows(page, TIMED, TIMED), "the last day: the same")
    choose(page, "filter-range", "")
    page.until(lambda: shows(page, TIMED + OLD, TIMED + OLD), "any time")
    # Between two times, typed in the zone times are shown in (here UTC).
    choose(page, "time-mode", "utc")
    choose(page, "filter-range", "custom")
    now = datetime.now(UTC)
    start, end = now - timedelta(minutes=25.5), now - timedelta(minutes=10.5)
    within = total(page, namespace="timed", endedFrom=iso(start), endedTo=iso(end))
    assert 10 <= within <= 20
    for field, moment in (("filter-from", start), ("filter-to", end)):
        page.js(
            "const f = document.getElementById(arguments[0]); f.value = arguments[1];"
            "f.dispatchEvent(new Event('change'))",
            field,
            moment.strftime("%Y-%m-%dT%H:%M:%S"),
        )
    page.until(lambda: shows(page, within, within), "those that ended between the two")
    assert page.text("custom-range").startswith("FROM (UTC)") or "(UTC)" in page.text(
        "custom-range"
    )
    choose(page, "time-mode", "local")
    page.driver.find_element(By.ID, "filter-clear").click()


def test_sorted_by_duration_either_way_with_aria_sort(page: Cockpit, seeded: Seeded) -> None:
    page.open("?namespace=timed&range=1h&time=ended")
    page.until(lambda: shows(page, TIMED, TIMED), "the timed tasks")
    heading = page.driver.find_element(By.CSS_SELECTOR, "th[data-sort=duration]")
    assert heading.get_attribute("aria-sort") is None
    assert (
        page.driver.find_element(By.CSS_SELECTOR, "th[data-sort=submitted]").get_attribute(
            "aria-sort"
        )
        == "descending"
    )
    heading.find_element(By.TAG_NAME, "button").click()
    longest = sorted(seeded.timed, key=lambda i: (-seeded.durations[i], -seeded.timed.index(i)))
    page.until(lambda: page.row_ids() == longest, "the longest first")
    assert heading.get_attribute("aria-sort") == "descending"
    assert (
        page.driver.find_element(By.CSS_SELECTOR, "th[data-sort=submitted]").get_attribute(
            "aria-sort"
        )
        is None
    )
    assert Select(page.driver.find_element(By.ID, "filter-order")).first_selected_option.text == (
        "longest first"
    )
    heading.find_element(By.TAG_NAME, "button").click()
    page.until(lambda: page.row_ids() == longest[::-1], "the shortest first")
    assert heading.get_attribute("aria-sort") == "ascending"
    assert "sort=duration&order=asc" in page.driver.current_url
    durations = [
        float(r.find_element(By.CSS_SELECTOR, ".duration").text.split()[0]) for r in page.rows()
    ]
    assert durations == sorted(durations)


def test_a_bulk_cancel_of_50_queued_instances(page: Cockpit) -> None:
    page.open("?namespace=stuck&state=Queued")
    page.until(lambda: shows(page, STUCK, STUCK), "the 50 queued")
    page.driver.find_element(By.ID, "select-page").click()
    assert page.text("bulk-count") == "50 selected."
    assert not page.driver.find_element(By.ID, "bulk-all").is_displayed()  # all are loaded
    page.driver.find_element(By.ID, "bulk-cancel").click()
    question = page.text("bulk-question")
    assert question.startswith("Cancel 50 task instances?")
    assert page.focused_id() == "bulk-yes"
    assert page.text("bulk-yes") == "Yes, cancel 50 task instances"
    assert total(page, namespace="stuck", state="Cancelled") == 0  # nothing before "yes"
    page.keys(Keys.ENTER)
    page.until(lambda: page.text("bulk-status") == "50 cancelled.", "the result")
    assert total(page, namespace="stuck", state="Cancelled") == STUCK
    page.until(lambda: shows(page, 0, 0), "the cancelled to leave the list of queued")
    assert page.driver.find_element(By.ID, "bulk-bar").is_displayed() is False


def test_every_failure_of_one_group_is_run_again(page: Cockpit) -> None:
    page.open()
    show = page.until(
        lambda: page.driver.find_elements(By.CSS_SELECTOR, "#failures-body button[data-key]"),
        "the failure groups",
    )
    groups = {b.get_attribute("data-key"): b for b in show}
    message = "Incorrect value '…' for value"
    row = page.driver.find_element(By.XPATH, f'//td[span[text()="{message}"]]/..')
    assert row.find_element(By.CSS_SELECTOR, "td.num").text == f"{FLAKY:,}"
    key = str(row.get_attribute("data-key"))
    groups[key].click()
    page.until(lambda: shows(page, 200, FLAKY), "the group's failures")
    assert f"failure={key}" in page.driver.current_url and "state=Error" in page.driver.current_url
    assert message in page.text("failure-filter")
    page.driver.find_element(By.ID, "select-page").click()
    offer = page.driver.find_element(By.ID, "bulk-all")
    assert offer.text == f"Select all {FLAKY} that pass the filters"
    offer.click()
    assert page.text("bulk-count") == f"All {FLAKY} that pass the filters are selected."
    before = total(page, namespace="flaky", state="Queued")
    page.driver.find_element(By.ID, "bulk-rerun").click()
    assert page.text("bulk-question").startswith(f"Run {FLAKY} task instances again")
    page.driver.find_element(By.ID, "bulk-yes").click()
    page.until(lambda: page.text("bulk-status") == f"{FLAKY} queued again.", "the result")
    assert total(page, namespace="flaky", state="Queued") == before + FLAKY
    again = cockpit_api(page.server, "tasks", namespace="flaky", state="Queued", limit=500)
    assert sorted(t["id"] for t in again["tasks"]) != []
    page.driver.find_element(By.ID, "failure-filter-clear").click()
    page.until(lambda: "failure=" not in page.driver.current_url, "every failure again")


def downloaded(folder: Path, suffix: str, before: set[Path]) -> Path | None:
    found = [p for p in folder.glob(f"*{suffix}") if p not in before]
    return found[0] if found and not list(folder.glob("*.crdownload")) else None


def test_an_export_holds_the_filtered_total(page: Cockpit, downloads: Path) -> None:
    page.open("?namespace=timed&state=Completed&sort=duration")
    expected = total(page, namespace="timed", state="Completed")
    page.until(lambda: shows(page, expected, expected), "the completed timed tasks")
    before = set(downloads.iterdir())
    page.driver.find_element(By.ID, "export-csv").click()
    path = page.until(lambda: downloaded(downloads, ".csv", before), "the CSV file")
    with path.open(newline="") as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == expected and {r["state"] for r in rows} == {"Completed"}
    assert [float(r["durationS"]) for r in rows] == sorted(
        (float(r["durationS"]) for r in rows), reverse=True
    )
    assert f"Exporting {expected} task instances as CSV" in page.text("export-note")
    before = set(downloads.iterdir())
    page.driver.find_element(By.ID, "export-jsonl").click()
    path = page.until(lambda: downloaded(downloads, ".jsonl", before), "the JSON lines file")
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(lines) == expected and all(line["namespace"] == "timed" for line in lines)


def test_the_log_box_wraps_copies_and_downloads(
    page: Cockpit, seeded: Seeded, downloads: Path
) -> None:
    page.open_instance(seeded.logged, "last")
    box = page.driver.find_element(By.ID, "log-box")
    assert page.js("return arguments[0].scrollWidth > arguments[0].clientWidth", box)
    wrap = page.driver.find_element(By.ID, "log-wrap")
    wrap.click()
    assert wrap.get_attribute("aria-pressed") == "true"
    assert page.js("return arguments[0].scrollWidth <= arguments[0].clientWidth", box)
    page.driver.execute_cdp_cmd(
        "Browser.grantPermissions",
        {
            "origin": page.server.url,
            "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"],
        },
    )
    page.driver.find_element(By.ID, "log-copy").click()
    page.until(lambda: page.text("log-note") == "Copied the log.", "copied")
    assert page.js("return navigator.clipboard.readText()") == f"first\n{LONG_LINE}\nlast\n"
    before = set(downloads.iterdir())
    page.driver.find_element(By.ID, "log-download").click()
    path = page.until(lambda: downloaded(downloads, ".log", before), "the log file")
    assert path.name == f"task-{seeded.logged}.log"
    assert path.read_text() == f"first\n{LONG_LINE}\nlast\n"
    page.driver.refresh()  # the wrap is remembered
    page.until(lambda: page.dialog_open() and page.driver.find_elements(By.ID, "log-wrap"), "view")
    assert page.driver.find_element(By.ID, "log-wrap").get_attribute("aria-pressed") == "true"
    page.keys(Keys.ESCAPE)


def test_times_local_utc_or_relative_remembered(page: Cockpit, seeded: Seeded) -> None:
    page.open("?namespace=timed&range=1h&time=ended")
    page.until(lambda: shows(page, TIMED, TIMED), "the timed tasks")
    newest = seeded.timed[-1]
    created = cockpit_api(page.server, "tasks", limit=1, namespace="timed")["tasks"][0]
    assert created["id"] == newest
    utc = datetime.fromisoformat(created["createdAt"])

    def cell() -> str:
        return str(page.row(newest).find_element(By.CSS_SELECTOR, ".submitted").text)

    local = utc + timedelta(hours=5, minutes=30)
    assert cell() == local.strftime("%H:%M:%S") or cell().endswith(local.strftime("%H:%M"))
    assert page.text("submitted-heading") == "SUBMITTED (UTC+5:30)"
    choose(page, "time-mode", "utc")
    page.until(lambda: page.text("submitted-heading") == "SUBMITTED (UTC)", "UTC headings")
    assert cell() in (utc.strftime("%H:%M:%S"), utc.strftime("%Y-%m-%d %H:%M"))
    choose(page, "time-mode", "relative")
    page.until(lambda: cell().endswith("ago"), "relative times")
    assert page.text("submitted-heading") == "SUBMITTED"
    page.driver.refresh()
    page.until(lambda: page.live() == "live" and cell().endswith("ago"), "remembered")
    body = page.open_instance(newest, "ago")
    assert "UTC+5:30 (" in body  # the exact local time beside how long ago
    page.keys(Keys.ESCAPE)
    choose(page, "time-mode", "local")


def test_live_updates_paused_say_how_many_changes_wait(page: Cockpit) -> None:
    page.open("?namespace=sample")
    page.until(lambda: count_of(page).startswith("0 of"), "the empty list")
    page.driver.find_element(By.ID, "pause").click()
    assert page.driver.find_element(By.ID, "pause").get_attribute("aria-pressed") == "true"
    assert page.live() == "paused"
    new = [page.submit("sample", "rectangle", {"width": k, "height": 1}) for k in range(3)]
    page.until(lambda: page.text("live") == "paused: 3 changes wait", "the changes to wait")
    assert page.row_ids() == []
    page.driver.find_element(By.ID, "pause").click()
    page.until(lambda: page.row_ids() == new[::-1], "the changes shown")
    assert page.live() == "live"


def test_dark_mode_as_the_system_prefers_or_chosen_and_axe_finds_nothing(
    page: Cockpit, seeded: Seeded
) -> None:
    found: dict[str, dict[str, int]] = {}
    page.open()
    page.until(lambda: len(page.rows()) == 200, "the rows")
    light = page.js("return getComputedStyle(document.documentElement).backgroundColor")
    failing, found["light list"] = browser.axe(page.driver)
    assert failing == [], browser.describe(failing)
    page.driver.execute_cdp_cmd(
        "Emulation.setEmulatedMedia",
        {"features": [{"name": "prefers-color-scheme", "value": "dark"}]},
    )
    try:
        page.open()
        dark = page.js("return getComputedStyle(document.documentElement).backgroundColor")
        assert dark != light and luminance(dark) < 0.05 < luminance(light)
        page.until(lambda: len(page.rows()) == 200, "the rows")
        failing, found["dark list"] = browser.axe(page.driver)
        assert failing == [], browser.describe(failing)
        page.open_instance(seeded.logged, "last")
        failing, found["dark instance view"] = browser.axe(page.driver)
        assert failing == [], browser.describe(failing)
        page.keys(Keys.ESCAPE)
        choose(page, "theme", "light")  # chosen: over the system's
        assert page.js("return getComputedStyle(document.documentElement).backgroundColor") == light
        page.driver.refresh()
        page.until(lambda: page.live() == "live", "the page")
        assert page.js("return getComputedStyle(document.documentElement).backgroundColor") == light
        choose(page, "theme", "dark")
        page.open("?namespace=stuck")
        failing, found["dark bulk bar"] = browser.axe(page.driver)
        print(f"\naxe-core {browser.AXE_VERSION} violations by impact: {found}")
        assert all(not impacts for impacts in found.values()), found
    finally:
        choose(page, "theme", "auto")
        page.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})


def luminance(color: str) -> float:
    """WCAG's relative luminance of a CSS colour as the browser computes it."""
    red, green, blue = (int(c) / 255 for c in re.findall(r"\d+", color)[:3])
    linear = [
        c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (red, green, blue)
    ]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


# The lines each element's text takes on the page: the distinct tops of its text's boxes.
LINES = """return [...document.querySelectorAll(arguments[0])].map((node) => {
  const tops = new Set();
  const walker = document.createTreeWalker(node, NodeFilter.SHOW_TEXT);
  for (let text = walker.nextNode(); text; text = walker.nextNode()) {
    const range = document.createRange();
    range.selectNodeContents(text);
    for (const box of range.getClientRects()) if (box.width) tops.add(Math.round(box.top));
  }
  return [node.textContent, tops.size];
});"""


def test_the_defects_seen_before(page: Cockpit, seeded: Seeded) -> None:
    """Back (1) is the first test's; the form's words after an outage (4) and an instance
    view opened during one (9) are test_cockpit_outage.py's."""
    page.open()
    # 5. Numbers are written one way: the tiles as the list.
    queued = total(page, state="Queued")
    assert queued > 1000
    page.until(lambda: page.text("tile-queued") == f"{queued:,}", "the tile, with its comma")
    # 2. A refused submit focuses the first field in error on the form, though the server
    # named the missing height first.
    page.pick("sample/rectangle")
    page.fill("width", "wide")
    page.driver.find_element(By.ID, "submit-button").click()
    page.until(lambda: page.text("form-error"), "the refusal")
    said = page.js(
        "return [...document.querySelectorAll('[data-error-for]')]"
        ".filter(e => e.textContent).map(e => e.dataset.errorFor)"
    )
    assert said == ["width", "height"]
    assert page.focused().get_attribute("data-input") == "width"
    # 3. No timeout set: the runner's own applies, not "none". 7. An error under "Error".
    failed = seeded.timed[0]
    body = page.open_instance(failed, "boom")
    assert "none set here: the runner's own limit applies (1 h" in body
    headings = page.js(
        "return [...document.querySelectorAll('#instance-body h3')]"
        ".map(h => h.firstChild.textContent)"
    )
    assert "Error" in headings and "Outputs" not in headings
    # 6. At 1,400 px no heading wraps (the statuses' PROGRESS did, mid-word).
    for table in ("#instance-body table.statuses", "#tasks"):
        lines = page.js(LINES, f"{table} th")
        assert lines and all(count <= 1 for _, count in lines), lines
    page.keys(Keys.ESCAPE)
    # 8. The chart's intervals do not move while nothing new happens.
    charts = [
        page.js(
            "return fetch('/local/api/cockpit/chart?minutes=60', {headers: {'X-XC-Cockpit': '1'}})"
            ".then(r => r.json())"
        )
        for _ in range(2)
    ]
    moments = [datetime.fromisoformat(c["now"]).timestamp() // 120 for c in charts]
    if moments[0] == moments[1]:  # the same interval (else a new one began between)
        assert charts[0]["buckets"] == charts[1]["buckets"]
    assert datetime.fromisoformat(charts[0]["buckets"][0]["start"]).timestamp() % 120 == 0
    # 10. On a phone the chart's window select is a target of 24 px or more.
    page.driver.set_window_size(390, 800)
    page.open()
    height = page.js(
        "return document.getElementById('chart-minutes').getBoundingClientRect().height"
    )
    assert height >= 24, height

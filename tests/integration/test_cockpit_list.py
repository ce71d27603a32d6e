"""The cockpit as a daily tool, in a real headless browser, against a local server that holds
over 300 task instances of every kind: recorded as a runner would have (polled, statuses
posted, a task log sent), with no runner running, so that each state stays as it is.

Finding: filters, search and paging reach the oldest task; the filters live in the URL;
times show their date and zone. Durations: the runner's when it sent them, with the
server's beside them. Any screen: at 360 and 390 px nothing is wider than the viewport,
rows are cards, the instance view's close is reachable. Any input device: submit, open,
close and cancel with the keyboard only; axe-core finds no serious or critical
violation. And the smaller things: escaped bidi characters, missing inputs said once,
long outputs readable, defaults not shown as typed values, tiles in step with the list,
a malformed link that breaks nothing. The runner's side (cancel, run again, logs) is in
test_cockpit_browser.py; outages in test_cockpit_outage.py.
"""

from __future__ import annotations

import re
import time
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
from runner.localserver.store import Store
from tests.conftest import unavailable
from tests.integration import browser
from tests.integration.cockpit_page import Cockpit, cockpit_api

pytestmark = pytest.mark.integration

KEY = "cockpit-list-key"
BULK = 320
ODD = "abc\u202edef\x1b[2J"
LONG = "x" * 600 + "END"


def definition(namespace: str, name: str, *inputs: dict[str, Any]) -> dict[str, Any]:
    return {"namespace": namespace, "name": name, "schemaVersion": 0, "inputs": list(inputs)}


CATALOGS = {
    "bulk": [
        definition("bulk", "alpha", {"name": "word", "baseType": "String"}),
        definition("bulk", "beta"),
    ],
    "sample": [
        definition(
            "sample",
            "rectangle",
            {"name": "width", "baseType": "Number"},
            {"name": "height", "baseType": "Number", "defaultValue": 1},
        ),
        definition(
            "sample",
            "reporting_task",
            {"name": "n", "baseType": "Integer"},
            {"name": "param", "baseType": "String"},
        ),
    ],
    "odd": [definition("odd", "text")],
}


@dataclass(frozen=True)
class Seeded:
    ids: list[str]  # the bulk instances, oldest first
    errors: int  # how many of them ended in Error
    odd: str  # a message with a bidi override and escape, an output of 603 characters
    timed: str  # its runner timed it at 21.2 s; the server received its end 59 s after hand-out
    token: str  # the timed one's hand-out's log token


def status(store: Store, instance_id: str, name: str, **fields: Any) -> None:
    store.record_status({"taskInstanceId": instance_id, "status": name, **fields})


def seed_bulk(store: Store) -> tuple[list[str], int]:
    """BULK instances: the oldest ended in Error, every tenth too, some still running, the
    newest 12 queued (one of them cancelled), the others Completed; the oldest five
    submitted yesterday."""
    ids = [
        str(store.submit("bulk", "alpha" if k % 2 == 0 else "beta", {"word": f"w{k}"})["id"])
        for k in range(BULK)
    ]
    errors = 0
    for k, instance_id in enumerate(ids[:-12]):
        store.poll("bulk")
        if k == 0 or k % 10 == 3:
            status(store, instance_id, "Error", message="the very first" if k == 0 else f"boom {k}")
            errors += 1
        elif k % 17 == 5:
            status(store, instance_id, "InProgress", message="working", progressPercentage="0.5")
        else:
            status(store, instance_id, "Completed", message="", outputValues={"echo": f"w{k}"})
    store.cancel(ids[-2])
    yesterday = iso(datetime.now(UTC) - timedelta(days=1))
    with store.write() as db:
        db.executemany(
            "UPDATE instances SET created_at = ? WHERE id = ?", [(yesterday, i) for i in ids[:5]]
        )
    return ids, errors


def seed(path: Path) -> tuple[Seeded, str]:
    with Store(path) as store:
        for namespace, definitions in CATALOGS.items():
            store.publish_catalog(namespace, definitions)
        ids, errors = seed_bulk(store)
        odd = str(store.submit("odd", "text")["id"])
        store.poll("odd")
        status(store, odd, "Completed", message=ODD, outputValues={"long": LONG, "short": "s"})
        timed = str(store.submit("odd", "text")["id"])
        token = str((store.poll("odd") or {})["taskLogToken"])  # its runner's, for its log
        handed_out = datetime.now(UTC) - timedelta(seconds=59)
        with store.write() as db:
            db.execute("UPDATE instances SET taken_at = ? WHERE id = ?", (iso(handed_out), timed))
        status(store, timed, "Completed", message="late", outputValues={})
        with store.read() as db:
            received = db.execute(
                "SELECT received_at FROM statuses WHERE instance_id = ?", (timed,)
            ).fetchone()["received_at"]
        with store.write() as db:  # exactly 59.0 s from the hand-out to the reception
            db.execute(
                "UPDATE instances SET taken_at = ? WHERE id = ?",
                (iso(datetime.fromisoformat(received) - timedelta(seconds=59)), timed),
            )
    return Seeded(ids, errors, odd, timed, token), received


def send_task_log(server: LocalServer, seeded: Seeded, received: str) -> None:
    """As the runner sends it: it started the container 45 s after the hand-out (a slow
    start, then the outage) and timed the task at 21.2 s."""
    ended = datetime.fromisoformat(received) - timedelta(seconds=30)
    body = {
        "taskInstanceId": seeded.timed,
        "taskLogToken": seeded.token,
        "runnerId": "runner-7",
        "containerId": "c0ffee" * 10 + "abcd",
        "startedAt": iso(ended - timedelta(seconds=21.2)),
        "endedAt": iso(ended),
        "lines": [["stderr", "starting"], ["stdout", "done"]],
    }
    answer = requests.post(
        f"{server.url}/local/api/task-logs",
        json=body,
        headers={"Authorization": f"bearer {KEY}"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Cockpit, Seeded]]:
    lacking = browser.missing()
    if lacking:
        unavailable(lacking)
    folder = tmp_path_factory.mktemp("cockpit-list")
    seeded, received = seed(folder / "scenario.db")
    with (
        LocalServer(folder / "scenario.db", port=0, api_key=KEY) as server,
        browser.chromium(folder / "profile") as driver,
    ):
        send_task_log(server, seeded, received)
        yield Cockpit(server, LocalClient(server.url, KEY), driver), seeded


@pytest.fixture
def page(world: tuple[Cockpit, Seeded]) -> Iterator[Cockpit]:
    cockpit = world[0]
    cockpit.driver.set_window_size(1400, 1000)
    yield cockpit
    assert browser.errors(cockpit.driver) == []


@pytest.fixture
def seeded(world: tuple[Cockpit, Seeded]) -> Seeded:
    return world[1]


def contrast(one: str, other: str) -> float:
    """WCAG's contrast ratio of two CSS colours as the browser computes them (`rgb(r, g, b)`)."""

    def luminance(color: str) -> float:
        red, green, blue = (int(c) / 255 for c in re.findall(r"\d+", color)[:3])
        linear = [
            c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (red, green, blue)
        ]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted((luminance(one), luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def total(page: Cockpit, **filters: Any) -> int:
    return int(cockpit_api(page.server, "tasks", limit=1, **filters)["total"])


def count_says(page: Cockpit, shown: int, of: int) -> bool:
    return page.text("list-count").startswith(f"{shown:,} of {of:,}")


def test_filters_and_paging_reach_the_oldest_of_300_tasks(page: Cockpit, seeded: Seeded) -> None:
    page.open()
    everything = total(page)
    assert everything > 300
    page.until(lambda: count_says(page, 200, everything), "200 of all")
    assert len(page.rows()) == 200
    while page.driver.find_element(By.ID, "load-more").is_displayed():
        page.driver.find_element(By.ID, "load-more").click()
        time.sleep(0.3)
    page.until(lambda: count_says(page, everything, everything), "every task loaded")
    assert page.row_ids()[-1] == seeded.ids[0], "the oldest task is not the last row"

    # Only the errors, oldest first: the oldest failure comes first. The URL says so.
    Select(page.driver.find_element(By.ID, "filter-state")).select_by_value("Error")
    page.until(lambda: count_says(page, seeded.errors, seeded.errors), "the errors only")
    states = {r.get_attribute("data-state") for r in page.rows()}
    assert states == {"Error"}
    Select(page.driver.find_element(By.ID, "filter-order")).select_by_value("submitted asc")
    page.until(lambda: page.row_ids()[:1] == [seeded.ids[0]], "the oldest error first")
    assert "state=Error" in page.driver.current_url and "order=asc" in page.driver.current_url

    # The URL brings the same list back.
    page.driver.get(page.driver.current_url)
    page.until(lambda: page.row_ids()[:1] == [seeded.ids[0]], "the same list after a reload")
    assert Select(page.driver.find_element(By.ID, "filter-state")).first_selected_option.text == (
        "Error"
    )

    # A namespace and a task; then a search by text, then by an id's start.
    page.driver.find_element(By.ID, "filter-clear").click()
    Select(page.driver.find_element(By.ID, "filter-namespace")).select_by_value("bulk")
    Select(page.driver.find_element(By.ID, "filter-task")).select_by_value("beta")
    betas = total(page, namespace="bulk", name="beta")
    page.until(lambda: count_says(page, min(200, betas), betas), "bulk/beta only")
    assert {r.find_element(By.TAG_NAME, "strong").text for r in page.rows()} == {"beta"}
    page.driver.find_element(By.ID, "filter-clear").click()
    search = page.driver.find_element(By.ID, "filter-q")
    search.send_keys("boom 13")
    found = cockpit_api(page.server, "tasks", q="boom 13", limit=500)["tasks"]
    assert seeded.ids[13] in {t["id"] for t in found}
    page.until(lambda: set(page.row_ids()) == {t["id"] for t in found}, "the search's tasks")
    search.clear()
    search.send_keys(seeded.ids[7][:10])
    page.until(lambda: page.row_ids() == [seeded.ids[7]], "the task whose id starts so")
    page.driver.find_element(By.ID, "filter-clear").click()


def test_times_show_their_date_when_not_today_and_the_zone(page: Cockpit, seeded: Seeded) -> None:
    page.open("?order=oldest")
    page.until(lambda: page.row_ids()[:1] == [seeded.ids[0]], "the oldest first")
    first = page.row(seeded.ids[0]).find_element(By.CSS_SELECTOR, ".submitted").text
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", first), first
    today = page.row(seeded.ids[10]).find_element(By.CSS_SELECTOR, ".submitted").text
    assert re.fullmatch(r"\d\d:\d\d:\d\d", today), today
    assert re.fullmatch(r"SUBMITTED \(UTC([+-]\d+(:\d\d)?)?\)", page.text("submitted-heading"))


def test_durations_are_the_runners_with_the_servers_beside_them(
    page: Cockpit, seeded: Seeded
) -> None:
    page.open()
    row = page.until(lambda: page.ended(seeded.timed, "Completed"), "the timed task")
    assert row.find_element(By.CSS_SELECTOR, ".duration").text == "21.2 s"
    body = page.open_instance(seeded.timed, "21.2 s")
    assert "21.2 s as its runner timed it" in body
    assert "59.0 s from the hand-out to the server's receipt of its end" in body
    assert "runner runner-7, container c0ffeec0ffee" in body
    titles = page.js(
        "return [...document.querySelectorAll('#chart title')].map(t => t.textContent)"
    )
    assert "odd/text: Completed after 21.2 s" in titles

    # The id, copied in one click.
    page.driver.execute_cdp_cmd(
        "Browser.grantPermissions",
        {
            "origin": page.server.url,
            "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"],
        },
    )
    page.driver.find_element(By.ID, "instance-copy").click()
    page.until(lambda: page.text("instance-note") == f"Copied {seeded.timed}.", "copied")
    assert page.js("return navigator.clipboard.readText()") == seeded.timed
    page.keys(Keys.ESCAPE)
    page.until(lambda: not page.dialog_open(), "the dialog to close")


@pytest.mark.parametrize("width", [360, 390])
def test_the_phone_layout_fits_and_its_instance_view_closes(
    page: Cockpit, seeded: Seeded, width: int
) -> None:
    page.driver.set_window_size(width, 800)
    page.open()
    page.until(lambda: len(page.rows()) == 200, "the rows")
    assert page.js("return innerWidth") == width
    fit = browser.overflowing(page.driver)
    assert fit["scrollWidth"] <= fit["width"] and fit["out"] == [], fit
    cells = page.js(
        "const r = document.querySelector('#task-rows tr');"
        "return [getComputedStyle(document.querySelector('.tasks thead')).display,"
        " getComputedStyle(r).display, r.getBoundingClientRect().width]"
    )
    assert cells[0] == "none" and cells[1] == "block" and cells[2] <= width  # one card a task

    page.open_instance(seeded.odd, "END")
    fit = browser.overflowing(page.driver)
    assert fit["scrollWidth"] <= fit["width"] and fit["out"] == [], fit
    close = page.driver.find_element(By.ID, "instance-close")
    box = close.rect
    assert close.is_displayed() and box["x"] >= 0 and box["x"] + box["width"] <= width
    assert box["y"] >= 0 and box["y"] + box["height"] <= 800
    dialog = page.driver.find_element(By.ID, "instance-view").rect
    assert dialog["width"] >= fit["width"] - 1, "the instance view does not fill the screen"
    close.click()
    page.until(lambda: not page.dialog_open(), "the instance view to close")


def test_keyboard_alone_submits_opens_closes_and_cancels(page: Cockpit, seeded: Seeded) -> None:
    page.open()
    # Submit: the skip link to the form, the task picker, its fields, Enter.
    page.keys(Keys.TAB)
    assert page.focused().text == "Skip to the task list"
    page.keys(Keys.TAB, Keys.ENTER, Keys.TAB)
    assert page.focused_id() == "task-picker"
    option = page.driver.find_element(By.CSS_SELECTOR, 'option[data-task="sample/rectangle"]')
    while page.js("return document.getElementById('task-picker').value") != option.get_attribute(
        "value"
    ):
        page.keys(Keys.ARROW_DOWN)
    page.until(lambda: page.field_names() == ["width", "height"], "rectangle's fields")
    page.keys(Keys.TAB, "3", Keys.ENTER)
    link = page.until(
        lambda: page.driver.find_elements(By.CSS_SELECTOR, "#form-result [data-id]"),
        "the form to say it was queued",
    )[0]
    queued = str(link.get_attribute("data-id"))

    # Open: the skip link to the list, Tabs past its filters, tools and sortable headings, to
    # the rows' one Tab stop; or the skip link to the rows, at once.
    page.until(lambda: page.row_ids()[:1] == [queued], "the new task first")
    page.driver.get(page.server.cockpit_url)
    page.until(lambda: page.live() == "live", "the page")
    page.keys(Keys.TAB, Keys.ENTER)
    presses = 0
    while not page.focused().get_attribute("data-id") and presses < 20:
        page.keys(Keys.TAB)
        presses += 1
    assert page.focused().get_attribute("data-id") == queued, "no row within 20 Tab presses"
    print(f"\nfrom the skip link to the list, to the first row: {presses} Tab presses")
    style = page.js(
        "const s = getComputedStyle(document.activeElement);"
        "return [s.outlineStyle, parseFloat(s.outlineWidth), s.outlineColor]"
    )
    assert style[0] == "solid" and style[1] >= 2, f"the focused row shows no outline: {style}"
    assert contrast(style[2], "rgb(255, 255, 255)") >= 3, style
    page.keys(Keys.ARROW_DOWN, Keys.ARROW_UP, Keys.ENTER)
    page.until(lambda: page.dialog_open() and "Queued" in page.dialog_text(), "the dialog")
    assert page.focused_id() == "instance-title", "the dialog did not take the focus"
    for _ in range(12):  # the focus stays in the dialog
        page.keys(Keys.TAB)
        assert page.js(
            "return document.getElementById('instance-view').contains(document.activeElement)"
        )

    # Close with Esc: the focus goes back to the row.
    page.keys(Keys.ESCAPE)
    page.until(lambda: not page.dialog_open(), "the dialog to close")
    assert page.focused().get_attribute("data-id") == queued
    assert "#task" not in page.driver.current_url

    # Cancel: Enter, Tab to "Cancel task" (title, close, copy, run again, cancel), confirm.
    page.keys(Keys.ENTER)
    page.until(lambda: page.dialog_open() and "Queued" in page.dialog_text(), "the dialog")
    page.keys(Keys.TAB, Keys.TAB, Keys.TAB, Keys.TAB)
    assert page.focused_id() == "instance-cancel"
    page.keys(Keys.ENTER)
    assert page.focused_id() == "cancel-yes"
    page.keys(Keys.ENTER)
    page.until(lambda: "Cancelled" in page.text("instance-note"), "the cancellation said")
    page.until(lambda: page.ended(queued, "Cancelled"), "the row cancelled")
    assert page.client.instance(queued)["cancelled"] is True
    page.keys(Keys.ESCAPE)


def test_the_skip_link_to_the_rows_focuses_the_first_row(page: Cockpit) -> None:
    page.open()
    page.until(lambda: len(page.rows()) == 200, "the rows")
    page.keys(Keys.TAB, Keys.TAB, Keys.TAB)
    assert page.focused().text == "Skip to the rows"
    page.keys(Keys.ENTER)
    assert page.focused().get_attribute("data-id") == page.row_ids()[0]


def test_axe_finds_no_serious_or_critical_violation(page: Cockpit, seeded: Seeded) -> None:
    found: dict[str, dict[str, int]] = {}
    page.open()
    page.until(lambda: len(page.rows()) == 200, "the rows")
    failing, found["list"] = browser.axe(page.driver)
    assert failing == [], browser.describe(failing)

    page.driver.find_element(By.CSS_SELECTOR, 'option[data-task="sample/reporting_task"]')
    Select(page.driver.find_element(By.ID, "task-picker")).select_by_visible_text("reporting_task")
    page.driver.find_element(By.ID, "submit-button").click()
    page.until(lambda: page.text("form-error"), "the form's problems")
    failing, found["form with its problems"] = browser.axe(page.driver)
    assert failing == [], browser.describe(failing)
    # What axe does not check: the borders of the controls (3:1), the chart's words.
    borders = page.js(
        "return [...document.querySelectorAll('#submit-form select, #submit-form input')]"
        ".map(c => getComputedStyle(c).borderTopColor)"
    )
    assert borders and all(contrast(b, "rgb(255, 255, 255)") >= 3 for b in borders), borders
    assert page.text("chart-summary").startswith("In the last 15 minutes")
    described = page.field("n").get_attribute("aria-describedby") or ""
    said = [page.driver.find_element(By.ID, i).text for i in described.split()]
    assert "missing 'n'" in said and page.field("n").get_attribute("aria-invalid") == "true"

    page.open_instance(seeded.timed, "21.2 s")
    failing, found["instance view"] = browser.axe(page.driver)
    assert failing == [], browser.describe(failing)

    page.driver.set_window_size(390, 800)
    page.open()
    page.until(lambda: len(page.rows()) == 200, "the rows")
    failing, found["phone"] = browser.axe(page.driver)
    assert failing == [], browser.describe(failing)
    print(f"\naxe-core {browser.AXE_VERSION} violations by impact: {found}")


def test_the_smaller_things(page: Cockpit, seeded: Seeded) -> None:
    page.open()
    row = page.until(lambda: page.ended(seeded.odd, "Completed"), "the odd task")
    # Bidi overrides and escapes shown escaped, as the command line does.
    assert "abc\\u202edef\\x1b[2J" in row.text
    assert "\u202e" not in page.text("task-rows") and "\x1b" not in page.text("task-rows")
    # A long output wraps in its row, says how much more there is; the view shows it all.
    chip = row.find_element(By.CSS_SELECTOR, ".chip-value")
    assert chip.text.endswith("(303 more characters)")
    assert page.js("return arguments[0].scrollWidth <= arguments[0].clientWidth", chip)
    assert "x" * 600 + "END" in page.open_instance(seeded.odd, "END").replace("\n", "")
    page.keys(Keys.ESCAPE)

    # Missing inputs said once each, on their fields; defaults are hints, not placeholders.
    page.pick("sample/reporting_task")
    page.driver.find_element(By.ID, "submit-button").click()
    page.until(lambda: page.text("form-error"), "the problems")
    errors = page.js(
        "return [...document.querySelectorAll('[data-error-for]')].map(e => e.textContent)"
    )
    assert errors == ["missing 'n'", "missing 'param'"]
    page.pick("sample/rectangle")
    assert page.js("return [...document.querySelectorAll('#fields [placeholder]')].length") == 0
    assert "default: 1 (used when left empty)" in page.text("fields")
    assert page.field("width").get_attribute("aria-required") == "true"

    # The tiles change with the list, not a second later.
    waiting = total(page, state="Queued")
    page.until(lambda: page.text("tile-queued") == str(waiting), "the tile")
    page.js(
        """window.__seen = null;
        new MutationObserver((changes, observer) => {
          if (document.querySelector('#task-rows tr[data-state=Queued]') !== window.__first) {
            window.__seen = document.getElementById('tile-queued').textContent;
            observer.disconnect();
          }
        }).observe(document.getElementById('task-rows'), {childList: true});
        window.__first = document.querySelector('#task-rows tr[data-state=Queued]');"""
    )
    page.submit("sample", "rectangle", {"width": "2"})
    seen = page.until(lambda: page.js("return window.__seen"), "the new row")
    assert seen == str(waiting + 1)


def test_a_malformed_task_link_breaks_nothing(page: Cockpit, seeded: Seeded) -> None:
    page.open("#task/%E0%A4%A")
    page.until(lambda: "names no task instance" in page.text("list-error"), "the page to say so")
    assert not page.dialog_open()
    assert browser.errors(page.driver) == []
    page.open_instance(seeded.odd, "END")
    page.keys(Keys.ESCAPE)


def test_the_live_list_follows_its_filters(page: Cockpit, seeded: Seeded) -> None:
    page.open("?state=Queued&namespace=sample")
    before = total(page, state="Queued", namespace="sample")
    page.until(lambda: count_says(page, before, before), "the queued sample tasks")
    new = page.submit("sample", "rectangle", {"width": "5"})
    page.until(lambda: page.row_ids()[:1] == [new], "the new task at the top")
    page.until(lambda: count_says(page, before + 1, before + 1), "the count to grow")
    page.submit("bulk", "beta")  # not in the filter: not shown
    answer = requests.post(
        f"{page.server.url}/local/api/cockpit/tasks/{new}/cancel",
        headers={"X-XC-Cockpit": "1"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    page.until(lambda: new not in page.row_ids(), "the cancelled task to leave the list")
    page.until(lambda: count_says(page, before, before), "the count to shrink")
    assert {r.get_attribute("data-state") for r in page.rows()} <= {"Queued"}

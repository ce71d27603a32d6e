"""The cockpit in a real headless browser, against the local server and a runner process.

The runner serves xc-tasks/sample, xc-tasks/numbers-go and tests/images/untrusted
(whose task `markup` writes `<img src=x onerror=alert(1)>` as its message and
output). Through the page: sample/double is submitted with the form and becomes
Completed with its outputs; reporting_task's progress bar moves; zero_division's
error message is shown, and its traceback in its log, as a Go task's panic; a running
reporting_task is cancelled; a task is run again with the same inputs; an input of the
wrong type is refused next to its field and nothing is queued; the HTML-like text
is shown as text (no element made of it, no alert); and the failures of a mixed run are
grouped by message, one click from the list of a group. With XC_COCKPIT_SCREENSHOT=PATH
(`make screenshot`), a last test saves a desktop and a phone picture of the page with
tasks in every state.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from runner.contracts import Contracts
from runner.core.errors import TaskRejected
from runner.engine.docker_engine import DockerEngine
from runner.engine.interface import LABEL_RUNNER_ID
from runner.localserver import LocalServer
from runner.localserver.client import LocalClient
from runner.localserver.cockpit.form import route_of
from tests.conftest import GO_IMAGE, SAMPLE_IMAGE, build_test_image, unavailable
from tests.integration import browser
from tests.integration.browser import ServerForTheNetwork
from tests.integration.cockpit_page import NO_RUNNER, Cockpit, cockpit_api
from tests.integration.processes import runner_process, wait_for

pytestmark = pytest.mark.integration

KEY = "cockpit-key"
UNTRUSTED_IMAGE = "xc-test/untrusted:latest"
MARKUP = "<img src=x onerror=alert(1)>"
SCREENSHOT = os.environ.get("XC_COCKPIT_SCREENSHOT")


@pytest.fixture(scope="module")
def cockpit(engine: DockerEngine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cockpit]:
    lacking = browser.missing()
    if lacking:
        unavailable(lacking)
    for image in (SAMPLE_IMAGE, GO_IMAGE):
        try:
            engine.image_labels(image)
        except Exception:  # noqa: BLE001 -- any failure means the same: not built
            unavailable(f"task image {image} is not built (run `make images`)")
    build_test_image("untrusted", UNTRUSTED_IMAGE)
    folder = tmp_path_factory.mktemp("cockpit")
    runner_id = f"test-{uuid.uuid4().hex[:10]}"
    try:
        with (
            LocalServer(folder / "scenario.db", port=0, api_key=KEY) as server,
            runner_process(
                server.url, KEY, [SAMPLE_IMAGE, GO_IMAGE, UNTRUSTED_IMAGE], runner_id,
                "--concurrency", "3", "--drain-timeout-s", "2",
            ) as runner,
            browser.chromium(folder / "profile") as driver,
        ):
            client = LocalClient(server.url, KEY)
            wait_for(lambda: published(server), 60, "the runner's catalog", runner)
            yield Cockpit(server, client, driver, runner)
            assert runner.stop() == 0, runner.log()  # it stops the tasks still running
    finally:
        left = engine.remove_labelled({LABEL_RUNNER_ID: runner_id})
        assert left == [], f"containers left behind: {left}"


def published(server: LocalServer) -> bool:
    names = {(t["namespace"], t["name"]) for t in cockpit_api(server, "catalog")["tasks"]}
    return {("sample", "double"), ("numbers", "divide"), ("untrusted", "markup")} <= names


def test_double_submitted_with_the_form_completes_with_its_outputs(cockpit: Cockpit) -> None:
    cockpit.open()
    cockpit.pick("sample/double")
    assert cockpit.field_names() == ["str_in", "nbr_in"]
    labels = cockpit.driver.find_element(By.ID, "fields").text
    assert "String" in labels and "default: 123" in labels
    cockpit.fill("str_in", "ab")
    cockpit.fill("nbr_in", "21")
    cockpit.driver.find_element(By.ID, "submit-button").click()
    link = cockpit.until(
        lambda: cockpit.driver.find_elements(By.CSS_SELECTOR, "#form-result [data-id]"),
        "the form to say the task was queued",
    )[0]
    instance_id = str(link.get_attribute("data-id"))
    row = cockpit.until(lambda: cockpit.ended(instance_id, "Completed"), "double to complete")
    outputs = row.find_element(By.CSS_SELECTOR, ".detail").text
    assert "str_out" in outputs and "abab" in outputs
    assert "nbr_out" in outputs and "42" in outputs
    assert row.find_element(By.CSS_SELECTOR, "[role=progressbar]").get_attribute(
        "aria-valuenow"
    ) == "100"
    stored = cockpit.client.instance(instance_id)
    assert stored["state"] == "Completed"
    assert stored["statuses"][-1]["outputValues"] == {"str_out": "abab", "nbr_out": "42"}

    # The instance view: its inputs, its outputs and its statuses in order, with times.
    row.click()
    view = cockpit.until(
        lambda: "Completed" in cockpit.driver.find_element(By.ID, "instance-body").text
        and cockpit.driver.find_element(By.ID, "instance-body"),
        "the instance view",
    )
    assert cockpit.driver.find_element(By.ID, "instance-title").text == "sample/double"
    inputs, outputs_box = view.find_elements(By.CSS_SELECTOR, ".instance-section dl")[:2]
    assert "str_in\nab" in inputs.text and "nbr_in\n21" in inputs.text
    assert "str_out\nabab" in outputs_box.text
    statuses = view.find_elements(By.CSS_SELECTOR, "table.statuses tbody tr")
    assert [s.get_attribute("data-seq") for s in statuses] == [
        str(s["seq"]) for s in stored["statuses"]
    ]
    assert statuses[-1].find_element(By.CSS_SELECTOR, ".badge").text == "Completed"
    cockpit.driver.find_element(By.ID, "instance-close").click()


def test_the_progress_bar_of_reporting_task_moves(cockpit: Cockpit) -> None:
    cockpit.open()
    instance_id = cockpit.submit("sample", "reporting_task", {"n": "4", "param": "bar"})
    seen: list[int] = []
    widths: set[str] = set()

    def watch() -> bool:
        row = cockpit.row(instance_id)
        bar = row.find_element(By.CSS_SELECTOR, "[role=progressbar]")
        value = bar.get_attribute("aria-valuenow")
        if value is not None and (not seen or seen[-1] != int(value)):
            seen.append(int(value))
            widths.add(str(bar.find_element(By.CSS_SELECTOR, ".fill").value_of_css_property(
                "width"
            )))
        return row.get_attribute("data-state") == "Completed"

    cockpit.until(lambda: cockpit.driver.find_elements(
        By.CSS_SELECTOR, f'tr[data-id="{instance_id}"]'
    ), "reporting_task's row")
    cockpit.until(watch, "reporting_task to complete")
    between = [value for value in seen if 0 < value < 100]
    assert len(between) >= 2, f"the bar did not move through its values: {seen}"
    assert seen == sorted(seen), f"the bar went backwards: {seen}"
    assert seen[-1] == 100
    assert len(widths) >= 3, f"the bar's width did not change: {widths}"


def test_zero_division_shows_its_error_message(cockpit: Cockpit) -> None:
    cockpit.open()
    instance_id = cockpit.submit("sample", "zero_division")
    row = cockpit.until(lambda: cockpit.ended(instance_id, "Error"), "zero_division's error")
    assert row.find_element(By.CSS_SELECTOR, ".badge").text == "Error"
    message = row.find_element(By.CSS_SELECTOR, ".error-text").text
    assert message == "ZeroDivisionError: division by zero"


def test_the_log_shows_a_python_traceback_and_a_go_panic(cockpit: Cockpit) -> None:
    cockpit.open()
    python = cockpit.submit("sample", "zero_division")
    go = cockpit.submit("numbers", "divide", {"dividend": "7", "divisor": "0"})
    body = cockpit.open_instance(python, "Traceback (most recent call last)")
    log = cockpit.text("instance-body").split("LOG", 1)[1]
    assert 'sample.py", line' in log and "in zero_division" in log
    assert log.index("Traceback") < log.index("ZeroDivisionError: division by zero")
    container = cockpit.client.instance(python)  # the server's record of who ran it
    assert re.search(r"ran on\s+runner test-\w+, container [0-9a-f]{12}", body), body
    assert container["state"] == "Error"
    body = cockpit.open_instance(go, "goroutine")
    assert "panic: runtime error: integer divide by zero" in body
    assert "main.divide" in body
    stderr = cockpit.driver.find_elements(By.CSS_SELECTOR, "#instance-body .log-stderr")
    assert stderr and all(line.value_of_css_property("color") for line in stderr)
    cockpit.driver.find_element(By.ID, "instance-close").click()


def test_a_running_reporting_task_is_cancelled_from_its_view(cockpit: Cockpit) -> None:
    cockpit.open()
    instance_id = cockpit.submit("sample", "reporting_task", {"n": "30", "param": "long"})
    cockpit.until(
        lambda: cockpit.ended(instance_id, "InProgress")
        and cockpit.row(instance_id).find_element(By.CSS_SELECTOR, ".pct").text not in ("", "0%"),
        "reporting_task to run",
    )
    cockpit.row(instance_id).click()
    cockpit.until(lambda: cockpit.dialog_open() and "InProgress" in cockpit.dialog_text(), "view")
    cockpit.driver.find_element(By.ID, "instance-cancel").click()
    assert cockpit.driver.find_element(By.ID, "cancel-confirm").is_displayed()
    assert cockpit.client.instance(instance_id)["cancelled"] is False  # nothing before "yes"
    asked = time.monotonic()
    cockpit.driver.find_element(By.ID, "cancel-yes").click()
    cockpit.until(lambda: "its runner stops it" in cockpit.text("instance-note"), "the answer")
    row = cockpit.until(lambda: cockpit.ended(instance_id, "Error"), "the task to end", 30)
    print(f"\ncancelled reporting_task ended {time.monotonic() - asked:.1f} s after the click")
    assert "cancelled" in row.find_element(By.CSS_SELECTOR, ".error-text").text
    assert row.find_element(By.CSS_SELECTOR, ".tag").text == "cancelled"
    stored = cockpit.client.instance(instance_id)
    assert stored["cancelled"] is True
    assert stored["statuses"][-1]["message"] == "the task was cancelled on the platform"
    assert not cockpit.driver.find_element(By.ID, "instance-cancel").is_displayed()
    cockpit.driver.find_element(By.ID, "instance-close").click()


def test_run_again_fills_the_form_with_the_instances_inputs(cockpit: Cockpit) -> None:
    cockpit.open()
    first = cockpit.submit("sample", "double", {"str_in": "xy", "nbr_in": "5"})
    cockpit.until(lambda: cockpit.ended(first, "Completed"), "double to complete")
    cockpit.open_instance(first, "xyxy")
    cockpit.driver.find_element(By.ID, "instance-again").click()
    cockpit.until(lambda: not cockpit.dialog_open(), "the view to close")
    assert cockpit.field("str_in").get_attribute("value") == "xy"
    assert cockpit.field("nbr_in").get_attribute("value") == "5"
    assert cockpit.focused().get_attribute("data-input") == "str_in"
    assert "Filled in with the inputs of sample/double" in cockpit.text("form-note")
    cockpit.driver.find_element(By.ID, "submit-button").click()
    link = cockpit.until(
        lambda: cockpit.driver.find_elements(By.CSS_SELECTOR, "#form-result [data-id]"),
        "the form to say the task was queued",
    )[0]
    again = str(link.get_attribute("data-id"))
    assert again != first
    cockpit.until(lambda: cockpit.ended(again, "Completed"), "the second run to complete")
    outputs = [cockpit.client.instance(i)["statuses"][-1]["outputValues"] for i in (first, again)]
    assert outputs[0] == outputs[1] == {"str_out": "xyxy", "nbr_out": "10"}


def test_an_input_of_the_wrong_type_is_refused_in_the_form(cockpit: Cockpit) -> None:
    cockpit.open()
    before = cockpit.instances("sample", "rectangle")
    cockpit.pick("sample/rectangle")
    assert "Number" in cockpit.driver.find_element(By.ID, "fields").text
    cockpit.fill("width", "wide")
    cockpit.fill("height", "2")
    cockpit.driver.find_element(By.ID, "submit-button").click()
    error = cockpit.until(
        lambda: cockpit.driver.find_element(By.CSS_SELECTOR, '[data-error-for="width"]').text,
        "the width's problem next to its field",
    )
    assert error == "'wide' is not a number (or its text)"
    width = cockpit.driver.find_element(By.CSS_SELECTOR, '#fields [data-input="width"]')
    assert width.get_attribute("aria-invalid") == "true"
    assert cockpit.driver.find_element(By.CSS_SELECTOR, '[data-error-for="height"]').text == ""
    assert cockpit.driver.find_element(By.ID, "form-result").text == ""
    assert cockpit.instances("sample", "rectangle") == before, "the refused task was queued"

    # The same words as the runner's own check: the runner refuses these inputs so.
    catalog = cockpit_api(cockpit.server, "catalog")["tasks"]
    definition = next(d for d in catalog if (d["namespace"], d["name"]) == ("sample", "rectangle"))
    with pytest.raises(TaskRejected, match=re.escape("input.width: 'wide' is not a number")):
        Contracts().task_inputs(route_of(definition), {"width": "wide", "height": "2"})

    # A required input left empty: said on that field too; nothing queued.
    cockpit.fill("width", "3")
    cockpit.driver.find_element(By.CSS_SELECTOR, '#fields [data-input="height"]').clear()
    cockpit.driver.find_element(By.ID, "submit-button").click()
    missing = cockpit.until(
        lambda: cockpit.driver.find_element(By.CSS_SELECTOR, '[data-error-for="height"]').text,
        "the missing height's problem",
    )
    assert missing == "missing 'height'"
    assert cockpit.driver.find_element(By.CSS_SELECTOR, '[data-error-for="width"]').text == ""
    assert cockpit.instances("sample", "rectangle") == before


def test_html_like_task_text_is_shown_as_text(cockpit: Cockpit) -> None:
    cockpit.open()
    driver = cockpit.driver
    driver.execute_script("window.__alerts = []; window.alert = (m) => window.__alerts.push(m);")
    completed = cockpit.submit("untrusted", "markup", {"end": "result"})
    failed = cockpit.submit("untrusted", "markup", {"end": "error"})
    row = cockpit.until(lambda: cockpit.ended(completed, "Completed"), "markup to complete")
    assert row.find_element(By.CSS_SELECTOR, ".chip-value").text == MARKUP
    assert row.find_element(By.CSS_SELECTOR, ".outputs .muted").text == MARKUP
    error_row = cockpit.until(lambda: cockpit.ended(failed, "Error"), "markup to fail")
    assert error_row.find_element(By.CSS_SELECTOR, ".error-text").text == MARKUP

    driver.get(f"{cockpit.server.cockpit_url}#task/{completed}")
    body = cockpit.until(
        lambda: driver.find_element(By.ID, "instance-body").text.count(MARKUP) >= 3
        and driver.find_element(By.ID, "instance-body"),
        "the instance view showing the text",
    )
    assert body.find_elements(By.CSS_SELECTOR, "img") == []
    assert driver.execute_script("return document.querySelectorAll('img[src=x]').length") == 0
    logos = driver.find_elements(By.TAG_NAME, "img")
    assert [str(i.get_attribute("src")).rsplit("/", 1)[-1] for i in logos] == ["favicon.svg"]
    assert driver.execute_script("return window.__alerts || []") == []
    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert.text  # noqa: B018 -- reading it is what raises


def test_off_loopback_the_page_asks_for_the_key_and_keeps_it_out_of_urls(
    tmp_path: Path,
) -> None:
    lacking = browser.missing()
    if lacking:
        unavailable(lacking)
    with (
        ServerForTheNetwork(tmp_path / "scenario.db", port=0, api_key=KEY) as server,
        browser.chromium(tmp_path / "profile") as driver,
    ):
        LocalClient(server.url, KEY).submit("sample", "simple", {"arg": "hi"})
        driver.get(server.cockpit_url)
        page = Cockpit(server, LocalClient(server.url, KEY), driver, NO_RUNNER)
        page.until(lambda: driver.find_element(By.ID, "key-panel").is_displayed(), "the key form")
        assert not driver.find_element(By.ID, "cockpit").is_displayed()

        def give(key: str) -> None:
            field = driver.find_element(By.ID, "api-key")
            field.send_keys(key)
            driver.find_element(By.CSS_SELECTOR, "#key-form button").click()

        give("not-the-key")
        page.until(
            lambda: driver.find_element(By.ID, "key-error").text == "That key was refused.",
            "the wrong key refused",
        )
        give(KEY)
        page.until(lambda: page.live() == "live", "the page to load with the key")
        assert driver.find_element(By.CSS_SELECTOR, "tr[data-state=Queued] strong").text == (
            "simple"
        )
        assert KEY not in driver.current_url and "not-the-key" not in driver.current_url
        stored = driver.execute_script("return sessionStorage.getItem('xc-cockpit-api-key')")
        assert stored == KEY
        assert driver.find_element(By.ID, "forget-key").is_displayed()


WRONG = "Incorrect value '…' for nbr_in, should be integer"
MIXED_GROUPS = {
    "ZeroDivisionError: division by zero": 3,
    WRONG: 3,
    'Task "…" reports a fatal error.': 2,
}


def test_the_failures_of_a_mixed_run_are_grouped_by_message(cockpit: Cockpit) -> None:
    def counts() -> dict[str, int]:
        found = cockpit_api(cockpit.server, "failures")["groups"]
        return {g["message"]: g["count"] for g in found}

    before = counts()
    ids = [cockpit.submit("sample", "zero_division") for _ in range(3)]
    ids += [cockpit.submit("sample", "double", {"nbr_in": v}) for v in ("x", "1.5", "ten")]
    ids += [cockpit.submit("sample", "error_placeholder") for _ in range(2)]
    ids += [cockpit.submit("sample", "double", {"nbr_in": "4"}) for _ in range(2)]
    for instance_id in ids:
        wait_for(
            lambda instance_id=instance_id: (
                cockpit.client.instance(instance_id)["state"] in ("Completed", "Error")
            ),
            60,
            f"{instance_id} to end",
            cockpit.runner,
        )
    after = counts()
    grown = {m: after.get(m, 0) - before.get(m, 0) for m in after}
    assert {m: n for m, n in grown.items() if n} == MIXED_GROUPS

    cockpit.open()
    rows = cockpit.until(
        lambda: cockpit.driver.find_elements(By.CSS_SELECTOR, "#failures-body tbody tr"),
        "the failure groups",
    )
    shown = {r.find_element(By.CSS_SELECTOR, ".failure-message .mono").text: r for r in rows}
    for message, count in after.items():
        assert shown[message].find_element(By.CSS_SELECTOR, "td.num").text == str(count)
    wrong = shown[WRONG]
    assert f"sample/double ({after[WRONG]})" in wrong.text
    example = re.search(r"e\.g\. Incorrect value '(.*)' for nbr_in", wrong.text)
    assert example and example[1] in ("x", "1.5", "ten")  # the one that failed last
    wrong.find_element(By.CSS_SELECTOR, "button").click()
    expected = after[WRONG]
    cockpit.until(
        lambda: cockpit.text("list-count").startswith(f"{expected} of {expected}"),
        "the group's failures listed",
    )
    messages = {r.find_element(By.CSS_SELECTOR, ".error-text").text for r in cockpit.rows()}
    assert messages == {
        f"Incorrect value '{v}' for nbr_in, should be integer" for v in ("x", "1.5", "ten")
    }
    cockpit.driver.find_element(By.ID, "failure-filter-clear").click()


Shot = Callable[[str], None]  # saves the window as docs/cockpit-<name>.png ("": cockpit.png)


@pytest.mark.skipif(not SCREENSHOT, reason="set XC_COCKPIT_SCREENSHOT=PATH (make screenshot)")
def test_screenshot(cockpit: Cockpit, tmp_path: Path) -> None:
    """The pictures of the docs, with tasks in every state over about a minute:
    docs/cockpit.png (and -dark), the page; -instance, a failed task's view with its
    traceback, its log wrapped; -failures, the failures grouped; -sorted, the list sorted
    by duration in a time range, with relative times and an export begun; -bulk, a bulk
    cancel asking for its confirmation; -paused, live updates paused; -phone, the list as
    cards on a phone."""
    failed = run_waves(cockpit)
    path = Path(SCREENSHOT or "")
    path.parent.mkdir(parents=True, exist_ok=True)
    driver = cockpit.driver

    def shot(name: str) -> None:
        target = path.with_name(f"{path.stem}-{name}{path.suffix}") if name else path
        driver.execute_script("document.activeElement.blur()")
        assert driver.save_screenshot(str(target))

    driver.set_window_size(1400, 1250)
    cockpit.open()
    Select(driver.find_element(By.ID, "chart-minutes")).select_by_value("5")
    time.sleep(9)
    shot("")
    Select(driver.find_element(By.ID, "theme")).select_by_value("dark")
    time.sleep(1)
    shot("dark")
    Select(driver.find_element(By.ID, "theme")).select_by_value("auto")
    cockpit.open_instance(failed, "ZeroDivisionError: division by zero")
    driver.find_element(By.ID, "log-wrap").click()
    shot("instance")
    driver.find_element(By.ID, "log-wrap").click()  # as it was
    driver.set_window_size(1400, 1000)
    show_list_tools(cockpit, tmp_path, shot)
    driver.set_window_size(390, 844)
    cockpit.open()
    driver.execute_script("document.getElementById('list-title').scrollIntoView()")
    time.sleep(1)
    shot("phone")
    driver.set_window_size(1400, 1000)


def run_waves(cockpit: Cockpit) -> str:
    """Tasks of every kind over about a minute, some failing; the id of a failed one."""
    waves = [
        ("sample", "double", {"str_in": "ab", "nbr_in": "21"}),
        ("sample", "simple", {"arg": "hello"}),
        ("sample", "rectangle", {"width": "3", "height": "4"}),
        ("sample", "reporting_task", {"n": "3", "param": "demo"}),
        ("numbers", "count_primes", {"limit": "100000"}),
    ]
    failed = ""
    for index in range(10):
        for namespace, task, inputs in waves[: 2 + index % 4]:
            cockpit.submit(namespace, task, inputs)
        if index % 3 == 2:
            failed = cockpit.submit("sample", "zero_division")
        if index % 4 == 1:
            cockpit.submit("sample", "double", {"nbr_in": f"{index}.5"})
        time.sleep(5)
    cockpit.submit("sample", "error_placeholder")
    cockpit.submit("untrusted", "markup", {"end": "result"})
    cockpit.submit("sample", "reporting_task", {"n": "30", "param": "long"})
    cockpit.submit("sample", "reporting_task", {"n": "30", "param": "longer"})
    time.sleep(2)
    for _ in range(6):
        cockpit.submit("sample", "reporting_task", {"n": "20", "param": "queued"})
    return failed


def show_list_tools(cockpit: Cockpit, downloads: Path, shot: Shot) -> None:
    """The failure groups; a sorted, time-ranged list with relative times and an export;
    a bulk cancel's confirmation; live updates paused."""
    driver = cockpit.driver
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    cockpit.open()
    driver.execute_script("document.getElementById('failures').scrollIntoView()")
    shot("failures")
    cockpit.open("?time=ended&range=15m&sort=duration")
    Select(driver.find_element(By.ID, "time-mode")).select_by_value("relative")
    driver.find_element(By.ID, "export-csv").click()
    cockpit.until(lambda: cockpit.text("export-note"), "the export begun")
    driver.execute_script("document.getElementById('list-title').scrollIntoView()")
    shot("sorted")
    Select(driver.find_element(By.ID, "time-mode")).select_by_value("local")
    cockpit.open("?state=Queued")
    cockpit.until(cockpit.rows, "queued tasks")
    driver.find_element(By.ID, "select-page").click()
    driver.find_element(By.ID, "bulk-cancel").click()
    driver.execute_script("document.getElementById('list-title').scrollIntoView()")
    shot("bulk")
    driver.find_element(By.ID, "bulk-no").click()
    driver.find_element(By.ID, "bulk-clear").click()
    cockpit.open()
    driver.find_element(By.ID, "pause").click()
    for _ in range(3):
        cockpit.submit("sample", "simple", {"arg": "while paused"})
    cockpit.until(lambda: re.fullmatch(r"paused: [3-9] changes wait", cockpit.text("live")), "3")
    shot("paused")
    driver.find_element(By.ID, "pause").click()

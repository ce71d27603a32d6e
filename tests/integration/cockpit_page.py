"""The cockpit's page as the browser tests drive it: waiting for what it shows, its form,
its rows, its dialog, the keyboard; and its data read over the API, as any client would."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select

from runner.localserver import LocalServer
from runner.localserver.client import LocalClient


class Log:
    """Where a failure's context comes from: the runner's log, when there is a runner."""

    def log(self) -> str:
        return "(no runner)"


NO_RUNNER: Any = Log()


@dataclass
class Cockpit:
    server: LocalServer
    client: LocalClient
    driver: WebDriver
    runner: Any = NO_RUNNER

    def open(self, suffix: str = "") -> None:
        self.driver.get(self.server.cockpit_url + suffix)
        self.until(lambda: self.live() == "live", "the page to load its data")

    def live(self) -> str | None:
        return self.driver.find_element(By.ID, "live").get_attribute("data-state")

    def until(self, check: Callable[[], Any], what: str, timeout_s: float = 60) -> Any:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                found = check()
            except StaleElementReferenceException:  # a row re-rendered under our feet
                found = None
            if found:
                return found
            if time.monotonic() > deadline:
                page = self.driver.find_element(By.TAG_NAME, "body").text
                raise AssertionError(f"timed out waiting for {what}\n{page}\n{self.runner.log()}")
            time.sleep(0.05)

    def text(self, element_id: str) -> str:
        return str(self.driver.find_element(By.ID, element_id).text)

    def js(self, script: str, *args: Any) -> Any:
        return self.driver.execute_script(script, *args)

    def submit(self, namespace: str, task: str, inputs: dict[str, Any] | None = None) -> str:
        """Queued through the admin API, as another user would."""
        return str(self.client.submit(namespace, task, inputs or {})["id"])

    def rows(self) -> list[WebElement]:
        return self.driver.find_elements(By.CSS_SELECTOR, "#task-rows tr[data-id]")

    def row_ids(self) -> list[str]:
        ids: list[str] = self.js(
            "return [...document.querySelectorAll('#task-rows tr[data-id]')]"
            ".map((r) => r.dataset.id)"
        )
        return ids

    def row(self, instance_id: str) -> WebElement:
        return self.driver.find_element(By.CSS_SELECTOR, f'tr[data-id="{instance_id}"]')

    def ended(self, instance_id: str, state: str) -> WebElement | None:
        """The row once it shows `state`; with a runner, once its log came in too (the row
        is drawn again then, with the runner's duration)."""
        rows = self.driver.find_elements(By.CSS_SELECTOR, f'tr[data-id="{instance_id}"]')
        if not rows or rows[0].get_attribute("data-state") != state:
            return None
        waiting = self.runner is not NO_RUNNER and state in ("Completed", "Error")
        if waiting and rows[0].get_attribute("data-timed") != "true":
            return None
        return rows[0]

    def pick(self, task: str) -> None:
        option = self.driver.find_element(By.CSS_SELECTOR, f'option[data-task="{task}"]')
        Select(self.driver.find_element(By.ID, "task-picker")).select_by_value(
            str(option.get_attribute("value"))
        )
        self.until(lambda: self.field_names() is not None, f"the fields of {task}")

    def field_names(self) -> list[str] | None:
        fields = self.driver.find_elements(By.CSS_SELECTOR, "#fields [data-input]")
        return [str(f.get_attribute("data-input")) for f in fields] or None

    def field(self, name: str) -> WebElement:
        return self.driver.find_element(By.CSS_SELECTOR, f'#fields [data-input="{name}"]')

    def fill(self, name: str, text: str) -> None:
        field = self.field(name)
        field.clear()
        field.send_keys(text)

    def instances(self, namespace: str, task: str) -> int:
        """How many instances of a task the server holds (its own records, not the page's)."""
        found = cockpit_api(self.server, "tasks", namespace=namespace, name=task, limit=1)
        return int(found["total"])

    # -- the instance view -------------------------------------------------------------

    def dialog_open(self) -> bool:
        return bool(self.js("return document.getElementById('instance-view').open"))

    def dialog_text(self) -> str:
        return self.text("instance-body")

    def open_instance(self, instance_id: str, until: str = "") -> str:
        """Opens the instance view by its link; the text of its body once it shows `until`."""
        self.driver.get(f"{self.server.cockpit_url}#task/{instance_id}")
        return str(
            self.until(
                lambda: (
                    self.dialog_open()
                    and until in (body := self.dialog_text())
                    and "Reading it" not in body
                    and body
                ),
                f"the instance view of {instance_id} showing {until!r}",
            )
        )

    # -- the keyboard ------------------------------------------------------------------

    def keys(self, *keys: str) -> None:
        ActionChains(self.driver).send_keys(*keys).perform()

    def focused(self) -> WebElement:
        return self.driver.switch_to.active_element

    def focused_id(self) -> str:
        return str(self.focused().get_attribute("id") or "")


def cockpit_api(server: LocalServer, path: str, **params: Any) -> Any:
    """GET /local/api/cockpit/<path> with the key, as any API client."""
    answer = requests.get(
        f"{server.url}/local/api/cockpit/{path}",
        params=params,
        headers={"Authorization": f"bearer {server.api_key}"},
        timeout=10,
    )
    answer.raise_for_status()
    return answer.json()

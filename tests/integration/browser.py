"""A real headless browser for the cockpit's tests: Debian's chromium, driven by selenium;
axe-core to check the page's accessibility; and the local server as it checks requests
when it listens beyond loopback.

selenium is given both the browser's and the driver's paths, so it never tries to
download either (no registry of browsers can be reached here). `make browser`
installs them (scripts/ensure-chromium.sh) and axe-core (npm, into build/axe, which
git ignores); a test installs axe-core itself when it is missing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from socket import socket
from typing import Any

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver

from runner.localserver import LocalServer
from runner.localserver.api import Api
from runner.localserver.gate import Gate
from runner.localserver.http import LONG_POLLS, MAX_BODY_BYTES, THREADS
from runner.localserver.store import Store
from runner.localserver.transport import Transport
from runner.localserver.wsgi import Application
from tests.conftest import REPO, unavailable

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1400,1000",
)


AXE_VERSION = "4.10.3"
AXE_DIR = REPO / "build" / "axe"
AXE_SCRIPT = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
# What axe reports as serious or critical fails a test; moderate and minor are printed.
AXE_FAILING = ("serious", "critical")


def missing() -> str | None:
    """What is missing to run a browser here, or None."""
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not path.is_file():
            return f"no {path} (Debian package {package}; `make browser` installs it)"
    return None


@contextmanager
def chromium(profile: Path) -> Iterator[WebDriver]:
    """A headless Chromium with a fresh profile in `profile`, quit at the end."""
    options = Options()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        driver.set_page_load_timeout(30)
        driver.set_script_timeout(30)
        yield driver
    finally:
        driver.quit()


class ServerForTheNetwork(LocalServer):
    """The local server as it checks requests when it listens on a network address
    (192.0.2.7, a documentation address), though bound to 127.0.0.1 for the test."""

    def _transport_on(self, sock: socket, store: Store) -> Transport:
        api = Api(store, self._contracts, max_waiters=LONG_POLLS)
        app = Application(api, Gate(self.api_key, "192.0.2.7"), MAX_BODY_BYTES)
        return Transport(app, sock, app.screen, threads=THREADS, max_body_bytes=MAX_BODY_BYTES)


def errors(driver: WebDriver) -> list[str]:
    """The page's errors since last asked (uncaught exceptions, failed scripts), but not
    the answers in error the page expects (a 400 for a refused form, the outage's)."""
    return [
        str(e["message"])
        for e in driver.get_log("browser")
        if e["level"] == "SEVERE" and "Failed to load resource" not in str(e["message"])
    ]


def axe_source() -> str:
    """axe-core's script, installed from npm into build/axe the first time."""
    if not AXE_SCRIPT.is_file():
        npm = shutil.which("npm")
        if npm is None:
            unavailable("no npm to install axe-core (`make browser` installs it)")
        subprocess.run(
            [str(npm), "install", "--prefix", str(AXE_DIR), "--no-audit", "--no-fund",
             "--save-exact", f"axe-core@{AXE_VERSION}"],
            check=True, capture_output=True, timeout=300,
        )
    return AXE_SCRIPT.read_text()


def axe(
    driver: WebDriver, context: str = "document"
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """axe-core's serious and critical violations on the page as it is now (WCAG 2.x A and
    AA rules and best practices), and how many of each impact it found."""
    if not driver.execute_script("return typeof window.axe === 'object'"):
        driver.execute_script(axe_source())
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        f"axe.run({context}, " + """{resultTypes: ["violations"]})
          .then((r) => done(JSON.stringify(r.violations)))
          .catch((e) => done(JSON.stringify({error: String(e)})));"""
    )
    violations = json.loads(result)
    if isinstance(violations, dict):
        raise AssertionError(f"axe failed: {violations['error']}")
    impacts: dict[str, int] = {}
    for violation in violations:
        impacts[violation["impact"]] = impacts.get(violation["impact"], 0) + len(violation["nodes"])
    failing = [v for v in violations if v["impact"] in AXE_FAILING]
    return failing, impacts


def describe(violations: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"{v['impact']} {v['id']}: {v['help']} ({len(v['nodes'])}): "
        + "; ".join(str(n["target"]) for n in v["nodes"][:5])
        for v in violations
    )


# Elements that reach past the viewport's right edge and are not inside a box that
# clips them (a scrolling box within the viewport is fine: it scrolls, the page does not).
OVERFLOWING = """
const width = document.documentElement.clientWidth;
const out = [];
for (const node of document.querySelectorAll("body *")) {
  const box = node.getBoundingClientRect();
  if (!box.width || !box.height || box.right <= width + 1) continue;
  let clipped = false;
  for (let up = node.parentElement; up && up !== document.body; up = up.parentElement) {
    const style = getComputedStyle(up);
    if (style.overflowX !== "visible" && up.getBoundingClientRect().right <= width + 1) {
      clipped = true;
      break;
    }
  }
  const name = `${node.tagName.toLowerCase()}#${node.id}.${node.className}`;
  if (!clipped) out.push(`${name} right=${Math.round(box.right)}`);
}
return {width, scrollWidth: document.documentElement.scrollWidth, out: out.slice(0, 20)};
"""


def overflowing(driver: WebDriver) -> dict[str, Any]:
    found: dict[str, Any] = driver.execute_script(OVERFLOWING)
    return found

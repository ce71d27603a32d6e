"""A real headless browser for the cockpit's tests: Debian's chromium, driven by selenium;
and the local server as it checks requests when it listens beyond loopback.

selenium is given both the browser's and the driver's paths, so it never tries to
download either (no registry of browsers can be reached here). `make browser`
installs them (scripts/ensure-chromium.sh).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from socket import socket

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

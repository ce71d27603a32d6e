"""The operations listener on a real socket: where it listens, a taken port, a clean stop."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator

import pytest
import requests

from runner.core.errors import ConfigError
from runner.ops.http import OpsApp, OpsListener
from runner.ops.metrics import Metrics
from runner.ops.probes import Identity, Probes

pytestmark = pytest.mark.integration


class View:
    def health(self) -> str | None:
        return None

    def readiness(self) -> str | None:
        return "the catalog is not published yet"

    def outbox_pending(self) -> int:
        return 0

    def served_images(self) -> list[dict[str, str | None]]:
        return [{"image": "img", "imageId": "sha256:1", "digest": None}]


def listener(port: int = 0, host: str = "127.0.0.1") -> OpsListener:
    metrics = Metrics([("sample", "double")], images=["img"], slots=2)
    metrics.watch(
        outbox_pending=lambda: 0,
        engine_up=lambda: True,
        ready=lambda: False,
        image_up=lambda image: True,
    )
    probes = Probes(View(), metrics, Identity("r", "0", ("img",), 2))
    return OpsListener(OpsApp(probes, metrics.registry), host, port)


@pytest.fixture
def started() -> Iterator[OpsListener]:
    ops = listener()
    ops.start()
    yield ops
    ops.stop()


def ops_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name == "ops-http" or "waitress" in t.name]


def test_it_answers_on_the_address_it_was_given(started: OpsListener) -> None:
    assert started.url.startswith("http://127.0.0.1:")
    with requests.Session() as session:
        health = session.get(f"{started.url}/healthz", timeout=5)
        ready = session.get(f"{started.url}/readyz", timeout=5)
        metrics = session.get(f"{started.url}/metrics", timeout=5)
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert ready.status_code == 503
    assert ready.json() == {"status": "not ready", "reason": "the catalog is not published yet"}
    assert "xc_runner_slots 2.0" in metrics.text
    assert metrics.headers["Content-Type"].startswith("text/plain")


def test_a_taken_port_is_a_config_error_naming_it() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError) as raised:
            listener(port).start()
    message = str(raised.value)
    assert f"cannot listen on 127.0.0.1:{port}" in message
    assert "XC_RUNNER_HTTP_ADDR" in message and "Address already in use" in message


def test_a_host_that_cannot_be_resolved_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=re.escape("cannot listen on no-such-host.invalid:9180")):
        listener(9180, "no-such-host.invalid").start()


def test_stop_closes_the_port_open_connections_and_the_threads() -> None:
    before = ops_threads()
    ops = listener()
    ops.start()
    port = int(ops.url.rsplit(":", 1)[1])
    with requests.Session() as session:  # a kept-alive connection stays open
        assert session.get(f"{ops.url}/status", timeout=5).json()["slots"] == 2
        ops.stop()
        with pytest.raises(requests.ConnectionError):
            session.get(f"{ops.url}/status", timeout=5)
    with socket.socket() as probe, pytest.raises(ConnectionRefusedError):
        probe.connect(("127.0.0.1", port))
    assert ops_threads() == before
    ops.stop()  # a second stop does nothing
